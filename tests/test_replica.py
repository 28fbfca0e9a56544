"""Reads on a real streaming replica (CONTRACT.md section 9), sync and asyncio.

A query call without ``conn`` whose SQL only reads goes to the replica; every
write, every call with ``conn`` and every ``connection()`` / ``transaction()``
block goes to the primary. Pausing WAL replay on the replica makes the
difference visible: a row written after the pause is on the primary only.
Those routing tests lift the lag bound (``max_replica_lag=math.inf``); the
bound itself (section 9's ``max_replica_lag``) has tests of its own below.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest

import codezest_db
from codezest_db import aio, models, queries
from codezest_db.models import AnalyticsEventIn
from codezest_db.testing.servers import Replica, free_port
from tests.replica_lag import wait_measured, wait_measured_async

POOL = {"min_size": 0, "max_size": 2}
ANY_LAG = {**POOL, "max_replica_lag": math.inf}  # route by the SQL alone


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
    """Both pools configured with the replica for reads, whatever its lag, and measured."""
    codezest_db.configure(clean_replica.primary_url, replica_url=clean_replica.url, **ANY_LAG)
    aio.configure(clean_replica.primary_url, replica_url=clean_replica.url, **ANY_LAG)
    wait_measured()
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
        await wait_measured_async()
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
    codezest_db.configure(clean_replica.primary_url, **ANY_LAG)
    aio.configure(clean_replica.primary_url, **ANY_LAG)
    wait_measured()
    clean_replica.pause()
    user = new_user()
    assert queries.auth.get_user_by_id(id=user.id) is None

    async def main() -> models.User | None:
        await wait_measured_async()
        return await aio.queries.auth.get_user_by_id(id=user.id)

    assert asyncio.run(main()) is None


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


def wait_fell_back(caplog: pytest.LogCaptureFixture, timeout: float = 15.0) -> None:
    """Wait for the warning (the monitor's thread logs it when it fails to connect)."""
    deadline = time.monotonic() + timeout
    while not fell_back(caplog):
        assert time.monotonic() < deadline, "no warning that reads go to the primary"
        time.sleep(0.01)


def test_an_unreachable_replica_falls_back_to_the_primary(
    clean_replica: Replica, unreachable_replica: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    with caplog.at_level(logging.WARNING):
        for _ in range(20):
            assert queries.auth.get_user_by_id(id=user.id) == user
        wait_fell_back(caplog)
    stats = codezest_db.pool_stats()["replica"]
    assert stats["reads_to_primary"] >= 20 and stats["reads_to_replica"] == 0
    assert stats["replica_lag_ms"] == -1
    assert "s3cret-pw" not in caplog.text


def test_an_unreachable_replica_falls_back_to_the_primary_async(
    clean_replica: Replica, unreachable_replica: str, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()

    async def main() -> dict[str, int]:
        for _ in range(20):
            assert await aio.queries.auth.get_user_by_id(id=user.id) == user
        await asyncio.to_thread(wait_fell_back, caplog)
        return aio.pool_stats()["replica"]

    with caplog.at_level(logging.WARNING):
        stats = asyncio.run(main())
    assert stats["reads_to_primary"] >= 20 and stats["reads_to_replica"] == 0
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
        await wait_measured_async()
        assert await aio.queries.auth.get_user_by_id(id=user.id) is None
        await asyncio.to_thread(routed.stop)
        with caplog.at_level(logging.WARNING):
            assert await aio.queries.auth.get_user_by_id(id=user.id) == user

    asyncio.run(main())
    assert fell_back(caplog)


# max_replica_lag: bounded staleness.


@pytest.fixture
def bounded(clean_replica: Replica) -> Replica:
    """Both pools with the replica and the default bound (no max_replica_lag given)."""
    codezest_db.configure(clean_replica.primary_url, replica_url=clean_replica.url, **POOL)
    aio.configure(clean_replica.primary_url, replica_url=clean_replica.url, **POOL)
    wait_measured()
    return clean_replica


def on_replica(replica: Replica, user: models.User) -> bool:
    with psycopg.connect(replica.url) as conn:
        return queries.auth.get_user_by_id(conn, id=user.id) is not None


def test_reads_never_see_a_replica_further_behind_than_the_bound(bounded: Replica) -> None:
    bound = codezest_db.pool_stats()["replica"]["max_replica_lag_ms"] / 1000
    assert bound == 1.0  # the documented default
    bounded.pause()
    user = new_user()
    written = time.monotonic()  # the write is acknowledged: the replica has been behind since
    late = stale_late = 0
    while (now := time.monotonic()) < written + bound + 1.0:
        found = queries.auth.get_user_by_id(id=user.id) == user
        if now >= written + bound:  # this read started more than the bound after the write
            late += 1
            stale_late += not found
        time.sleep(0.005)
    assert not on_replica(bounded, user)  # replay is still paused: those reads were the primary's
    assert late >= 10 and stale_late == 0
    stats = codezest_db.pool_stats()["replica"]
    assert stats["replica_lag_ms"] >= 1000 and stats["reads_to_primary"] >= late

    bounded.resume()
    bounded.wait_for_catchup()
    before = codezest_db.pool_stats()["replica"]["reads_to_replica"]
    deadline = time.monotonic() + 15
    while codezest_db.pool_stats()["replica"]["reads_to_replica"] == before:
        assert time.monotonic() < deadline, "reads never went back to the replica"
        assert queries.auth.get_user_by_id(id=user.id) == user
        time.sleep(0.01)
    assert 0 <= codezest_db.pool_stats()["replica"]["replica_lag_ms"] < 1000


def test_reads_never_see_a_replica_further_behind_than_the_bound_async(bounded: Replica) -> None:
    async def main() -> tuple[int, int, dict[str, int]]:
        await wait_measured_async()
        await asyncio.to_thread(bounded.pause)
        user = await aio.queries.auth.create_user(
            email=f"lag-{uuid.uuid4().hex}@example.com", password_hash=None, name="L", role="ADMIN"
        )
        written = time.monotonic()
        late = stale_late = 0

        async def reads() -> None:
            nonlocal late, stale_late
            while (now := time.monotonic()) < written + 2.0:
                found = await aio.queries.auth.get_user_by_id(id=user.id) == user
                if now >= written + 1.0:
                    late += 1
                    stale_late += not found
                await asyncio.sleep(0.005)

        await asyncio.gather(*(reads() for _ in range(8)))  # batched reads too
        assert not await asyncio.to_thread(on_replica, bounded, user)
        return late, stale_late, aio.pool_stats()["replica"]

    late, stale_late, stats = asyncio.run(main())
    assert late >= 10 and stale_late == 0
    assert stats["replica_lag_ms"] >= 1000 and stats["reads_to_primary"] >= late


def test_max_replica_lag_is_checked_and_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql://postgres@127.0.0.1:5432/postgres"
    for bad in (0, -1, "1", True, math.nan, [1]):
        for flavour in (codezest_db, aio):
            with pytest.raises(codezest_db.errors.ConfigurationError, match="max_replica_lag"):
                flavour.configure(url, max_replica_lag=bad)
    monkeypatch.setenv("CODEZEST_DB_MAX_REPLICA_LAG", "2.5")
    assert codezest_db._config.resolve(url).max_replica_lag == 2.5
    assert codezest_db._config.resolve(url, max_replica_lag=0.5).max_replica_lag == 0.5
    monkeypatch.setenv("CODEZEST_DB_MAX_REPLICA_LAG", "inf")
    assert codezest_db._config.resolve(url).max_replica_lag == math.inf
    monkeypatch.setenv("CODEZEST_DB_MAX_REPLICA_LAG", "soon")
    with pytest.raises(codezest_db.errors.ConfigurationError, match="MAX_REPLICA_LAG"):
        codezest_db._config.resolve(url)


def test_a_replica_outage_costs_one_failed_read_not_one_every_few_seconds(
    bounded: Replica, caplog: pytest.LogCaptureFixture
) -> None:
    user = new_user()
    bounded.wait_for_catchup()
    wait_measured()
    assert queries.auth.get_user_by_id(id=user.id) == user
    assert codezest_db.pool_stats()["replica"]["reads_to_replica"] >= 1
    bounded.stop()
    with caplog.at_level(logging.WARNING):
        until = time.monotonic() + 8.0  # the old request path retried the replica every 5 s
        reads = 0
        while time.monotonic() < until:
            assert queries.auth.get_user_by_id(id=user.id) == user
            reads += 1
    stats = codezest_db.pool_stats()["replica"]
    assert stats["replica_errors"] <= 1  # only a read already routed there can fail
    assert stats["reads_to_primary"] >= reads - 2
    assert fell_back(caplog)

    bounded.start()
    before = codezest_db.pool_stats()["replica"]["reads_to_replica"]
    deadline = time.monotonic() + 30
    while codezest_db.pool_stats()["replica"]["reads_to_replica"] == before:
        assert time.monotonic() < deadline, "reads never went back to the replica"
        assert queries.auth.get_user_by_id(id=user.id) == user
        time.sleep(0.02)


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
