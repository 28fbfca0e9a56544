"""A guided tour of the typed queries, one service at a time.

Everything runs in one transaction that is rolled back at the end, so the
demo leaves the database as it found it and can run again and again.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel

from .. import migrate, pool, queries
from ..errors import DatabaseError
from ..models import AnalyticsEventIn

__all__ = ["add_arguments", "run", "run_demo"]


def _brief(value: Any) -> str:
    if isinstance(value, uuid.UUID):
        return f"{str(value)[:8]}…"
    if isinstance(value, datetime):
        return value.strftime("%H:%M:%S")
    if isinstance(value, StrEnum):
        return value.value
    return repr(value)


def _show(call: str, result: Any) -> None:
    if isinstance(result, BaseModel):
        shown = [(k, v) for k, v in result.model_dump().items() if v is not None][:5]
        fields = ", ".join(f"{k}={_brief(v)}" for k, v in shown)
        text = f"{type(result).__name__}({fields}, …)"
    elif isinstance(result, list):
        kinds = sorted({type(r).__name__ for r in result}) or ["-"]
        text = f"list of {len(result)} {'/'.join(kinds)}"
    else:
        text = repr(result)
    print(f"  {call:<54} -> {text}")


def _refused(call: str, conn: Any, fn: Any, **params: Any) -> None:
    try:
        with pool.transaction(conn):  # a savepoint: the tour goes on
            fn(conn, **params)
    except DatabaseError as exc:
        detail = f" ({exc.constraint})" if exc.constraint else ""
        print(f"  {call:<54} -> {type(exc).__name__}{detail}")
    else:  # pragma: no cover - the schema refuses it
        raise AssertionError(f"{call} was not refused")


def _auth(conn: Any) -> Any:
    print("auth")
    a = queries.auth
    email = f"ada-{uuid.uuid4().hex[:6]}@example.com"
    user = a.create_user(
        conn, email=email, password_hash="argon2id$...", name="Ada", role="STUDENT"
    )
    _show("create_user(email, password_hash, name, role)", user)
    _show("get_user_by_email(email=EMAIL.upper())", a.get_user_by_email(conn, email=email.upper()))
    _refused(
        "create_user(same email, other case)",
        conn,
        a.create_user,
        email=email.title(),
        password_hash="x",
        name="Eve",
        role="STUDENT",
    )
    creds = a.get_credentials_by_email(conn, email=email)
    _show("get_credentials_by_email(email)", creds)
    soon = datetime.now(UTC) + timedelta(hours=1)
    a.create_session(conn, user_id=user.id, token_hash="sha256:session", expires_at=soon)
    _show("get_active_session(token_hash)", a.get_active_session(conn, token_hash="sha256:session"))
    a.create_password_reset(conn, user_id=user.id, token_hash="sha256:reset", expires_at=soon)
    _show(
        "consume_password_reset(token_hash)",
        a.consume_password_reset(conn, token_hash="sha256:reset"),
    )
    _show(
        "consume_password_reset(token_hash) again",
        a.consume_password_reset(conn, token_hash="sha256:reset"),
    )
    return user


def _learning(conn: Any, user_id: uuid.UUID) -> None:
    print("learning")
    q = queries.learning
    lang = q.create_language(conn, slug=f"python-{uuid.uuid4().hex[:6]}", name="Python")
    _show("create_language(slug, name)", lang)
    module = q.create_module(
        conn, language_id=lang.id, slug="basics", title="Basics", position=0, difficulty="BEGINNER"
    )
    _show("create_module(...)", module)
    first = q.enroll_user(conn, user_id=user_id, language_id=lang.id)
    again = q.enroll_user(conn, user_id=user_id, language_id=lang.id)
    _show("enroll_user twice: same enrollment?", first.id == again.id)
    quiz = q.create_quiz(conn, module_id=module.id, title="Warm-up", passing_score=2)
    attempt = q.start_quiz_attempt(conn, user_id=user_id, quiz_id=quiz.id)
    for position, points in enumerate((1, 2)):
        question = q.create_question(
            conn, quiz_id=quiz.id, prompt=f"Q{position}", position=position, points=points
        )
        right = q.create_option(conn, question_id=question.id, text="right", is_correct=True)
        q.create_option(conn, question_id=question.id, text="wrong", is_correct=False)
        q.record_answer(conn, attempt_id=attempt.id, question_id=question.id, option_id=right.id)
    _show(
        "finish_quiz_attempt(id): score computed in SQL", q.finish_quiz_attempt(conn, id=attempt.id)
    )


def _payments(conn: Any, user_id: uuid.UUID) -> None:
    print("payments")
    p = queries.payments
    sub = p.create_subscription(conn, user_id=user_id, plan="PRO", status="ACTIVE")
    _show("create_subscription(user_id, plan, status)", sub)
    _show("get_active_subscription(user_id)", p.get_active_subscription(conn, user_id=user_id))
    webhook: dict[str, Any] = {
        "user_id": user_id,
        "subscription_id": sub.id,
        "amount_minor": 1999,
        "currency": "USD",
        "status": "SUCCEEDED",
        "provider_payment_id": f"pi_{uuid.uuid4().hex}",
    }
    first = p.record_transaction(conn, **webhook)
    replay = p.record_transaction(conn, **webhook)
    _show("record_transaction twice (webhook replay): same row?", first.id == replay.id)
    _refused(
        "record_transaction(amount_minor=-1)",
        conn,
        p.record_transaction,
        **{**webhook, "amount_minor": -1, "provider_payment_id": "pi_negative"},
    )


def _notifications(conn: Any, user_id: uuid.UUID) -> None:
    print("notifications")
    n = queries.notifications
    for title in ("Welcome", "Quiz passed"):
        n.create_notification(conn, user_id=user_id, type="info", title=title, body="...")
    _show(
        "list_unread_notifications(user_id, limit=10)",
        n.list_unread_notifications(conn, user_id=user_id, limit=10),
    )
    _show("mark_all_read(user_id)", n.mark_all_read(conn, user_id=user_id))


def _events(count: int, user_id: uuid.UUID) -> Iterator[AnalyticsEventIn]:
    for i in range(count):
        yield AnalyticsEventIn(name="page_view", user_id=user_id, properties={"page": i % 7})


def _activity(conn: Any, user_id: uuid.UUID) -> None:
    print("activity")
    act = queries.activity
    _show(
        "record_activity(user_id, type, entity_type, entity_id)",
        act.record_activity(
            conn, user_id=user_id, type="quiz_passed", entity_type=None, entity_id=None
        ),
    )
    _show(
        "list_user_activity(user_id, limit=5)",
        act.list_user_activity(conn, user_id=user_id, limit=5),
    )
    _show(
        "record_events(generator of 10,000) via COPY",
        act.record_events(conn, events=_events(10_000, user_id)),
    )


def run_demo(url: str) -> None:
    """Tour every service's queries on *url*, then roll everything back."""
    pool.configure(url, min_size=0, max_size=1)
    try:
        with pool.connection() as conn:
            version = conn.info.server_version
            major, minor = divmod(version, 10000)
            print(f"PostgreSQL {major}.{minor}; one transaction, rolled back at the end\n")
            user = _auth(conn)
            _learning(conn, user.id)
            _payments(conn, user.id)
            _notifications(conn, user.id)
            _activity(conn, user.id)
            conn.rollback()
        print("\nrolled back: the database is as it was")
    finally:
        pool.close()
    print(NEXT_STEPS)


NEXT_STEPS = """
Next (with the same --url, if you gave one):
  codezest-db seed      fill the 30 tables with realistic data (pip install 'codezest-db[seed]')
  codezest-db studio    browse them in a local web page (pip install 'codezest-db[studio]')
  codezest-db shell     psql on the same database
  In a service:  from codezest_db import queries; queries.auth.get_user_by_email(email=...)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``codezest-db demo`` takes only ``--url`` (default: the embedded database)."""


def run(args: argparse.Namespace) -> None:
    """Migrate the development database, then tour it."""
    from .scratch import development_database

    url = development_database(args.url)
    print(migrate.up(url).strip() or "migrations: up to date")
    run_demo(url)
