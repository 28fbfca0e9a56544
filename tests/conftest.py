"""Shared fixtures: the codezest_db.testing plugin, and its factories bound to ``conn``."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest

from codezest_db import aio, models
from codezest_db.testing import TestServer
from codezest_db.testing.factories import make_user as _make_user

pytest_plugins = ["codezest_db.testing", "codezest_db.testing.servers"]


T = TypeVar("T")


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)``, closing the asyncio pool in that loop even if *main* fails.

    A pool left open when its loop ends cannot be closed any more; its workers
    would outlive the test.
    """

    async def closing() -> T:
        try:
            return await main
        finally:
            await aio.close()

    return asyncio.run(closing())


def exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """*exc* and every exception reachable through __cause__ and __context__."""
    todo, seen = [exc], set[int]()
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def make_user(conn: psycopg.Connection[Any]) -> Callable[..., models.User]:
    """`codezest_db.testing.factories.make_user` on the test's connection (rolled back)."""

    def make(**fields: Any) -> models.User:
        return _make_user(conn, **fields)

    return make


@pytest.fixture(scope="session")
def built_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This checkout built as a wheel, once a session, offline (no index, no isolation)."""
    folder = tmp_path_factory.mktemp("wheel")
    repo = Path(__file__).resolve().parent.parent
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-index"),
            *("--no-build-isolation", "-q", "-w", str(folder), str(repo)),
        ],
        check=True,
        timeout=300,
    )
    (wheel,) = folder.glob("codezest_db-*.whl")
    return wheel


@pytest.fixture
def fresh_url(test_server: TestServer) -> Iterator[str]:
    """The URL of a database that does not exist yet (dropped after the test if created)."""
    url = test_server.url_for(f"codezest_fresh_{uuid.uuid4().hex[:12]}")
    yield url
    test_server.drop_database(url)


# The password of the throwaway server that asks for one (the local servers trust every login).
RIGHT_PASSWORD = "right-pw-secret"
WRONG_PASSWORD = "wrong-pw-secret"


@pytest.fixture(scope="session")
def password_server() -> Iterator[str]:
    """The URL, with the wrong password, of a throwaway server whose TCP logins need scram-sha-256.

    Its database ``codezest`` exists; with RIGHT_PASSWORD in the URL it is reachable.
    """
    from .pgcluster import running_cluster

    with running_cluster(password=RIGHT_PASSWORD) as cluster:
        right = f"postgresql://postgres:{RIGHT_PASSWORD}@127.0.0.1:{cluster.port}/postgres"
        with psycopg.connect(right, autocommit=True) as admin:
            admin.execute("create database codezest")
        yield f"postgresql://postgres:{WRONG_PASSWORD}@127.0.0.1:{cluster.port}/codezest"
