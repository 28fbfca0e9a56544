"""Every factory of the test kit makes a valid row, with its parents, on both twins."""

from __future__ import annotations

import asyncio
import inspect
import runpy
import typing
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from pydantic import BaseModel

from codezest_db import errors, models
from codezest_db.enums import PaymentMethodType, ProgressStatus, SubmissionStatus
from codezest_db.testing import _fields, factories
from codezest_db.testing.factories import (
    make_material_progress,
    make_mcq_answer,
    make_mcq_option,
    make_payment_method,
    make_user,
)
from tests.test_schema import INTERNAL

Conn = psycopg.Connection[Any]
AsyncConn = psycopg.AsyncConnection[Any]
REPO = Path(__file__).resolve().parent.parent

# (factory suffix, model, table): all 30 tables of the schema.
TABLES = [
    ("user", models.User, "auth.users"),
    ("user_profile", models.UserProfile, "auth.user_profiles"),
    ("session", models.Session, "auth.sessions"),
    ("oauth_account", models.OAuthAccount, "auth.oauth_accounts"),
    ("password_reset", models.PasswordReset, "auth.password_resets"),
    ("email_verification", models.EmailVerification, "auth.email_verifications"),
    ("programming_language", models.ProgrammingLanguage, "learning.programming_languages"),
    ("module", models.Module, "learning.modules"),
    ("material", models.Material, "learning.materials"),
    ("assignment", models.Assignment, "learning.assignments"),
    ("mcq_quiz", models.MCQQuiz, "learning.mcq_quizzes"),
    ("mcq_question", models.MCQQuestion, "learning.mcq_questions"),
    ("mcq_option", models.MCQOption, "learning.mcq_options"),
    ("language_enrollment", models.LanguageEnrollment, "learning.language_enrollments"),
    ("module_progress", models.ModuleProgress, "learning.module_progress"),
    ("material_progress", models.MaterialProgress, "learning.material_progress"),
    ("assignment_submission", models.AssignmentSubmission, "learning.assignment_submissions"),
    ("mcq_attempt", models.MCQAttempt, "learning.mcq_attempts"),
    ("mcq_answer", models.MCQAnswer, "learning.mcq_answers"),
    ("assignment_analysis", models.AssignmentAnalysis, "learning.assignment_analyses"),
    ("quiz_analysis", models.QuizAnalysis, "learning.quiz_analyses"),
    ("subscription", models.Subscription, "payments.subscriptions"),
    ("transaction", models.Transaction, "payments.transactions"),
    ("invoice", models.Invoice, "payments.invoices"),
    ("payment_method", models.PaymentMethod, "payments.payment_methods"),
    ("notification", models.Notification, "notifications.notifications"),
    (
        "notification_preference",
        models.NotificationPreference,
        "notifications.notification_preferences",
    ),
    ("email_log", models.EmailLog, "notifications.email_logs"),
    ("user_activity", models.UserActivity, "activity.user_activities"),
    ("analytics_event", models.AnalyticsEvent, "activity.analytics_events"),
]
IDS = [name for name, _, _ in TABLES]
LONG_AGO = datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


def stored(conn: Conn, table: str, id: uuid.UUID) -> dict[str, Any]:
    """The row as the database has it, by id."""
    schema, name = table.split(".")
    with conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(
            psycopg.sql.SQL("select * from {} where id = %s").format(
                psycopg.sql.Identifier(schema, name)
            ),
            (id,),
        )
        row = cur.fetchone()
    assert row is not None, f"no {table} row {id}"
    return row


def test_there_is_a_factory_for_every_table(conn: Conn) -> None:
    tables = conn.execute(
        "select n.nspname || '.' || c.relname from pg_class c"
        " join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname in ('auth', 'learning', 'payments', 'notifications', 'activity')"
        " and c.relkind in ('r', 'p') and not c.relispartition"
    ).fetchall()
    # The rollups are derived data, kept by triggers and jobs, and the per-user
    # marks are written by the queries that sign out or mark read: no factory makes them.
    derived = INTERNAL
    assert sorted({t for (t,) in tables} - derived) == sorted(table for _, _, table in TABLES)
    made = {name for name in factories.__all__ if name.startswith("make_")}
    assert made == {f"make_{name}" for name in IDS}
    assert {n for n in factories.__all__ if n.startswith("amake_")} == {"a" + n for n in made}


@pytest.mark.parametrize("name", IDS)
def test_the_twins_are_alike_and_documented_where_they_are_imported(name: str) -> None:
    make, amake = getattr(factories, f"make_{name}"), getattr(factories, f"amake_{name}")
    assert inspect.iscoroutinefunction(amake) and not inspect.iscoroutinefunction(make)
    assert make.__doc__ and make.__doc__ == amake.__doc__
    sync, asynchronous = inspect.signature(make), inspect.signature(amake)
    assert [(p.name, p.kind) for p in sync.parameters.values()] == [
        ("conn", inspect.Parameter.POSITIONAL_ONLY),
        ("fields", inspect.Parameter.VAR_KEYWORD),
    ]
    assert sync.parameters["fields"] == asynchronous.parameters["fields"]
    assert sync.return_annotation == asynchronous.return_annotation
    hints = typing.get_type_hints(make), typing.get_type_hints(amake)
    assert (hints[0]["conn"], hints[1]["conn"]) == (psycopg.Connection[Any], AsyncConn)
    for made in (make, amake):
        assert made.__module__ == "codezest_db.testing.factories"
        assert made.__qualname__ == made.__name__


def test_the_sync_twins_are_generated_from_the_asyncio_source() -> None:
    pytest.importorskip("ast_comments")  # the [dev] extra
    tool = runpy.run_path(str(REPO / "tools" / "async_to_sync.py"))
    for source in ("_factory_async.py", "_factories_async.py"):
        (twin,) = [t for t in tool["TWINS"] if t.source == f"codezest_db/testing/{source}"]
        assert (REPO / twin.target).read_text(encoding="utf-8") == tool["generate"](twin), (
            f"{twin.target} is stale: run python tools/async_to_sync.py"
        )


@pytest.mark.parametrize(("name", "model", "table"), TABLES, ids=IDS)
def test_the_typed_fields_are_the_models_columns(
    name: str, model: type[BaseModel], table: str
) -> None:
    fields = getattr(_fields, f"{model.__name__}Fields")
    hidden = {"password_hash"} if model is models.User else set()
    assert set(fields.__optional_keys__) == set(model.model_fields) | hidden
    assert not fields.__required_keys__


@pytest.mark.parametrize(("name", "model", "table"), TABLES, ids=IDS)
def test_defaults_make_a_valid_row(
    conn: Conn, name: str, model: type[BaseModel], table: str
) -> None:
    make: Callable[..., BaseModel] = getattr(factories, f"make_{name}")
    row = make(conn)
    assert type(row) is model
    in_db = stored(conn, table, row.id)  # type: ignore[attr-defined]
    for field, value in row.model_dump().items():
        assert in_db[field] == value, field
    assert make(conn).id != row.id  # a second one does not collide with the first


@pytest.mark.parametrize(("name", "model", "table"), TABLES, ids=IDS)
def test_any_field_can_be_overridden(
    conn: Conn, name: str, model: type[BaseModel], table: str
) -> None:
    """created_at is no query's parameter: the factory inserts the row itself."""
    make: Callable[..., BaseModel] = getattr(factories, f"make_{name}")
    chosen = uuid.uuid4()
    row = make(conn, id=chosen, created_at=LONG_AGO)
    assert type(row) is model
    assert row.id == chosen and row.created_at == LONG_AGO  # type: ignore[attr-defined]
    assert stored(conn, table, chosen)["created_at"] == LONG_AGO


@pytest.mark.parametrize(("name", "model", "table"), TABLES, ids=IDS)
def test_the_async_twins(database_url: str, name: str, model: type[BaseModel], table: str) -> None:
    make: Callable[..., Any] = getattr(factories, f"amake_{name}")

    async def main() -> tuple[BaseModel, BaseModel]:
        async with await psycopg.AsyncConnection.connect(database_url) as aconn:
            row = await make(aconn)
            again = await make(aconn, created_at=LONG_AGO)
            await aconn.rollback()
            return row, again

    row, again = asyncio.run(main())
    assert type(row) is model and type(again) is model
    assert again.created_at == LONG_AGO  # type: ignore[attr-defined]


def test_a_material_progress_makes_its_material_module_language_and_user(conn: Conn) -> None:
    progress = make_material_progress(conn)
    assert progress.status is ProgressStatus.IN_PROGRESS
    material = stored(conn, "learning.materials", progress.material_id)
    module = stored(conn, "learning.modules", material["module_id"])
    assert stored(conn, "learning.programming_languages", module["language_id"])
    assert stored(conn, "auth.users", progress.user_id)["deleted_at"] is None


def test_given_parents_are_used_not_made(conn: Conn) -> None:
    ada = make_user(conn, name="Ada", email="ada@example.com")
    before = conn.execute("select count(*) from auth.users").fetchone()
    progress = make_material_progress(conn, user_id=ada.id, status=ProgressStatus.COMPLETED)
    assert progress.user_id == ada.id and progress.status is ProgressStatus.COMPLETED
    assert conn.execute("select count(*) from auth.users").fetchone() == before


def test_an_answer_picks_a_question_of_its_quiz_and_an_option_of_that_question(
    conn: Conn,
) -> None:
    answer = make_mcq_answer(conn)
    quiz = conn.execute(
        "select a.quiz_id = q.quiz_id from learning.mcq_attempts a, learning.mcq_questions q "
        "where a.id = %s and q.id = %s",
        (answer.attempt_id, answer.question_id),
    ).fetchone()
    assert quiz == (True,)
    assert stored(conn, "learning.mcq_options", answer.option_id)["question_id"] == (
        answer.question_id
    )
    option = make_mcq_option(conn, is_correct=False)
    chosen = make_mcq_answer(conn, option_id=option.id)  # its question is looked up
    assert chosen.question_id == option.question_id
    other_quiz = make_mcq_option(conn)
    with pytest.raises(errors.InvalidParameters, match="belong together"):
        make_mcq_answer(conn, attempt_id=answer.attempt_id, option_id=other_quiz.id)


def test_a_field_that_is_no_column_is_refused_before_anything_is_sent(conn: Conn) -> None:
    with pytest.raises(errors.InvalidParameters, match="'nmae'") as caught:
        make_user(conn, nmae="Ada")
    assert "name" in str(caught.value)  # the columns are listed
    assert isinstance(caught.value, ValueError)
    assert conn.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS  # still usable


def test_what_the_database_refuses_raises_the_package_errors(conn: Conn) -> None:
    make_user(conn, email="twice@example.com")
    conn.commit()  # kept by the rollbacks below (they go back to here)
    with pytest.raises(errors.AlreadyExists):
        make_user(conn, email="TWICE@example.com")  # through create_user
    conn.rollback()
    with pytest.raises(errors.AlreadyExists):
        make_user(conn, email="twice@example.com", created_at=LONG_AGO)  # a plain insert
    conn.rollback()
    card = make_payment_method(conn, is_default=True)
    conn.commit()
    with pytest.raises(errors.AlreadyExists):  # one default per user, by the database
        # brand is no parameter of add_payment_method (which would demote the old default)
        make_payment_method(conn, user_id=card.user_id, is_default=True, brand="visa")
    conn.rollback()
    with pytest.raises(errors.ConstraintViolation):
        make_payment_method(conn, type=PaymentMethodType.CARD, last4="42")


def test_overrides_reach_the_row(conn: Conn) -> None:
    submission = factories.make_assignment_submission(
        conn, status=SubmissionStatus.PASSED, score=10, feedback="Well done"
    )
    assert (submission.status, submission.score, submission.feedback) == (
        SubmissionStatus.PASSED,
        10,
        "Well done",
    )
    assignment = factories.make_assignment(conn, test_cases=[{"input": "3", "output": "Fizz"}])
    assert assignment.test_cases == [{"input": "3", "output": "Fizz"}]  # jsonb, not an array
    invoice = factories.make_invoice(conn)
    assert invoice.line_items and invoice.currency == "USD"


TYPED_USE = """
from typing import Any

import psycopg

from codezest_db import models
from codezest_db.enums import Role
from codezest_db.testing.factories import amake_material_progress, make_user


def right(conn: psycopg.Connection[Any]) -> models.User:
    return make_user(conn, name="Ada", role=Role.ADMIN, password_hash=None)


async def right_async(aconn: psycopg.AsyncConnection[Any]) -> models.MaterialProgress:
    return await amake_material_progress(aconn, status="COMPLETED")


def wrong(conn: psycopg.Connection[Any]) -> None:
    make_user(conn, nmae="Ada")  # error: Unexpected keyword argument "nmae"
    make_user(conn, role="ROOT")  # error: Argument "role"
    progress: models.User = make_material_progress(conn)  # error: Name "make_material_progress"
"""


def test_mypy_checks_the_fields_and_knows_the_models(tmp_path: Path) -> None:
    from mypy import api as mypy_api

    source = tmp_path / "use_factories.py"
    source.write_text(TYPED_USE)
    stdout, stderr, _ = mypy_api.run(
        [
            "--config-file",
            str(Path(__file__).resolve().parent.parent / "pyproject.toml"),
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            str(source),
        ]
    )
    assert not stderr, stderr
    found = {int(line.split(":")[1]): line for line in stdout.splitlines() if ": error:" in line}
    lines = TYPED_USE.splitlines()
    expected = {
        n: line.split("# error: ")[1] for n, line in enumerate(lines, 1) if "# error:" in line
    }
    assert sorted(found) == sorted(expected), stdout
    for number, text in expected.items():
        assert text in found[number], found[number]
