"""Shared fixtures: the codezest_db.testing plugin, and its factories bound to ``conn``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import psycopg
import pytest

from codezest_db import aio, models
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


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def make_user(conn: psycopg.Connection[Any]) -> Callable[..., models.User]:
    """`codezest_db.testing.factories.make_user` on the test's connection (rolled back)."""

    def make(**fields: Any) -> models.User:
        return _make_user(conn, **fields)

    return make
