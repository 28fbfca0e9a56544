"""Migrations that give way to the services: lock timeouts, retries, concurrent indexes, kills.

Each test runs the real runner (`migrate.up`, dbmate underneath) on a
throwaway migrations folder against a fresh database of the test server,
with real sessions in threads and processes standing for the services.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from codezest_db import migrate
from codezest_db._resources import migrations_dir
from codezest_db.errors import ConfigurationError, MigrationError
from codezest_db.testing import TestServer

from .lock_holders import TEST_TIMEOUT, Reader, Service

# The writers' own limit on a lock wait: well above the migration's lock
# timeout below, so only a migration that does not give way can trip it.
WRITER_LOCK_TIMEOUT = "4s"
MIGRATION_LOCK_TIMEOUT = 0.5


def write(folder: Path, version: str, up: str, *, options: str = "") -> Path:
    path = folder / f"{version}_step.sql"
    path.write_text(f"-- migrate:up {options}\n{textwrap.dedent(up)}\n-- migrate:down\n")
    return path


@pytest.fixture
def db(fresh_url: str) -> str:
    migrate.ensure_database(fresh_url)
    return fresh_url


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "migrations"
    path.mkdir()
    return path


def inserting(url: str, table: str = "app.items") -> Service:
    """A service: one insert every 50 ms into *table*, each under its own lock timeout."""
    return Service(
        url, lambda conn: conn.execute(f"insert into {table} (a) values (1)"), WRITER_LOCK_TIMEOUT
    )


def base_schema(url: str, folder: Path) -> None:
    write(folder, "20260101000001", "create schema app; create table app.items (a int);")
    migrate.up(url, migrations=folder)


def columns(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select attname from pg_attribute where attrelid = 'app.items'::regclass "
            "and attnum > 0 and not attisdropped order by attnum"
        ).fetchall()
    return [str(row[0]) for row in rows]


def invalid_indexes(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select indexrelid::regclass::text from pg_index where not indisvalid"
        ).fetchall()
    return [str(row[0]) for row in rows]


def run_in_thread(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    result: list[Any] = []

    def target() -> None:
        try:
            result.append(call())
        except BaseException as exc:
            result.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, result


def test_every_session_of_a_migration_gets_the_timeouts(db: str, folder: Path) -> None:
    write(
        folder,
        "20260101000001",
        """
        do $$ begin raise exception 'settings % % %', current_setting('lock_timeout'),
            current_setting('statement_timeout'), current_setting('tcp_keepalives_idle'); end $$;
        """,
    )
    timeouts = migrate.Timeouts(lock_timeout=1.5, statement_timeout=120, lock_retries=0)
    # On a Unix socket (the embedded server) PostgreSQL ignores keepalives and shows 0.
    socket = str(psycopg.conninfo.conninfo_to_dict(db).get("host", "")).startswith("/")
    idle = "0" if socket else "10"
    with pytest.raises(MigrationError, match=rf"settings 1500ms 2min {idle} \(P0001\)"):
        migrate.up(db, migrations=folder, timeouts=timeouts)
    # A migration may ask for its own limits on its -- migrate:up line.
    (folder / "20260101000001_step.sql").unlink()
    write(
        folder,
        "20260101000002",
        "do $$ begin raise exception 'mine %', current_setting('lock_timeout'); end $$;",
        options="lock_timeout:20s",
    )
    with pytest.raises(MigrationError, match=r"mine 20s"):
        migrate.up(db, migrations=folder, timeouts=timeouts)
    assert migrate.applied(db) == []


def test_bad_limits_are_refused_before_anything_runs(
    db: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CODEZEST_MIGRATE_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigurationError, match="CODEZEST_MIGRATE_LOCK_TIMEOUT"):
        migrate.Timeouts.from_env()
    monkeypatch.setenv("CODEZEST_MIGRATE_LOCK_TIMEOUT", "0")
    with pytest.raises(ConfigurationError, match="at least"):
        migrate.Timeouts.from_env()
    monkeypatch.setenv("CODEZEST_MIGRATE_LOCK_TIMEOUT", "2.5")
    monkeypatch.setenv("CODEZEST_MIGRATE_LOCK_RETRIES", "1")
    assert migrate.Timeouts.from_env() == migrate.Timeouts(2.5, 900, 1)
    assert migrate.Timeouts.from_env(lock_retries=0).lock_retries == 0
    with pytest.raises(ConfigurationError, match="lock_timeout above 0"):
        migrate.Timeouts(lock_timeout=0)
    write(folder, "20260101000001", "create table t (a int);", options="lock_timeout:forever")
    with pytest.raises(MigrationError, match="not a PostgreSQL duration"):
        migrate.up(db, migrations=folder)
    assert migrate.applied(db) == []


def test_a_migration_behind_a_long_reader_gives_way_to_writers_then_applies(
    db: str, folder: Path
) -> None:
    base_schema(db, folder)
    write(folder, "20260101000002", "alter table app.items add column b int;")
    messages: list[str] = []
    retried = threading.Event()

    def log(message: str) -> None:
        messages.append(message)
        if len(messages) >= 2:
            retried.set()

    timeouts = migrate.Timeouts(MIGRATION_LOCK_TIMEOUT, 60, lock_retries=8)
    writer = inserting(db)
    writer.start()
    with Reader(db) as reader:
        writes_before = writer.done
        thread, result = run_in_thread(
            lambda: migrate.up(db, migrations=folder, timeouts=timeouts, log=log)
        )
        assert retried.wait(TEST_TIMEOUT)  # it gave way twice, the reader still there
        writes_while_blocked = writer.done - writes_before
        assert thread.is_alive()  # still retrying: the reader holds on
    thread.join(TEST_TIMEOUT)
    assert not thread.is_alive()
    time.sleep(0.5)  # a few more writes after the migration
    writer.finish()
    assert not isinstance(result[0], BaseException), result
    assert "Applied: 20260101000002_step.sql" in result[0]
    assert columns(db) == ["a", "b"]
    assert migrate.applied(db) == ["20260101000001", "20260101000002"]
    # No write waited as long as the writers' own limit, and writes went on meanwhile.
    assert writer.timed_out == 0
    assert writes_while_blocked > 0  # the writer got through between the lock requests
    # Each retry said what it waited for and who held it.
    assert all("AccessExclusiveLock on app.items" in m for m in messages), messages
    assert all(f"pid {reader.pid} (monthly-report" in m for m in messages), messages
    assert "retry 1 of 8" in messages[0]


def test_a_migration_that_never_gets_its_lock_fails_clearly_and_changes_nothing(
    db: str, folder: Path
) -> None:
    base_schema(db, folder)
    write(
        folder,
        "20260101000002",
        """
        create table app.other (a int);
        alter table app.items add column b int;
        """,
    )
    messages: list[str] = []
    timeouts = migrate.Timeouts(MIGRATION_LOCK_TIMEOUT, 60, lock_retries=2)
    writer = inserting(db)
    writer.start()
    with Reader(db) as reader, pytest.raises(MigrationError) as failed:
        migrate.up(db, migrations=folder, timeouts=timeouts, log=messages.append)
    writer.finish()
    message = str(failed.value)
    assert "20260101000002_step.sql" in message
    assert f"AccessExclusiveLock on app.items, held by pid {reader.pid}" in message
    assert "gave up after 3 attempt(s)" in message
    assert len(messages) == 2
    assert columns(db) == ["a"]
    assert migrate.applied(db) == ["20260101000001"]
    with psycopg.connect(db) as conn:
        assert conn.execute("select to_regclass('app.other')").fetchone() == (None,)
    assert writer.timed_out == 0 and writer.done > 0


def test_without_a_short_lock_timeout_the_writers_do_queue(db: str, folder: Path) -> None:
    """The control of the two tests above: the writers' limit does catch a migration's queue."""
    base_schema(db, folder)
    write(folder, "20260101000002", "alter table app.items add column b int;")
    timeouts = migrate.Timeouts(lock_timeout=30, statement_timeout=60, lock_retries=0)
    writer = inserting(db)
    writer.start()
    with Reader(db):
        thread, result = run_in_thread(lambda: migrate.up(db, migrations=folder, timeouts=timeouts))
        deadline = time.monotonic() + TEST_TIMEOUT
        while writer.timed_out == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
    thread.join(TEST_TIMEOUT)
    writer.finish()
    assert writer.timed_out > 0
    assert "Applied" in result[0]
    assert columns(db) == ["a", "b"]


def test_a_failed_concurrent_index_build_leaves_no_invalid_index(db: str, folder: Path) -> None:
    base_schema(db, folder)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("insert into app.items (a) values (1), (1)")  # the unique build fails
    write(
        folder,
        "20260101000002",
        "create unique index concurrently if not exists items_a on app.items (a);",
        options="transaction:false",
    )
    messages: list[str] = []
    with pytest.raises(MigrationError, match=r"could not create unique index.*\(23505\)"):
        migrate.up(db, migrations=folder, log=messages.append)
    assert invalid_indexes(db) == []
    assert any("dropped the invalid index app.items_a" in m for m in messages), messages
    assert migrate.applied(db) == ["20260101000001"]
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("delete from app.items")
    migrate.up(db, migrations=folder)
    assert migrate.applied(db) == ["20260101000001", "20260101000002"]
    with psycopg.connect(db) as conn:
        assert conn.execute(
            "select indisvalid, indisunique from pg_index "
            "where indexrelid = 'app.items_a'::regclass"
        ).fetchone() == (True, True)


def test_a_concurrent_build_behind_a_long_transaction_retries_without_leaving_an_index(
    db: str, folder: Path
) -> None:
    """create index concurrently waits for older snapshots; it gives way, cleans up, retries.

    (A read-committed reader between statements holds no snapshot: no wait.)
    """
    base_schema(db, folder)
    write(
        folder,
        "20260101000002",
        "create index concurrently if not exists items_a on app.items (a);",
        options="transaction:false",
    )
    messages: list[str] = []
    retried = threading.Event()

    def log(message: str) -> None:
        messages.append(message)
        if "retry" in message:
            retried.set()

    writer = inserting(db)
    writer.start()
    timeouts = migrate.Timeouts(MIGRATION_LOCK_TIMEOUT, 60, lock_retries=8)
    with Reader(db, snapshot=True) as reader:
        thread, result = run_in_thread(
            lambda: migrate.up(db, migrations=folder, timeouts=timeouts, log=log)
        )
        assert retried.wait(TEST_TIMEOUT), (result, messages)
    thread.join(TEST_TIMEOUT)
    writer.finish()
    assert not isinstance(result[0], BaseException), result
    assert any("dropped the invalid index app.items_a" in m for m in messages), messages
    assert any(f"held by pid {reader.pid} (monthly-report" in m for m in messages), messages
    assert invalid_indexes(db) == []
    assert migrate.applied(db) == ["20260101000001", "20260101000002"]
    assert writer.timed_out == 0


_RUNNER = """
import sys
from pathlib import Path
from codezest_db import migrate
from codezest_db._resources import migrations_dir
migrate.up(sys.argv[1], migrations=Path(sys.argv[2]))
"""


def backends(url: str, application: str) -> list[tuple[Any, ...]]:
    """Backends of the killed run still on the server, and the locks they hold."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "select a.pid, a.state, a.query, count(l.*) from pg_stat_activity a "
            "left join pg_locks l on l.pid = a.pid "
            "where a.application_name like %s and a.pid <> pg_backend_pid() "
            "group by 1, 2, 3",
            (application,),
        ).fetchall()


@pytest.fixture
def killed_group() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(TEST_TIMEOUT)


def test_a_killed_migrate_stops_on_the_server_and_the_next_run_applies(
    db: str, folder: Path, killed_group: list[subprocess.Popen[bytes]], test_server: TestServer
) -> None:
    if test_server.server_version() < 140000:
        pytest.skip("client_connection_check_interval needs PostgreSQL 14")
    base_schema(db, folder)
    slow = write(
        folder,
        "20260101000002",
        "alter table app.items add column b int; select pg_sleep(120);",
    )
    process = subprocess.Popen(
        [sys.executable, "-c", _RUNNER, db, str(folder)],
        start_new_session=True,  # its own process group, as a container's
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    killed_group.append(process)
    deadline = time.monotonic() + TEST_TIMEOUT
    while not any("pg_sleep" in str(row[2]) for row in backends(db, "codezest-db-migrate-%")):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(TEST_TIMEOUT)
    # Bounded wait: within 15 s (the check interval is 2 s) nothing of it is left.
    deadline = time.monotonic() + 15
    left = backends(db, "codezest-db-migrate-%")
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = backends(db, "codezest-db-migrate-%")
    assert left == []
    writer = inserting(db)
    writer.start()
    time.sleep(0.3)
    writer.finish()
    assert writer.done > 0 and writer.timed_out == 0  # the table is free again
    assert columns(db) == ["a"] and migrate.applied(db) == ["20260101000001"]
    slow.write_text(slow.read_text().replace("pg_sleep(120)", "pg_sleep(0)"))
    migrate.up(db, migrations=folder)
    assert columns(db) == ["a", "b"]
    assert migrate.applied(db) == ["20260101000001", "20260101000002"]


def dry_run_databases(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select count(*) from pg_database where datname like 'codezest_dryrun%'"
        ).fetchone()
    return int(row[0]) if row else -1


def test_dry_run_lists_statements_and_the_locks_they_take_and_changes_nothing(
    db: str, folder: Path
) -> None:
    base_schema(db, folder)
    write(
        folder,
        "20260101000002",
        """
        create table app.notes (id int primary key, body text default 'a;b');
        alter table app.items add column b int;  -- a comment; with a semicolon
        do $$ begin perform 1; end $$;
        """,
    )
    write(
        folder,
        "20260101000003",
        "create index concurrently if not exists items_b on app.items (b);",
        options="transaction:false",
    )
    before = dry_run_databases(db)
    report = migrate.dry_run(db, migrations=folder)
    lines = report.splitlines()
    assert lines[0] == "Pending: 2 (dry run: nothing was changed)"
    assert "20260101000002_step.sql (in one transaction)" in lines
    assert "  1. create table app.notes (id int primary key, body text default 'a;b')" in lines
    assert "  2. alter table app.items add column b int" in lines
    assert "  3. do $$ begin perform 1; end $$" in lines
    # Observed in pg_locks: the new table is no existing relation; items is.
    after_create = lines[lines.index("  2. alter table app.items add column b int") - 1]
    assert after_create == "     locks: no new lock on a relation that existed before"
    assert "     locks: AccessExclusiveLock on app.items (blocks reads and writes)" in lines
    held = "  held until it commits: AccessExclusiveLock on app.items (blocks reads and writes)"
    assert held in lines
    assert "20260101000003_step.sql (transaction:false, statement by statement)" in lines
    assert any("ShareUpdateExclusiveLock on app.items while it runs" in line for line in lines)
    # Nothing changed: not the schema, not the versions, no scratch database left.
    assert columns(db) == ["a"]
    assert migrate.applied(db) == ["20260101000001"]
    assert dry_run_databases(db) == before
    # A migration that does not run is reported as such, still changing nothing.
    write(folder, "20260101000004", "alter table app.missing add column c int;")
    with pytest.raises(MigrationError, match=r"20260101000004_step\.sql fails on a copy"):
        migrate.dry_run(db, migrations=folder)
    assert dry_run_databases(db) == before
    assert migrate.applied(db) == ["20260101000001"]


def test_dry_run_through_the_cli_on_a_database_not_created_yet(
    fresh_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from codezest_db.cli import main

    assert main(["migrate", "--dry-run", "--url", fresh_url]) == 0
    out = capsys.readouterr().out
    shipped = len(list(migrations_dir().glob("*.sql")))
    assert out.startswith(f"Pending: {shipped} (dry run: nothing was changed)")
    assert "the database does not exist yet" in out
    # "Existing" is before each migration: the earlier pending ones count.
    assert "AccessExclusiveLock on activity.analytics_events (blocks reads and writes)" in out
    with pytest.raises(psycopg.OperationalError, match="does not exist"):
        psycopg.connect(fresh_url).close()


def test_statements_respect_quotes_comments_and_dollar_quotes() -> None:
    from codezest_db._dryrun import statements

    text = """
    select 'a;b', E'c\\';d', "we;ird" from t; -- x; y
    /* block; comment */ create function f() returns int language sql as $f$ select 1; $f$;
    do $$ begin raise notice 'x;'; end $$;
    select $1::int
    """
    assert statements(text) == [
        "select 'a;b', E'c\\';d', \"we;ird\" from t",
        "create function f() returns int language sql as $f$ select 1; $f$",
        "do $$ begin raise notice 'x;'; end $$",
        "select $1::int",
    ]
