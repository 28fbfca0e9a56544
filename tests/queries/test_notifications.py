"""Every notifications query, against a real migrated database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from codezest_db import aio, errors, queries
from codezest_db.models import EmailLog, Notification, NotificationPreference
from tests.conftest import run_async

Conn = psycopg.Connection[Any]
notes = queries.notifications


def at(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def notify(conn: Conn, user_id: uuid.UUID, title: str = "Graded") -> Notification:
    note: Notification = notes.create_notification(
        conn, user_id=user_id, type="submission.graded", title=title, body="You passed."
    )
    return note


def backdate(conn: Conn, table: str, row_id: uuid.UUID, hours: float) -> None:
    conn.execute(
        f"update notifications.{table} set created_at = %s where id = %s", (at(hours), row_id)
    )


# In-app notifications


def test_create_notification(conn: Conn) -> None:
    user_id = uuid.uuid4()
    note = notify(conn, user_id)
    assert isinstance(note, Notification)
    assert (note.type, note.title, note.body) == ("submission.graded", "Graded", "You passed.")
    assert note.data == {} and note.read_at is None
    rich = notes.create_notification_with_data(
        conn,
        user_id=user_id,
        type="payment.failed",
        title="Payment failed",
        body="Update your card.",
        data={"transaction_id": "t1", "retry": 2},
    )
    assert rich.data == {"transaction_id": "t1", "retry": 2}
    with pytest.raises(errors.ConstraintViolation):
        notes.create_notification(conn, user_id=user_id, type="", title="t", body="b")


def test_unread_list_count_and_mark_read(conn: Conn) -> None:
    user_id = uuid.uuid4()
    made = [notify(conn, user_id, title=f"n{i}") for i in range(4)]
    for i, note in enumerate(made):
        backdate(conn, "notifications", note.id, -10 + i)  # made[3] is the newest
    notify(conn, uuid.uuid4())
    unread = notes.list_unread_notifications(conn, user_id=user_id, limit=3)
    assert [n.title for n in unread] == ["n3", "n2", "n1"]
    assert notes.count_unread_notifications(conn, user_id=user_id) == 4
    assert notes.mark_notification_read(conn, user_id=user_id, id=made[3].id) == 1
    assert notes.mark_notification_read(conn, user_id=user_id, id=made[3].id) == 0
    assert notes.mark_notification_read(conn, user_id=uuid.uuid4(), id=made[2].id) == 0
    unread = notes.list_unread_notifications(conn, user_id=user_id, limit=10)
    assert [n.title for n in unread] == ["n2", "n1", "n0"]
    assert notes.count_unread_notifications(conn, user_id=user_id) == 3
    assert notes.mark_all_read(conn, user_id=user_id) == 3
    assert notes.mark_all_read(conn, user_id=user_id) == 0
    assert notes.count_unread_notifications(conn, user_id=user_id) == 0
    assert notes.list_unread_notifications(conn, user_id=user_id, limit=10) == []


def test_list_notifications_pages_by_keyset(conn: Conn) -> None:
    user_id = uuid.uuid4()
    made = [notify(conn, user_id, title=f"n{i}") for i in range(5)]
    notes.mark_notification_read(conn, user_id=user_id, id=made[1].id)
    backdate(conn, "notifications", made[0].id, -1)
    first = notes.list_notifications(conn, user_id=user_id, limit=2)
    second = notes.list_notifications(conn, user_id=user_id, limit=2, before_id=first[-1].id)
    third = notes.list_notifications(conn, user_id=user_id, limit=2, before_id=second[-1].id)
    seen = [n.id for n in first + second + third]
    # made[1..4] share created_at (one transaction), so they order by id; made[0] is older.
    assert seen == [*sorted((n.id for n in made[1:]), reverse=True), made[0].id]
    assert any(n.read_at is not None for n in first + second)


def test_delete_old_notifications_works_in_batches_oldest_first(conn: Conn) -> None:
    conn.execute("delete from notifications.notifications")
    user_id = uuid.uuid4()
    made = [notify(conn, user_id) for _ in range(7)]
    for hours, note in enumerate(made[:5]):
        backdate(conn, "notifications", note.id, -24 * 100 - hours)
    first = notes.delete_old_notifications(conn, older_than=at(-24 * 90), batch_size=2)
    assert first == 2
    left = {n.id for n in notes.list_notifications(conn, user_id=user_id, limit=10)}
    assert left == {n.id for n in made} - {made[4].id, made[3].id}  # the oldest two went
    assert notes.delete_old_notifications(conn, older_than=at(-24 * 90), batch_size=2) == 2
    assert notes.delete_old_notifications(conn, older_than=at(-24 * 90), batch_size=2) == 1
    assert notes.delete_old_notifications(conn, older_than=at(-24 * 90), batch_size=2) == 0
    assert len(notes.list_notifications(conn, user_id=user_id, limit=10)) == 2


def test_delete_old_notifications_never_stalls_on_equal_times(conn: Conn) -> None:
    """A batch ends at a time, not a row: rows sharing it all go, so a loop ends."""
    conn.execute("delete from notifications.notifications")
    user_id = uuid.uuid4()
    made = [notify(conn, user_id) for _ in range(5)]  # one transaction: one created_at
    conn.execute(
        "update notifications.notifications set created_at = created_at - interval '100 days'"
        " where id = any(%s)",
        ([n.id for n in made],),
    )
    assert notes.delete_old_notifications(conn, older_than=at(-24 * 90), batch_size=2) == 5
    assert notes.delete_old_notifications(conn, older_than=at(-24 * 90), batch_size=2) == 0


def test_delete_one_and_old_notifications(conn: Conn) -> None:
    conn.execute("delete from notifications.notifications")
    user_id = uuid.uuid4()
    old, kept, gone = notify(conn, user_id), notify(conn, user_id), notify(conn, user_id)
    backdate(conn, "notifications", old.id, -24 * 100)
    assert notes.delete_notification(conn, user_id=uuid.uuid4(), id=gone.id) == 0
    assert notes.delete_notification(conn, user_id=user_id, id=gone.id) == 1
    assert notes.delete_old_notifications(conn, older_than=at(-24 * 90)) == 1
    remaining = notes.list_notifications(conn, user_id=user_id, limit=10)
    assert [n.id for n in remaining] == [kept.id]


# Preferences


def test_channels_default_to_enabled(conn: Conn) -> None:
    user_id = uuid.uuid4()
    assert notes.list_notification_preferences(conn, user_id=user_id) == []
    everything = {"email": True, "in_app": True, "push": True}
    assert notes.get_notification_channels(conn, user_id=user_id) == everything
    assert notes.get_notification_channels(conn, user_id=user_id, type="payment.failed") == (
        everything
    )


def test_upsert_preferences_and_effective_channels(conn: Conn) -> None:
    user_id = uuid.uuid4()
    push_off = notes.upsert_notification_preference(
        conn, user_id=user_id, channel="push", enabled=False
    )
    assert isinstance(push_off, NotificationPreference) and push_off.type is None
    again = notes.upsert_notification_preference(
        conn, user_id=user_id, channel="push", enabled=False
    )
    assert again.id == push_off.id  # type None is one row, not a new one each time
    notes.upsert_notification_preference(
        conn, user_id=user_id, channel="email", type="submission.graded", enabled=False
    )
    notes.upsert_notification_preference(
        conn, user_id=user_id, channel="push", type="payment.failed", enabled=True
    )
    flipped = notes.upsert_notification_preference(
        conn, user_id=user_id, channel="email", type="submission.graded", enabled=True
    )
    assert flipped.enabled
    notes.upsert_notification_preference(
        conn, user_id=user_id, channel="email", type="submission.graded", enabled=False
    )
    stored = notes.list_notification_preferences(conn, user_id=user_id)
    assert [(p.channel, p.type, p.enabled) for p in stored] == [
        ("email", "submission.graded", False),
        ("push", None, False),
        ("push", "payment.failed", True),
    ]
    channels = notes.get_notification_channels
    assert channels(conn, user_id=user_id) == {"email": True, "in_app": True, "push": False}
    assert channels(conn, user_id=user_id, type="submission.graded") == {
        "email": False,
        "in_app": True,
        "push": False,
    }
    assert channels(conn, user_id=user_id, type="payment.failed") == {
        "email": True,
        "in_app": True,
        "push": True,
    }
    assert notes.get_notification_channels(conn, user_id=uuid.uuid4())["push"] is True
    assert notes.delete_notification_preference(conn, user_id=user_id, channel="push") == 1
    assert notes.delete_notification_preference(conn, user_id=user_id, channel="push") == 0
    assert (
        notes.delete_notification_preference(
            conn, user_id=user_id, channel="email", type="submission.graded"
        )
        == 1
    )
    assert [p.type for p in notes.list_notification_preferences(conn, user_id=user_id)] == [
        "payment.failed"
    ]
    assert channels(conn, user_id=user_id)["push"] is True


def test_unknown_channel_is_refused(conn: Conn) -> None:
    with pytest.raises(errors.ConstraintViolation):
        notes.upsert_notification_preference(
            conn, user_id=uuid.uuid4(), channel="sms", enabled=True
        )


# Email log


def log(conn: Conn, user_id: uuid.UUID | None, template: str = "password_reset") -> EmailLog:
    entry: EmailLog = notes.create_email_log(
        conn, user_id=user_id, to_email="ada@example.com", template=template, subject="Hello"
    )
    return entry


def test_email_log_status_updates(conn: Conn) -> None:
    user_id = uuid.uuid4()
    entry = log(conn, user_id)
    assert isinstance(entry, EmailLog)
    assert (entry.status, entry.sent_at, entry.provider_message_id) == ("queued", None, None)
    message_id = f"msg-{uuid.uuid4().hex}"
    sent = notes.update_email_status(
        conn, id=entry.id, status="sent", provider_message_id=message_id
    )
    assert sent is not None and sent.status == "sent" and sent.sent_at is not None
    assert sent.provider_message_id == message_id
    delivered = notes.update_email_status_by_provider_id(
        conn, provider_message_id=message_id, status="delivered"
    )
    assert delivered is not None and delivered.status == "delivered"
    assert delivered.sent_at == sent.sent_at and delivered.provider_message_id == message_id
    bounced = notes.update_email_status_by_provider_id(
        conn, provider_message_id=message_id, status="bounced", error="mailbox full"
    )
    assert bounced is not None and bounced.error == "mailbox full"
    assert (
        notes.update_email_status_by_provider_id(
            conn, provider_message_id="msg-unknown", status="delivered"
        )
        is None
    )
    failed = notes.update_email_status(conn, id=log(conn, None).id, status="failed", error="5xx")
    assert failed is not None and failed.sent_at is None and failed.user_id is None
    assert notes.update_email_status(conn, id=uuid.uuid4(), status="sent") is None
    with pytest.raises(errors.ConstraintViolation):
        notes.update_email_status(conn, id=entry.id, status="lost")


def test_email_log_checks_the_address(conn: Conn) -> None:
    with pytest.raises(errors.ConstraintViolation):
        notes.create_email_log(conn, to_email="not-an-address", template="t", subject="s")


def test_list_user_email_logs_pages_by_keyset(conn: Conn) -> None:
    user_id = uuid.uuid4()
    made = [log(conn, user_id, template=f"t{i}") for i in range(3)]
    log(conn, uuid.uuid4())
    first = notes.list_user_email_logs(conn, user_id=user_id, limit=2)
    rest = notes.list_user_email_logs(conn, user_id=user_id, limit=2, before_id=first[-1].id)
    assert [e.id for e in first + rest] == sorted((e.id for e in made), reverse=True)


def test_queued_emails_are_shared_between_workers(configured: str) -> None:
    """Two workers claim queued emails at once and never get the same one."""
    with psycopg.connect(configured, autocommit=True) as setup:
        made = [log(setup, uuid.uuid4()) for _ in range(3)]
        # Far in the past, so these are the oldest queued emails of the database.
        for i, entry in enumerate(made):
            backdate(setup, "email_logs", entry.id, -24 * 365 * 20 + i)
        notes.update_email_status(setup, id=made[0].id, status="sent")
    with psycopg.connect(configured) as one, psycopg.connect(configured) as two:
        first = notes.list_queued_emails(one, limit=1)
        second = notes.list_queued_emails(two, limit=1)
        assert [e.id for e in first] == [made[1].id]  # oldest queued first
        assert [e.id for e in second] == [made[2].id]  # made[1] is locked by worker one
        one.rollback()
        two.rollback()
        assert [e.id for e in notes.list_queued_emails(one, limit=1)] == [made[1].id]
        for entry in made[1:]:
            notes.update_email_status(one, id=entry.id, status="sent")
        one.commit()


def test_async_twins(configured: str) -> None:
    async def main() -> None:
        user_id = uuid.uuid4()
        q = aio.queries.notifications
        async with aio.transaction() as conn:
            note = await q.create_notification(
                conn, user_id=user_id, type="streak.kept", title="7 days", body="Keep going"
            )
            unread = await q.list_unread_notifications(conn, user_id=user_id, limit=5)
            assert unread == [note]
            assert await q.count_unread_notifications(conn, user_id=user_id) == 1
            pref = await q.upsert_notification_preference(
                conn, user_id=user_id, channel="email", enabled=False
            )
            assert not pref.enabled
            entry = await q.create_email_log(
                conn,
                user_id=user_id,
                to_email="a@example.com",
                template="welcome",
                subject="Welcome",
            )
        # Without a connection: borrowed from the asyncio pool and committed.
        assert await q.mark_all_read(user_id=user_id) == 1
        channels = await q.get_notification_channels(user_id=user_id)
        assert channels == {"email": False, "in_app": True, "push": True}
        sent = await q.update_email_status(id=entry.id, status="sent")
        assert sent is not None and sent.sent_at is not None
        page = await q.list_notifications(user_id=user_id, limit=5)
        assert [n.id for n in page] == [note.id] and page[0].read_at is not None

    run_async(main())
