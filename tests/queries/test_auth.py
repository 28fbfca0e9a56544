"""Every auth query, against a real migrated database."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from typing import Any

import psycopg
import pytest

from codezest_db import aio, errors, queries
from codezest_db.enums import Role
from codezest_db.models import (
    EmailVerification,
    OAuthAccount,
    PasswordReset,
    Session,
    User,
    UserCredentials,
    UserProfile,
)
from tests.conftest import run_async, unique_email

Conn = psycopg.Connection[Any]


def later(hours: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def test_create_user_returns_a_frozen_model_without_hash(make_user: Any) -> None:
    user = make_user(email="Ada@Example.com", role=Role.INSTRUCTOR)
    assert isinstance(user, User)
    assert user.email == "Ada@Example.com"
    assert user.role is Role.INSTRUCTOR
    assert user.created_at.tzinfo is not None
    assert user.deleted_at is None
    assert not hasattr(user, "password_hash")
    with pytest.raises(ValueError, match="frozen"):
        user.name = "x"  # type: ignore[misc]


def test_email_is_unique_ignoring_case(conn: Conn, make_user: Any) -> None:
    user = make_user()
    with pytest.raises(errors.AlreadyExists) as caught:
        make_user(email=user.email.upper())
    assert caught.value.constraint == "users_email_key"
    assert isinstance(caught.value.__cause__, psycopg.errors.UniqueViolation)


def test_get_user_by_id_and_email(conn: Conn, make_user: Any) -> None:
    user = make_user()
    assert queries.auth.get_user_by_id(conn, id=user.id) == user
    assert queries.auth.get_user_by_email(conn, email=user.email.upper()) == user
    assert queries.auth.get_user_by_email(conn, email="nobody@example.com") is None
    assert queries.auth.get_user_by_id(conn, id=uuid.uuid4()) is None


def test_credentials_carry_the_hash(conn: Conn, make_user: Any) -> None:
    user = make_user(password_hash="argon2$secret")
    creds = queries.auth.get_credentials_by_email(conn, email=user.email)
    assert creds == UserCredentials(
        id=user.id, email=user.email, password_hash="argon2$secret", role=user.role
    )


def test_soft_delete_hides_user_frees_email_and_revokes_sessions(
    conn: Conn, make_user: Any
) -> None:
    user = make_user()
    queries.auth.create_session(conn, user_id=user.id, token_hash="t-soft", expires_at=later())
    assert queries.auth.soft_delete_user(conn, id=user.id) == 1
    assert queries.auth.soft_delete_user(conn, id=user.id) == 0
    assert queries.auth.get_user_by_id(conn, id=user.id) is None
    assert queries.auth.get_user_by_email(conn, email=user.email) is None
    assert queries.auth.get_credentials_by_email(conn, email=user.email) is None
    assert queries.auth.get_active_session(conn, token_hash="t-soft") is None
    assert make_user(email=user.email).id != user.id


def test_list_users_pages_by_keyset(conn: Conn, make_user: Any) -> None:
    conn.execute("delete from auth.users")
    made = [make_user() for _ in range(5)]
    queries.auth.soft_delete_user(conn, id=made[2].id)
    first = queries.auth.list_users(conn, limit=2)
    second = queries.auth.list_users(conn, limit=2, after_id=first[-1].id)
    third = queries.auth.list_users(conn, limit=2, after_id=second[-1].id)
    seen = [u.id for u in first + second + third]
    # created in one transaction: same created_at, so order falls back to id.
    assert seen == sorted({u.id for u in made} - {made[2].id}, reverse=True)
    assert len(third) == 0


def test_update_name_role_password_and_login(conn: Conn, make_user: Any) -> None:
    user = make_user()
    renamed = queries.auth.update_user_name(conn, id=user.id, name="Grace")
    assert renamed is not None and renamed.name == "Grace"
    promoted = queries.auth.update_user_role(conn, id=user.id, role=Role.ADMIN)
    assert promoted is not None and promoted.role is Role.ADMIN
    assert queries.auth.update_user_name(conn, id=uuid.uuid4(), name="x") is None
    queries.auth.create_session(conn, user_id=user.id, token_hash="t-pw", expires_at=later())
    assert queries.auth.update_password_hash(conn, id=user.id, password_hash="new$hash") == 1
    creds = queries.auth.get_credentials_by_email(conn, email=user.email)
    assert creds is not None and creds.password_hash == "new$hash"
    assert queries.auth.get_active_session(conn, token_hash="t-pw") is None
    assert queries.auth.record_login(conn, id=user.id) == 1
    fetched = queries.auth.get_user_by_id(conn, id=user.id)
    assert fetched is not None and fetched.last_login_at is not None


def test_updated_at_moves_on_update_only(configured: str) -> None:
    # Real commits (a database of the test's own): conn's commits are savepoints
    # in one transaction, and now() would not move on.
    with psycopg.connect(configured) as own:
        user = queries.auth.create_user(
            own, email=unique_email(), password_hash="h", name="Ada", role="STUDENT"
        )
        own.commit()  # a new transaction, so now() moves on
        same = queries.auth.update_user_name(own, id=user.id, name=user.name)
        assert same is not None and same.updated_at == user.updated_at  # a no-op update
        renamed = queries.auth.update_user_name(own, id=user.id, name="Later")
        assert renamed is not None and renamed.updated_at > user.updated_at


def test_upsert_user_profile(conn: Conn, make_user: Any) -> None:
    user = make_user()
    first = queries.auth.upsert_user_profile(conn, user_id=user.id, bio="hi", avatar_url=None)
    second = queries.auth.upsert_user_profile(
        conn, user_id=user.id, bio="hello", avatar_url="https://x/a.png"
    )
    assert isinstance(second, UserProfile)
    assert second.id == first.id
    assert (second.bio, second.avatar_url) == ("hello", "https://x/a.png")
    assert queries.auth.get_user_profile(conn, user_id=user.id) == second
    assert queries.auth.get_user_profile(conn, user_id=uuid.uuid4()) is None


def test_sessions_lifecycle(conn: Conn, make_user: Any) -> None:
    user = make_user()
    session = queries.auth.create_session(
        conn,
        user_id=user.id,
        token_hash="t-1",
        expires_at=later(),
        user_agent="pytest",
        ip_address="10.0.0.7",
    )
    assert isinstance(session, Session)
    assert session.ip_address == IPv4Address("10.0.0.7")
    queries.auth.create_session(conn, user_id=user.id, token_hash="t-old", expires_at=later(-1))
    assert queries.auth.get_active_session(conn, token_hash="t-1") == session
    assert queries.auth.get_active_session(conn, token_hash="t-old") is None
    assert queries.auth.touch_session(conn, token_hash="t-1") == 1
    assert [s.token_hash for s in queries.auth.list_user_sessions(conn, user_id=user.id)] == ["t-1"]
    assert queries.auth.revoke_session(conn, token_hash="t-1") == 1
    assert queries.auth.revoke_session(conn, token_hash="t-1") == 0
    assert queries.auth.get_active_session(conn, token_hash="t-1") is None


def test_revoke_user_sessions(conn: Conn, make_user: Any) -> None:
    user, other = make_user(), make_user()
    for token in ("a", "b"):
        queries.auth.create_session(conn, user_id=user.id, token_hash=token, expires_at=later())
    queries.auth.create_session(conn, user_id=other.id, token_hash="c", expires_at=later())
    assert queries.auth.revoke_user_sessions(conn, user_id=user.id) == 2
    assert queries.auth.get_active_session(conn, token_hash="c") is not None


def test_session_for_unknown_user_is_a_missing_reference(conn: Conn) -> None:
    with pytest.raises(errors.MissingReference):
        queries.auth.create_session(
            conn, user_id=uuid.uuid4(), token_hash="t-x", expires_at=later()
        )


def test_password_reset_is_consumed_once(conn: Conn, make_user: Any) -> None:
    user = make_user()
    reset = queries.auth.create_password_reset(
        conn, user_id=user.id, token_hash="r-1", expires_at=later()
    )
    assert isinstance(reset, PasswordReset) and reset.used_at is None
    used = queries.auth.consume_password_reset(conn, token_hash="r-1")
    assert used is not None and used.id == reset.id and used.used_at is not None
    assert queries.auth.consume_password_reset(conn, token_hash="r-1") is None
    assert queries.auth.consume_password_reset(conn, token_hash="unknown") is None
    queries.auth.create_password_reset(
        conn, user_id=user.id, token_hash="r-old", expires_at=later(-1)
    )
    assert queries.auth.consume_password_reset(conn, token_hash="r-old") is None


def test_password_reset_race_has_exactly_one_winner(configured: str) -> None:
    """Sixteen threads, each on its own pooled connection, race for one token."""
    with psycopg.connect(configured, autocommit=True) as setup:
        user = queries.auth.create_user(
            setup, email=unique_email("race"), password_hash="h", name="R", role="STUDENT"
        )
        queries.auth.create_password_reset(
            setup, user_id=user.id, token_hash=f"race-{user.id}", expires_at=later()
        )
    barrier = threading.Barrier(16)
    results: list[PasswordReset | None] = []
    lock = threading.Lock()

    def contend() -> None:
        with psycopg.connect(configured) as own:
            barrier.wait()
            got = queries.auth.consume_password_reset(own, token_hash=f"race-{user.id}")
            own.commit()
        with lock:
            results.append(got)

    threads = [threading.Thread(target=contend) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [r for r in results if r is not None]
    assert len(results) == 16
    assert len(winners) == 1


def test_email_verification_marks_the_user_verified(conn: Conn, make_user: Any) -> None:
    user = make_user()
    issued = queries.auth.create_email_verification(
        conn, user_id=user.id, email=user.email, token_hash="v-1", expires_at=later()
    )
    assert isinstance(issued, EmailVerification)
    consumed = queries.auth.consume_email_verification(conn, token_hash="v-1")
    assert consumed is not None and consumed.verified_at is not None
    assert queries.auth.consume_email_verification(conn, token_hash="v-1") is None
    fetched = queries.auth.get_user_by_id(conn, id=user.id)
    assert fetched is not None and fetched.email_verified_at == consumed.verified_at


def test_email_verification_race_has_exactly_one_winner(configured: str) -> None:
    with psycopg.connect(configured, autocommit=True) as setup:
        user = queries.auth.create_user(
            setup, email=unique_email("vrace"), password_hash="h", name="V", role="STUDENT"
        )
        queries.auth.create_email_verification(
            setup,
            user_id=user.id,
            email=user.email,
            token_hash=f"v-{user.id}",
            expires_at=later(),
        )
    barrier = threading.Barrier(12)
    results: list[object] = []

    def contend() -> None:
        barrier.wait()
        results.append(queries.auth.consume_email_verification(token_hash=f"v-{user.id}"))

    threads = [threading.Thread(target=contend) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 12
    assert sum(r is not None for r in results) == 1


def test_oauth_link_and_lookup(conn: Conn, make_user: Any) -> None:
    user = make_user()
    link = queries.auth.link_oauth_account(
        conn, user_id=user.id, provider="github", provider_account_id="42"
    )
    assert isinstance(link, OAuthAccount)
    assert queries.auth.get_user_by_oauth(conn, provider="github", provider_account_id="42") == user
    assert queries.auth.get_user_by_oauth(conn, provider="google", provider_account_id="42") is None
    with pytest.raises(errors.AlreadyExists) as caught:
        queries.auth.link_oauth_account(
            conn, user_id=make_user().id, provider="github", provider_account_id="42"
        )
    assert caught.value.constraint == "oauth_accounts_provider_provider_account_id_key"


def test_delete_expired_tokens(conn: Conn, make_user: Any) -> None:
    conn.execute("delete from auth.sessions")
    conn.execute("delete from auth.password_resets")
    conn.execute("delete from auth.email_verifications")
    user = make_user()
    queries.auth.create_session(conn, user_id=user.id, token_hash="live", expires_at=later())
    queries.auth.create_session(conn, user_id=user.id, token_hash="dead", expires_at=later(-1))
    queries.auth.create_password_reset(
        conn, user_id=user.id, token_hash="r-dead", expires_at=later(-1)
    )
    queries.auth.create_email_verification(
        conn, user_id=user.id, email=user.email, token_hash="v-live", expires_at=later()
    )
    assert queries.auth.delete_expired_tokens(conn) == 2
    assert queries.auth.get_active_session(conn, token_hash="live") is not None
    assert queries.auth.delete_expired_tokens(conn) == 0


def test_delete_expired_tokens_works_in_batches(conn: Conn, make_user: Any) -> None:
    conn.execute("delete from auth.sessions")
    conn.execute("delete from auth.password_resets")
    conn.execute("delete from auth.email_verifications")
    user = make_user()
    for i in range(7):
        queries.auth.create_session(
            conn, user_id=user.id, token_hash=f"dead-{i}", expires_at=later(-1)
        )
    revoked = queries.auth.create_session(
        conn, user_id=user.id, token_hash="revoked", expires_at=later()
    )
    queries.auth.revoke_session(conn, token_hash=revoked.token_hash)
    for i in range(3):
        queries.auth.create_password_reset(
            conn, user_id=user.id, token_hash=f"r-{i}", expires_at=later(-1)
        )
    queries.auth.create_session(conn, user_id=user.id, token_hash="live", expires_at=later())
    done = []
    while deleted := queries.auth.delete_expired_tokens(conn, batch_size=3):
        done.append(deleted)
    assert done == [6, 3, 2]  # at most 3 of each table per call: 8 sessions, 3 resets
    assert [s.token_hash for s in queries.auth.list_user_sessions(conn, user_id=user.id)] == [
        "live"
    ]


def test_async_twins(configured: str) -> None:
    async def main() -> None:
        async with aio.transaction() as conn:
            user = await aio.queries.auth.create_user(
                conn, email=unique_email("aio"), password_hash="h", name="A", role="STUDENT"
            )
            assert await aio.queries.auth.get_user_by_email(conn, email=user.email) == user
            await aio.queries.auth.create_session(
                conn, user_id=user.id, token_hash=f"as-{user.id}", expires_at=later()
            )
            sessions = await aio.queries.auth.list_user_sessions(conn, user_id=user.id)
            assert [s.user_id for s in sessions] == [user.id]
            assert await aio.queries.auth.revoke_user_sessions(conn, user_id=user.id) == 1
            assert await aio.queries.auth.delete_expired_tokens(conn) >= 1
        # Without a connection: borrowed from the asyncio pool and committed.
        fetched = await aio.queries.auth.get_user_by_id(id=user.id)
        assert fetched == user
        await aio.queries.auth.soft_delete_user(id=user.id)

    run_async(main())
