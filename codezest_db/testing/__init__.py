"""pytest fixtures: a real, migrated, throwaway PostgreSQL for any service's tests.

Enable them in a ``conftest.py``::

    pytest_plugins = ["codezest_db.testing"]

The server comes from, in order: ``$CODEZEST_TEST_DATABASE_URL`` (a server
you run; a fresh database is created on it), a testcontainers PostgreSQL when
a Docker engine answers, or the embedded PostgreSQL wheel. If none works the
session fails and says why; it never skips.

Fixtures: ``database_url`` (session: a freshly migrated database),
``conn`` (a connection whose transaction is rolled back after the test),
``empty_database_url`` (a brand-new empty database), ``configured`` (both
pools of codezest_db pointed at ``database_url``, closed after the test).
"""

from __future__ import annotations

import asyncio
import gc
import os
import uuid
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import psycopg
import pytest
from psycopg import sql

from .. import aio, migrate, pool

__all__ = ["TestServer", "configured", "conn", "database_url", "empty_database_url", "test_server"]

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

    def create_database(self, prefix: str = "codezest_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
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
    failure = _docker_ping(docker)
    if failure:
        reasons.append(failure)
        return None
    container = stack.enter_context(PostgresContainer("postgres:15", driver=None))
    return TestServer(container.get_connection_url(), "testcontainers postgres:15")


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
    """URL of a database created for this session and migrated to the latest version."""
    url = test_server.create_database()
    try:
        migrate.up(url)
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
def conn(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A connection to the session database; everything it did is rolled back."""
    with psycopg.connect(database_url) as connection:
        yield connection
        connection.rollback()


@pytest.fixture
def configured(database_url: str) -> Iterator[str]:
    """Point codezest_db's sync and asyncio pools at the session database."""
    pool.configure(database_url, min_size=0, max_size=4)
    aio.configure(database_url, min_size=0, max_size=4)
    try:
        yield database_url
    finally:
        pool.close()
        asyncio.run(aio.close())
