"""Every list query returns a bounded page and pages by keyset (issue 21 item 1).

Paging with a small limit, each page after the last row of the one before,
gives exactly the rows of one big page, in the same order: nothing skipped,
nothing twice (ties on the sort key included). A limit beyond the maximum is
refused before anything is sent; ``check`` refuses a list query without one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from codezest_db import errors, queries
from codezest_db._query.params import DEFAULT_LIMIT, MAX_LIMIT
from codezest_db.testing import factories as f
from codezest_db.tools.check import check_database

Conn = psycopg.Connection[Any]


def pages(call: Callable[..., list[Any]], key: str, size: int, **args: Any) -> list[Any]:
    """Every row of *call*, *size* at a time, each page after the last row of the one before."""
    rows: list[Any] = []
    page = call(**args, limit=size)
    while page:
        assert len(page) <= size
        rows += page
        page = call(**args, limit=size, **{key: page[-1].id})
    return rows


def same_time() -> dict[str, dt.datetime]:
    return {"created_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)}  # ties on created_at


def test_user_sessions(conn: Conn) -> None:
    user = f.make_user(conn)
    for i in range(7):
        f.make_session(conn, user_id=user.id, **(same_time() if i % 2 else {}))
    call = queries.auth.list_user_sessions
    every = call(conn, user_id=user.id)
    assert len(every) == 7
    assert pages(lambda **a: call(conn, **a), "after_id", 2, user_id=user.id) == every


def test_payment_methods_default_first(conn: Conn) -> None:
    user = f.make_user(conn)
    f.make_payment_method(conn, user_id=user.id, is_default=True)
    for _ in range(4):
        f.make_payment_method(conn, user_id=user.id, is_default=False, **same_time())
    call = queries.payments.list_payment_methods
    every = call(conn, user_id=user.id)
    assert len(every) == 5 and every[0].is_default
    assert pages(lambda **a: call(conn, **a), "after_id", 2, user_id=user.id) == every


def test_quiz_options_across_questions(conn: Conn) -> None:
    quiz = f.make_mcq_quiz(conn)
    for q in range(3):
        question = f.make_mcq_question(conn, quiz_id=quiz.id, position=q)
        for o in range(3):
            f.make_mcq_option(conn, question_id=question.id, position=o)
    call = queries.learning.list_quiz_options
    every = call(conn, quiz_id=quiz.id)
    assert len(every) == 9
    for size in (1, 2, 4):
        assert pages(lambda **a: call(conn, **a), "after_id", size, quiz_id=quiz.id) == every


def test_notification_preferences_with_null_types(conn: Conn) -> None:
    user = f.make_user(conn)
    for channel in ("email", "in_app", "push"):
        f.make_notification_preference(conn, user_id=user.id, channel=channel, type=None)
        for kind in ("a.x", "b.y"):
            f.make_notification_preference(conn, user_id=user.id, channel=channel, type=kind)
    call = queries.notifications.list_notification_preferences
    every = call(conn, user_id=user.id)
    assert len(every) == 9
    assert [(p.channel, p.type) for p in every[:3]] == [
        ("email", None),
        ("email", "a.x"),
        ("email", "b.y"),
    ]
    assert pages(lambda **a: call(conn, **a), "after_id", 2, user_id=user.id) == every


def test_unread_notifications_by_keyset(conn: Conn) -> None:
    user = f.make_user(conn)
    for _ in range(5):
        f.make_notification(conn, user_id=user.id, **same_time())
    call = queries.notifications.list_unread_notifications
    every = call(conn, user_id=user.id, limit=100)  # pinned by the contract: limit required
    assert len(every) == 5
    assert pages(lambda **a: call(conn, **a), "before_id", 2, user_id=user.id) == every


def test_the_default_limit(conn: Conn) -> None:
    user = f.make_user(conn)
    conn.execute(
        "insert into auth.sessions (user_id, token_hash, expires_at)"
        " select %s, 'page-' || i, now() + interval '1 day' from generate_series(1, %s) i",
        (user.id, DEFAULT_LIMIT + 5),
    )
    assert len(queries.auth.list_user_sessions(conn, user_id=user.id)) == DEFAULT_LIMIT
    assert len(queries.auth.list_user_sessions(conn, user_id=user.id, limit=MAX_LIMIT)) == 105


@pytest.mark.parametrize("bad", [0, -1, MAX_LIMIT + 1, "5", True, 2.0])
def test_a_limit_out_of_range_is_refused_before_sending(conn: Conn, bad: Any) -> None:
    before = conn.info.transaction_status
    with pytest.raises(errors.InvalidValue, match="parameter limit expects"):
        queries.auth.list_user_sessions(conn, user_id=f.make_user(conn).id, limit=bad)
    assert conn.info.transaction_status == before  # nothing failed on the server


def test_check_refuses_a_list_query_without_a_page(database_url: str, tmp_path: Path) -> None:
    root = tmp_path / "queries"
    root.mkdir()
    (root / "auth.sql").write_text(
        "-- name: list_everyone()\n-- record_class: User\n-- Everyone.\n"
        "select id, email, name, role, email_verified_at, last_login_at, created_at,"
        " updated_at, deleted_at from auth.users order by id;\n\n"
        "-- name: list_some(limit)\n-- record_class: User\n-- Some, no keyset.\n"
        "select id, email, name, role, email_verified_at, last_login_at, created_at,"
        " updated_at, deleted_at from auth.users order by id limit :limit;\n"
    )
    messages = {(x.query, x.message.split(":")[0]) for x in check_database(database_url, root)}
    assert ("auth.list_everyone", "a list query returns a page") in messages
    assert ("auth.list_some", "a list query returns a page") not in messages
    assert ("auth.list_some", "a list query pages by keyset") in messages
