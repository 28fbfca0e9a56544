"""Shared fixtures: the codezest_db.testing plugin, and its factories bound to ``conn``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from codezest_db import models
from codezest_db.testing.factories import make_user as _make_user

pytest_plugins = ["codezest_db.testing", "codezest_db.testing.servers"]


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}@example.com"


@pytest.fixture
def make_user(conn: psycopg.Connection[Any]) -> Callable[..., models.User]:
    """`codezest_db.testing.factories.make_user` on the test's connection (rolled back)."""

    def make(**fields: Any) -> models.User:
        return _make_user(conn, **fields)

    return make
