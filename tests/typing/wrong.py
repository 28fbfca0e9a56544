"""Calls ``mypy --strict`` must reject: each ``# error:`` names what mypy says there.

tests/test_stubs.py runs mypy on this module and asserts exactly these errors,
line by line. Never run it.
"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from codezest_db import aio, queries


def wrong_sync(conn: psycopg.Connection[Any], aconn: psycopg.AsyncConnection[Any]) -> None:
    queries.auth.get_user_by_email(conn, mail="a@b.c")  # error: Unexpected keyword argument "mail"
    queries.auth.get_user_by_id(conn, id="not-a-uuid")  # error: Argument "id"
    found = queries.auth.get_user_by_email(conn, email="a@b.c")
    print(found.name)  # error: Item "None" of "User | None" has no attribute "name"
    queries.learning.list_languages(conn, limit="3")  # error: Argument "limit"
    queries.payments.create_subscription(
        conn,
        user_id=uuid.uuid4(),
        plan="GOLD",  # error: Argument "plan"
        status="ACTIVE",
    )
    queries.notifications.mark_all_read(aconn, user_id=uuid.uuid4())  # error: Argument 1
    queries.activity.list_user_activity(conn, limit=3)  # error: Missing named argument


async def wrong_async(conn: psycopg.AsyncConnection[Any]) -> None:
    user = await aio.queries.auth.get_user_by_email(conn, email="a@b.c")
    print(user.email)  # error: Item "None" of "User | None" has no attribute "email"
    await aio.queries.auth.get_user_by_id(conn, user_id=uuid.uuid4())  # error: Unexpected keyword
    await aio.queries.activity.record_activity(
        conn,
        user_id="0b6e",  # error: Argument "user_id"
        type="signed_up",
        entity_type=None,
        entity_id=None,
    )
