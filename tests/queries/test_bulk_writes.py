"""Bulk per-user writes: one mark row instead of an update of every row (issue 21 item 2).

revoke_user_sessions, soft_delete_user, update_password_hash and
mark_all_read write the user's mark; the reads treat rows created before it as
revoked or read. Each test checks both halves: the reads answer as if every
row had been updated, and the statement updated only the rows the mark cannot
cover (those created in the same transaction), counted by the server.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from codezest_db import queries
from codezest_db.testing import factories as f

Conn = psycopg.Connection[Any]

PAST = 300  # rows created before the call: covered by the mark, never updated


def ago(minutes: float) -> datetime:
    return datetime.now(UTC) - timedelta(minutes=minutes)


def updated(conn: Conn, table: str) -> int:
    """Rows this transaction has updated in table so far (the server's own count)."""
    schema, name = table.split(".")
    row = conn.execute(
        "select n_tup_upd from pg_stat_xact_user_tables where schemaname = %s and relname = %s",
        (schema, name),
    ).fetchone()
    return int(row[0]) if row else 0


def rows_updated_by(conn: Conn, table: str, call: Callable[[], Any]) -> tuple[Any, int]:
    before = updated(conn, table)
    result = call()
    return result, updated(conn, table) - before


def past_sessions(conn: Conn, user_id: Any, n: int) -> list[str]:
    tokens = [f"past-{user_id}-{i}" for i in range(n)]
    conn.cursor().executemany(
        "insert into auth.sessions (user_id, token_hash, expires_at, created_at, revoked_at)"
        " values (%s, %s, %s, %s, %s)",
        [
            # every tenth already revoked, every seventh expired (still counted: not revoked)
            (user_id, t, ago(1 if i % 7 == 0 else -60), ago(60 + i), None if i % 10 else ago(30))
            for i, t in enumerate(tokens)
        ],
    )
    return tokens


def test_revoke_user_sessions_writes_one_mark_and_revokes_them_all(conn: Conn) -> None:
    user, other = f.make_user(conn), f.make_user(conn)
    tokens = past_sessions(conn, user.id, PAST)
    live = [t for i, t in enumerate(tokens) if i % 7 and i % 10]
    kept = f.make_session(conn, user_id=other.id, created_at=ago(5))
    assert len(queries.auth.list_user_sessions(conn, user_id=user.id, limit=1000)) == len(live)

    revoked, changed = rows_updated_by(
        conn, "auth.sessions", lambda: queries.auth.revoke_user_sessions(conn, user_id=user.id)
    )
    assert revoked == PAST - PAST // 10  # every one not revoked before, expired ones too
    assert changed == 0  # the mark covers them all: no session row was written
    assert updated(conn, "auth.session_revocations") == 0  # inserted, not updated
    for token in live:
        assert queries.auth.get_active_session(conn, token_hash=token) is None
        assert queries.auth.touch_session(conn, token_hash=token) == 0
        assert queries.auth.revoke_session(conn, token_hash=token) == 0
    assert queries.auth.list_user_sessions(conn, user_id=user.id) == []
    assert queries.auth.get_active_session(conn, token_hash=kept.token_hash) is not None
    assert queries.auth.revoke_user_sessions(conn, user_id=user.id) == 0  # nothing left to revoke


def test_sessions_of_the_calling_transaction_are_revoked_one_by_one(conn: Conn) -> None:
    """The mark is now(): a session opened earlier in this transaction shares that
    time, so the call updates it; one opened after the call stays active."""
    user = f.make_user(conn)
    past_sessions(conn, user.id, 20)
    before = queries.auth.create_session(
        conn, user_id=user.id, token_hash="same-tx-before", expires_at=ago(-60)
    )
    revoked, changed = rows_updated_by(
        conn, "auth.sessions", lambda: queries.auth.revoke_user_sessions(conn, user_id=user.id)
    )
    assert revoked == 20 - 2 + 1 and changed == 1
    assert queries.auth.get_active_session(conn, token_hash=before.token_hash) is None
    after = queries.auth.create_session(
        conn, user_id=user.id, token_hash="same-tx-after", expires_at=ago(-60)
    )
    assert queries.auth.get_active_session(conn, token_hash=after.token_hash) == after
    assert [s.id for s in queries.auth.list_user_sessions(conn, user_id=user.id)] == [after.id]


def test_soft_delete_user_and_new_password_revoke_through_the_mark(conn: Conn) -> None:
    for call in (
        lambda user: queries.auth.update_password_hash(conn, id=user.id, password_hash="new$h"),
        lambda user: queries.auth.soft_delete_user(conn, id=user.id),
    ):
        user = f.make_user(conn)
        tokens = past_sessions(conn, user.id, PAST)
        result, changed = rows_updated_by(conn, "auth.sessions", lambda: call(user))  # noqa: B023
        assert result == 1 and changed == 0
        assert all(queries.auth.get_active_session(conn, token_hash=t) is None for t in tokens)
        assert queries.auth.list_user_sessions(conn, user_id=user.id) == []


def test_unknown_or_deleted_user_gets_no_mark(conn: Conn) -> None:
    user = f.make_user(conn)
    assert queries.auth.soft_delete_user(conn, id=user.id) == 1
    assert queries.auth.soft_delete_user(conn, id=user.id) == 0
    assert queries.auth.update_password_hash(conn, id=user.id, password_hash="x$y") == 0
    missing = f.make_user(conn).id
    conn.execute("delete from auth.users where id = %s", (missing,))
    assert queries.auth.revoke_user_sessions(conn, user_id=missing) == 0
    marks = conn.execute(
        "select count(*) from auth.session_revocations where user_id = %s", (missing,)
    ).fetchone()
    assert marks == (0,)


def past_notifications(conn: Conn, user_id: Any, n: int) -> list[Any]:
    rows = conn.cursor()
    rows.executemany(
        "insert into notifications.notifications (user_id, type, title, body, created_at, read_at)"
        " values (%s, 'x.y', 't', 'b', %s, %s) returning id",
        [(user_id, ago(60 + i), ago(30) if i % 3 == 0 else None) for i in range(n)],
        returning=True,
    )
    ids = []
    while True:
        ids.append(rows.fetchone()[0])  # type: ignore[index]
        if not rows.nextset():
            return ids


def test_mark_all_read_writes_one_mark_and_reads_see_every_one_read(conn: Conn) -> None:
    user_id, other = f.make_user(conn).id, f.make_user(conn).id
    ids = past_notifications(conn, user_id, PAST)
    theirs = f.make_notification(conn, user_id=other, created_at=ago(5))
    unread = PAST - len(range(0, PAST, 3))
    assert queries.notifications.count_unread_notifications(conn, user_id=user_id) == unread

    marked, changed = rows_updated_by(
        conn,
        "notifications.notifications",
        lambda: queries.notifications.mark_all_read(conn, user_id=user_id),
    )
    assert marked == unread and changed == 0
    assert queries.notifications.count_unread_notifications(conn, user_id=user_id) == 0
    assert queries.notifications.list_unread_notifications(conn, user_id=user_id, limit=10) == []
    every = queries.notifications.list_notifications(conn, user_id=user_id, limit=1000)
    assert len(every) == PAST and all(n.read_at is not None for n in every)
    assert all(
        queries.notifications.mark_notification_read(conn, user_id=user_id, id=i) == 0 for i in ids
    )
    assert queries.notifications.count_unread_notifications(conn, user_id=other) == 1
    assert queries.notifications.list_notifications(conn, user_id=other)[0] == theirs
    assert queries.notifications.mark_all_read(conn, user_id=user_id) == 0


def test_notifications_of_the_calling_transaction_are_marked_one_by_one(conn: Conn) -> None:
    user_id = f.make_user(conn).id
    past_notifications(conn, user_id, 9)
    before = f.make_notification(conn, user_id=user_id)
    marked, changed = rows_updated_by(
        conn,
        "notifications.notifications",
        lambda: queries.notifications.mark_all_read(conn, user_id=user_id),
    )
    assert marked == 6 + 1 and changed == 1
    after = f.make_notification(conn, user_id=user_id)
    unread = queries.notifications.list_unread_notifications(conn, user_id=user_id, limit=100)
    assert [n.id for n in unread] == [after.id]
    read = {n.id: n for n in queries.notifications.list_notifications(conn, user_id=user_id)}
    assert read[before.id].read_at is not None and read[after.id].read_at is None
    assert queries.notifications.mark_notification_read(conn, user_id=user_id, id=after.id) == 1


def test_the_mark_holds_no_row_lock_on_the_rows_it_covers(database_url: str) -> None:
    """While a transaction that called revoke_user_sessions and mark_all_read
    is still open, another connection locks every one of the user's rows at
    once (nowait): the calls locked none of them."""
    with psycopg.connect(database_url, autocommit=True) as setup:
        user = f.make_user(setup)
        tokens = past_sessions(setup, user.id, 50)
        past_notifications(setup, user.id, 50)
    try:
        with psycopg.connect(database_url) as writer, psycopg.connect(database_url) as other:
            assert queries.auth.revoke_user_sessions(writer, user_id=user.id) == 45
            assert queries.notifications.mark_all_read(writer, user_id=user.id) == 33
            errors: list[BaseException] = []

            def lock_them() -> None:
                try:
                    with other.transaction():
                        for table in ("auth.sessions", "notifications.notifications"):
                            locked = other.execute(
                                f"select id from {table} where user_id = %s for update nowait",
                                (user.id,),
                            ).fetchall()
                            assert len(locked) == 50
                except BaseException as exc:  # re-raised in the test's thread
                    errors.append(exc)

            thread = threading.Thread(target=lock_them)
            thread.start()
            thread.join(30)
            assert not thread.is_alive() and errors == []
            writer.commit()
        with psycopg.connect(database_url) as reader:
            active = [queries.auth.get_active_session(reader, token_hash=t) for t in tokens]
            assert active == [None] * len(tokens)
            assert queries.notifications.count_unread_notifications(reader, user_id=user.id) == 0
    finally:
        with psycopg.connect(database_url, autocommit=True) as cleanup:
            for table in ("notifications.notifications", "notifications.notification_read_marks"):
                cleanup.execute(f"delete from {table} where user_id = %s", (user.id,))
            cleanup.execute("delete from auth.users where id = %s", (user.id,))
