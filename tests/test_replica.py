"""Reads on a real streaming replica (CONTRACT.md section 9), sync and asyncio.

A query call without ``conn`` whose SQL only reads goes to the replica; every
write, every call with ``conn`` and every ``connection()`` / ``transaction()``
block goes to the primary. Pausing WAL replay on the replica makes the
difference visible: a row written after the pause is on the primary only.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Iterator

import psycopg
import pytest

import codezest_db
from codezest_db import aio, models, queries
from codezest_db.models import AnalyticsEventIn
from codezest_db.testing.servers import Replica, free_port

POOL = {"min_size": 0, "max_size": 2}


@pytest.fixture
def clean_replica(replica: Replica, monkeypatch: pytest.MonkeyPatch) -> Iterator[Replica]:
    """The session replica, running, replaying and caught up; pools closed after."""
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    replica.wait_for_catchup()
    try:
        yield replica
    finally:
        codezest_db.close()
        asyncio.run(aio.close())
        if not (replica.pgdata / "postmaster.pid").exists():
            replica.start()
        replica.resume()
        replica.wait_for_catchup()


@pytest.fixture
def routed(clean_replica: Replica) -> Replica:
    """Both pools configured with the replica for reads."""
    codezest_db.configure(clean_replica.primary_url, replica_url=clean_replica.url, **POOL)
    aio.configure(clean_replica.primary_url, replica_url=clean_replica.url, **POOL)
    return clean_replica


def new_user() -> models.User:
    """A user created by a call without conn: a write, so on the primary."""
    return queries.auth.create_user(
        email=f"r-{uuid.uuid4().hex}@example.com", password_hash=None, name="Rep", role="STUDENT"
    )


def on_primary(replica: Replica, user: models.User) -> bool:
    with psycopg.connect(replica.primary_url) as conn:
        return queries.auth.get_user_by_id(conn, id=user.id) == user


def test_a_routed_read_goes_to_the_replica(routed: Replica) -> None:
    routed.pause()
    user = new_user()
    assert on_primary(routed, user)
    # Replay is paused: the replica does not have the row yet.
    assert queries.auth.get_user_by_id(id=user.id) is None
    assert queries.auth.get_user_by_email(email=user.email) is None
    # A connection() or transaction() block is on the primary, reads included.
    with codezest_db.connection() as conn:
        assert queries.auth.get_user_by_id(conn, id=user.id) == user
    with codezest_db.transaction() as conn:
        assert queries.auth.get_user_by_email(conn, email=user.email) == user

    routed.resume()
    routed.wait_for_catchup()
    assert queries.auth.get_user_by_id(id=user.id) == user


def test_a_routed_read_goes_to_the_replica_async(routed: Replica) -> None:
    routed.pause()

    async def main() -> None:
        user = await aio.queries.auth.create_user(
            email=f"ar-{uuid.uuid4().hex}@example.com", password_hash=None, name="A", role="ADMIN"
        )
        assert on_primary(routed, user)
        assert await aio.queries.auth.get_user_by_id(id=user.id) is None
        assert await aio.queries.auth.get_user_by_email(email=user.email) is None
        async with aio.connection() as conn:
            assert await aio.queries.auth.get_user_by_id(conn, id=user.id) == user
        async with aio.transaction() as conn:
            assert await aio.queries.auth.get_user_by_email(conn, email=user.email) == user

        routed.resume()
        await asyncio.to_thread(routed.wait_for_catchup)
        assert await aio.queries.auth.get_user_by_id(id=user.id) == user

    asyncio.run(main())


def write_every_way(user: models.User) -> None:
    """Writes of every shape, without conn; a replica would refuse each of them."""
    auth, tag = queries.auth, uuid.uuid4().hex
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    renamed = auth.update_user_name(id=user.id, name="Renamed")  # update ... returning
    assert renamed is not None and renamed.name == "Renamed"
    assert auth.record_login(id=user.id) == 1  # a bare update
    auth.create_session(user_id=user.id, token_hash=tag, expires_at=later)
    assert auth.touch_session(token_hash=tag) == 1
    assert auth.revoke_session(token_hash=tag) == 1
    auth.create_email_verification(
        user_id=user.id, email=user.email, token_hash=tag, expires_at=later
    )
    # `with consumed as (update ...) select ...`: reads like a select, writes.
    consumed = auth.consume_email_verification(token_hash=tag)
    assert consumed is not None
    assert queries.activity.record_events(events=[AnalyticsEventIn(name=tag)]) == 1  # COPY


async def write_every_way_async(user: models.User) -> None:
    auth, tag = aio.queries.auth, uuid.uuid4().hex
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    renamed = await auth.update_user_name(id=user.id, name="Renamed")
    assert renamed is not None and renamed.name == "Renamed"
    assert await auth.record_login(id=user.id) == 1
    await auth.create_session(user_id=user.id, token_hash=tag, expires_at=later)
    assert await auth.touch_session(token_hash=tag) == 1
    assert await auth.revoke_session(token_hash=tag) == 1
    await auth.create_email_verification(
        user_id=user.id, email=user.email, token_hash=tag, expires_at=later
    )
    assert await auth.consume_email_verification(token_hash=tag) is not None
    assert await aio.queries.activity.record_events(events=[AnalyticsEventIn(name=tag)]) == 1


def test_writes_without_conn_go_to_the_primary(routed: Replica) -> None:
    routed.pause()  # nothing written from here on can show on the replica
    user = new_user()
    write_every_way(user)
    with psycopg.connect(routed.primary_url) as conn:
        row = conn.execute(
            "select u.name, u.email_verified_at is not null, count(s.id)"
            "  from auth.users u left join auth.sessions s on s.user_id = u.id"
            " where u.id = %s group by u.id",
            (user.id,),
        ).fetchone()
    assert row == ("Renamed", True, 1)


def test_writes_without_conn_go_to_the_primary_async(routed: Replica) -> None:
    routed.pause()
    user = new_user()
    asyncio.run(write_every_way_async(user))
    with psycopg.connect(routed.primary_url) as conn:
        row = conn.execute(
            "select name, email_verified_at is not null from auth.users where id = %s", (user.id,)
        ).fetchone()
    assert row == ("Renamed", True)


def test_database_replica_url_is_the_default(
    clean_replica: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_REPLICA_URL", clean_replica.url)
    codezest_db.configure(clean_replica.primary_url, **POOL)
    aio.configure(clean_replica.primary_url, **POOL)
    clean_replica.pause()
    user = new_user()
    assert queries.auth.get_user_by_id(id=user.id) is None
    assert asyncio.run(aio.queries.auth.get_user_by_id(id=user.id)) is None


def test_without_a_replica_reads_go_to_the_primary(clean_replica: Replica) -> None:
    codezest_db.configure(clean_replica.primary_url, **POOL)
    aio.configure(clean_replica.primary_url, **POOL)
    clean_replica.pause()
    user = new_user()
    assert queries.auth.get_user_by_id(id=user.id) == user
    assert asyncio.run(aio.queries.auth.get_user_by_id(id=user.id)) == user


def fell_back(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.levelno == logging.WARNING and "replica" in r.getMessage().lower()
    ]


@pytest.fixture
def unreachable_replica(clean_replica: Replica) -> str:
    """Both pools with a replica URL on a closed loopback port (and a password)."""
    database = psycopg.conninfo.conninfo_to_dict(clean_replica.primary_url)["dbname"]
    url = f"postgresql://postgres:s3cret-pw@127.0.0.1:{free_port()}/{database}"
    codezest_db.configure(clean_replica.primary_url, replica_url=url, **POOL)
    aio.configure(clean_replica.primary_url, replica_url=url, **POOL)
    return url


def test_an_unreachable_replica_falls_back_to_the_primary(
    clean_replica: Replica, unreachable_replica: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    with caplog.at_level(logging.WARNING):
        assert queries.auth.get_user_by_id(id=user.id) == user
    assert fell_back(caplog)
    assert "s3cret-pw" not in caplog.text


def test_an_unreachable_replica_falls_back_to_the_primary_async(
    clean_replica: Replica, unreachable_replica: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    with caplog.at_level(logging.WARNING):
        assert asyncio.run(aio.queries.auth.get_user_by_id(id=user.id)) == user
    assert fell_back(caplog)
    assert "s3cret-pw" not in caplog.text


def test_a_replica_that_goes_down_falls_back_to_the_primary(
    routed: Replica, caplog: pytest.LogCaptureFixture
) -> None:
    routed.pause()
    user = new_user()
    assert queries.auth.get_user_by_id(id=user.id) is None  # the pool holds replica connections
    routed.stop()
    with caplog.at_level(logging.WARNING):
        assert queries.auth.get_user_by_id(id=user.id) == user
    assert fell_back(caplog)


def test_a_replica_that_goes_down_falls_back_to_the_primary_async(
    routed: Replica, caplog: pytest.LogCaptureFixture
) -> None:
    routed.pause()
    user = new_user()

    async def main() -> None:
        assert await aio.queries.auth.get_user_by_id(id=user.id) is None
        await asyncio.to_thread(routed.stop)
        with caplog.at_level(logging.WARNING):
            assert await aio.queries.auth.get_user_by_id(id=user.id) == user

    asyncio.run(main())
    assert fell_back(caplog)


# The fixture itself, without the pools.


def test_the_replica_is_a_paused_and_resumed_streaming_standby(clean_replica: Replica) -> None:
    with psycopg.connect(clean_replica.url) as conn:
        row = conn.execute("select pg_is_in_recovery(), to_regclass('auth.users')").fetchone()
    assert row == (True, "auth.users")
    clean_replica.pause()
    with psycopg.connect(clean_replica.primary_url) as conn:
        user = queries.auth.create_user(
            conn,
            email=f"f-{uuid.uuid4().hex}@example.com",
            password_hash=None,
            name="F",
            role="ADMIN",
        )
    with pytest.raises(TimeoutError, match="replay is paused"):
        clean_replica.wait_for_catchup(timeout=0.5)
    with psycopg.connect(clean_replica.url) as conn:
        assert queries.auth.get_user_by_id(conn, id=user.id) is None
    clean_replica.resume()
    clean_replica.wait_for_catchup()
    with psycopg.connect(clean_replica.url) as conn:
        assert queries.auth.get_user_by_id(conn, id=user.id) == user


def test_the_replica_stops_and_starts_again(clean_replica: Replica) -> None:
    clean_replica.stop()
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(clean_replica.url, connect_timeout=2).close()
    clean_replica.start()
    with psycopg.connect(clean_replica.url) as conn:
        assert conn.execute("select pg_is_in_recovery()").fetchone() == (True,)
