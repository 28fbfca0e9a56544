"""A service using every domain's queries, sync and async: ``mypy --strict`` accepts it.

tests/test_stubs.py type-checks this module with mypy (each ``assert_type`` is
a claim about a generated signature) and runs it against the test database,
so the types it asserts are the ones the queries really return.
"""

from __future__ import annotations

import uuid
from typing import Any, assert_type

import psycopg

from codezest_db import aio, queries
from codezest_db.enums import Role, SubscriptionPlan
from codezest_db.models import (
    AnalyticsEventIn,
    LanguageEnrollment,
    Notification,
    ProgrammingLanguage,
    Subscription,
    User,
    UserActivity,
)


def sync_tour(conn: psycopg.Connection[Any]) -> None:
    """One call or more per domain on *conn*; the caller rolls back."""
    tag = uuid.uuid4().hex[:10]
    user = queries.auth.create_user(
        conn, email=f"ada-{tag}@example.com", password_hash=None, name="Ada", role=Role.STUDENT
    )
    assert_type(user, User)
    found = queries.auth.get_user_by_email(conn, email=user.email)
    assert_type(found, User | None)
    assert found is not None
    assert found.id == user.id
    assert_type(queries.auth.list_users(conn, limit=10), list[User])
    assert_type(queries.auth.delete_expired_tokens(conn), int)

    language = queries.learning.create_language(conn, slug=f"py-{tag}", name="Python")
    assert_type(language, ProgrammingLanguage)
    enrollment = queries.learning.enroll_user(conn, user_id=user.id, language_id=language.id)
    assert_type(enrollment, LanguageEnrollment)

    queries.payments.create_subscription(
        conn, user_id=user.id, plan=SubscriptionPlan.PRO, status="ACTIVE"
    )
    active = queries.payments.get_active_subscription(conn, user_id=user.id)
    assert_type(active, Subscription | None)
    assert active is not None
    assert active.plan is SubscriptionPlan.PRO

    note = queries.notifications.create_notification(
        conn, user_id=user.id, type="welcome", title="Hello", body="Welcome aboard"
    )
    assert_type(note, Notification)
    unread = queries.notifications.count_unread_notifications(conn, user_id=user.id)
    assert_type(unread, int)
    assert unread == 1

    queries.activity.record_activity(
        conn, user_id=user.id, type="signed_up", entity_type=None, entity_id=None
    )
    stored = queries.activity.record_events(
        conn, events=[AnalyticsEventIn(name="page_view", user_id=user.id)]
    )
    assert_type(stored, int)
    feed = queries.activity.list_user_activity(conn, user_id=user.id, limit=5)
    assert_type(feed, list[UserActivity])
    assert [entry.type for entry in feed] == ["signed_up"]


async def async_tour(url: str) -> None:
    """The same through `codezest_db.aio.queries`, rolled back at the end."""
    tag = uuid.uuid4().hex[:10]
    conn = await psycopg.AsyncConnection.connect(url)
    try:
        user = await aio.queries.auth.create_user(
            conn, email=f"bo-{tag}@example.com", password_hash="argon2$x", name="Bo", role="ADMIN"
        )
        assert_type(user, User)
        found = await aio.queries.auth.get_user_by_id(conn, id=user.id)
        assert_type(found, User | None)
        assert found is not None
        assert found.role is Role.ADMIN

        language = await aio.queries.learning.create_language(conn, slug=f"go-{tag}", name="Go")
        assert_type(await aio.queries.learning.list_languages(conn), list[ProgrammingLanguage])
        await aio.queries.learning.enroll_user(conn, user_id=user.id, language_id=language.id)

        await aio.queries.payments.create_subscription(
            conn, user_id=user.id, plan="FREE", status="TRIALING"
        )
        active = await aio.queries.payments.get_active_subscription(conn, user_id=user.id)
        assert_type(active, Subscription | None)

        await aio.queries.notifications.create_notification(
            conn, user_id=user.id, type="welcome", title="Hello", body="Welcome"
        )
        unread = await aio.queries.notifications.list_unread_notifications(
            conn, user_id=user.id, limit=5
        )
        assert_type(unread, list[Notification])
        assert len(unread) == 1

        stored = await aio.queries.activity.record_events(
            conn, events=[AnalyticsEventIn(name="page_view")]
        )
        assert_type(stored, int)
        assert stored == 1
    finally:
        await conn.rollback()
        await conn.close()
