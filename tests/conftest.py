"""Shared fixtures: the codezest_db.testing plugin plus small row factories."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import psycopg
import pytest

from codezest_db import aio, models, queries

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
    """Create a user on the test's connection (rolled back after the test)."""

    def make(**fields: Any) -> models.User:
        values = {
            "email": unique_email(),
            "password_hash": "argon2$hash",
            "name": "Ada Lovelace",
            "role": "STUDENT",
            **fields,
        }
        user: models.User = queries.auth.create_user(conn, **values)
        return user

    return make
