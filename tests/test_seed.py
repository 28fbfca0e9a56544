"""codezest-db seed: every table filled, the rules hold, the same seed gives the same rows."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import psycopg
import pytest

from codezest_db import cli, migrate
from codezest_db.errors import ConfigurationError
from codezest_db.testing import TestServer
from codezest_db.tools.seed.fill import seed
from codezest_db.tools.seed.tables import COLUMNS, TABLES
from tests.test_schema import INTERNAL

USERS = 60
TODAY = "2026-06-01"


@pytest.fixture
def fresh_database(test_server: TestServer) -> Iterator[Callable[[], str]]:
    """Make fresh migrated databases; all dropped after the test."""
    made: list[str] = []

    def make() -> str:
        url = test_server.create_database("codezest_seed")
        made.append(url)
        migrate.up(url)
        return url

    yield make
    for url in made:
        test_server.drop_database(url)


def _count(conn: psycopg.Connection[Any], table: str) -> int:
    row = conn.execute(f"select count(*) from {table}").fetchone()
    assert row is not None
    return int(row[0])


def _rows(url: str) -> dict[str, list[tuple[Any, ...]]]:
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                f"select {', '.join(COLUMNS[table])} from {table} order by id"
            ).fetchall()
            for table in TABLES
        }


def test_cli_fills_all_30_tables(
    fresh_database: Callable[[], str], capsys: pytest.CaptureFixture[str]
) -> None:
    url = fresh_database()
    assert cli.main(["seed", "--url", url, "--users", str(USERS), "--today", TODAY]) == 0
    out, err = capsys.readouterr()
    assert "rows/s" in out and f"{USERS}/{USERS}" in err  # the summary, and the progress bar
    assert len(TABLES) == 30
    with psycopg.connect(url) as conn:
        empty = [table for table in TABLES if _count(conn, table) == 0]
        assert empty == []
        assert _count(conn, "auth.users") == USERS
        # Every table of the five schemas is one seed knows about.
        # (Partitions are part of their table; event_counts is kept by triggers.)
        listed = conn.execute(
            "select schemaname || '.' || tablename from pg_tables where schemaname in"
            " ('auth', 'learning', 'payments', 'notifications', 'activity')"
            " and not (schemaname || '.' || tablename)::regclass::oid in"
            " (select inhrelid from pg_inherits)"
        ).fetchall()
        assert _count(conn, "activity.event_counts") > 0
    assert sorted(r[0] for r in listed) == sorted([*TABLES, *INTERNAL])


def test_same_seed_same_rows_other_seed_other_rows(fresh_database: Callable[[], str]) -> None:
    first, second, third = fresh_database(), fresh_database(), fresh_database()
    day = date.fromisoformat(TODAY)
    seed(first, users=25, random_seed=11, today=day)
    seed(second, users=25, random_seed=11, today=day)
    seed(third, users=25, random_seed=12, today=day)
    a, b, c = _rows(first), _rows(second), _rows(third)
    assert a == b
    assert a["auth.users"] != c["auth.users"]


def test_the_schema_rules_hold(fresh_database: Callable[[], str]) -> None:
    """What the constraints cannot say alone: realistic shapes a service relies on."""
    url = fresh_database()
    seed(url, users=USERS, random_seed=3)
    checks = {
        # at most one default payment method per user, and every payer has one
        "users with methods but no default": """
            select count(*) from (select user_id from payments.payment_methods
            group by user_id having not bool_or(is_default)) s""",
        # quiz scores are what the answers say (the finish_quiz_attempt rule)
        "attempts whose score is not their correct answers": """
            select count(*) from learning.mcq_attempts a
             where a.finished_at is not null and a.score <> (
               select coalesce(sum(q.points) filter (where o.is_correct), 0)
                 from learning.mcq_answers x
                 join learning.mcq_questions q on q.id = x.question_id
                 join learning.mcq_options o on o.id = x.option_id
                where x.attempt_id = a.id)""",
        "passed flags that disagree with the passing score": """
            select count(*) from learning.mcq_attempts a join learning.mcq_quizzes z
              on z.id = a.quiz_id where a.passed <> (a.score >= z.passing_score)""",
        # cross-schema user ids name real users
        "subscriptions of unknown users": """
            select count(*) from payments.subscriptions s
             where not exists (select from auth.users u where u.id = s.user_id)""",
        "activities of unknown users": """
            select count(*) from activity.user_activities s
             where not exists (select from auth.users u where u.id = s.user_id)""",
        # enrollments only in published, live languages
        "enrollments in hidden languages": """
            select count(*) from learning.language_enrollments e
              join learning.programming_languages l on l.id = e.language_id
             where not l.is_published or l.deleted_at is not null""",
        "graded submissions without a score": """
            select count(*) from learning.assignment_submissions
             where status in ('PASSED', 'FAILED') and score is null""",
        "OAuth-only users without an OAuth account": """
            select count(*) from auth.users u where u.password_hash is null
               and not exists (select from auth.oauth_accounts o where o.user_id = u.id)""",
        "rows updated before they were created": """
            select count(*) from auth.users where updated_at < created_at""",
    }
    with psycopg.connect(url) as conn:
        broken = {name: conn.execute(q).fetchone() for name, q in checks.items()}
        assert {name: row for name, row in broken.items() if row != (0,)} == {}
        # The partial unique indexes and checks were enforced by the COPY itself;
        # the enums carry every value they are seeded with.
        statuses = {r[0] for r in conn.execute("select status from payments.transactions")}
    assert {"SUCCEEDED", "FAILED"} <= statuses


def test_refuses_a_filled_database_unless_truncate(fresh_database: Callable[[], str]) -> None:
    url = fresh_database()
    seed(url, users=5, random_seed=1)
    with pytest.raises(ConfigurationError, match="--truncate"):
        seed(url, users=5, random_seed=1)
    counts = seed(url, users=8, random_seed=2, truncate=True)
    with psycopg.connect(url) as conn:
        assert _count(conn, "auth.users") == counts["auth.users"] == 8


def test_cli_rejects_a_bad_size(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["seed", "--users", "many"])
    assert exit_.value.code == 2
    assert "expected a whole number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "blocked", "extra"),
    [("seed", "faker", "[seed]"), ("studio", "sqladmin", "[studio]")],
)
def test_a_missing_extra_is_named(command: str, blocked: str, extra: str) -> None:
    """Without its extra, a tool still parses its options and then says what to install."""
    block = f"import sys; sys.modules[{blocked!r}] = None\nfrom codezest_db import cli\n"
    helped = subprocess.run(
        [sys.executable, "-c", block + f"cli.main([{command!r}, '--help'])"],
        capture_output=True,
        text=True,
    )
    assert helped.returncode == 0 and "usage:" in helped.stdout, helped.stderr
    # The URL is never reached: the missing library is found first.
    args = f"[{command!r}, '--url', 'postgresql://127.0.0.1:1/none']"
    failed = subprocess.run(
        [sys.executable, "-c", block + f"raise SystemExit(cli.main({args}))"],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1
    assert f"pip install 'codezest-db{extra}'" in failed.stderr


def _database_exists(test_server: TestServer, url: str) -> bool:
    name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
    with psycopg.connect(test_server.url_for("postgres"), autocommit=True) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (name,))
        return found.fetchone() is not None


def test_seed_never_creates_a_database(
    fresh_url: str, test_server: TestServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not _database_exists(test_server, fresh_url)
    assert cli.main(["seed", "--url", fresh_url, "--users", "3"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "does not exist" in err
    assert "codezest-db migrate --url URL" in err and "Traceback" not in err
    assert not _database_exists(test_server, fresh_url)


def test_seed_never_migrates(test_server: TestServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = test_server.create_database("codezest_seed_pending")

    def refused() -> None:
        before = _applied(url)
        assert cli.main(["seed", "--url", url, "--users", "3"]) == 1
        err = capsys.readouterr().err
        assert "run `codezest-db migrate --url URL` first" in err, err
        assert len(err.strip().splitlines()) == 1
        assert _applied(url) == before  # nothing was migrated

    try:
        refused()  # an empty database
        assert _applied(url) == []
        migrate.up(url)
        migrate.rollback(url, 1)
        refused()  # one migration behind
        with psycopg.connect(url) as conn:
            assert _count(conn, "auth.users") == 0  # and nothing was seeded
    finally:
        test_server.drop_database(url)


def _applied(url: str) -> list[str]:
    from codezest_db import schema

    return schema.applied_versions(url)
