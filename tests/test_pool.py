"""The sync and asyncio pool singletons, against a real server."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import psycopg
import pytest

import codezest_db as db
from codezest_db import aio, errors, pool, queries
from codezest_db._pools import CHECK_AFTER_IDLE, PoolState
from tests.conftest import run_async, unique_email


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Any:
    """No configure() call and no DATABASE_URL."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db.close()
    monkeypatch.setattr(pool, "_state", PoolState("codezest"))
    monkeypatch.setattr(aio, "_state", PoolState("codezest-aio"))
    yield
    db.close()


def test_missing_url_says_what_to_set(unconfigured: Any) -> None:
    with (
        pytest.raises(errors.ConfigurationError, match=r"DATABASE_URL.*configure\(url="),
        db.connection(),
    ):
        pass
    with pytest.raises(errors.ConfigurationError, match="DATABASE_URL"):
        db.configure()

    async def borrow() -> None:
        async with aio.connection():
            pass

    with pytest.raises(errors.ConfigurationError, match="DATABASE_URL"):
        asyncio.run(borrow())


def test_database_url_is_the_default(
    unconfigured: Any, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    with db.connection() as conn:
        assert conn.execute("select current_database()").fetchone() is not None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_size": 5, "max_size": 2}, "min_size"),
        ({"max_size": 0}, "max_size"),
        ({"min_size": "2"}, "min_size"),
        ({"max_size": 2.5}, "max_size"),
        ({"bogus": 1}, "unknown option"),
        ({"url": "not a url at all"}, "not a valid"),
    ],
)
def test_bad_configuration_is_refused(kwargs: dict[str, Any], message: str) -> None:
    kwargs.setdefault("url", "postgresql://localhost/x")
    with pytest.raises(errors.ConfigurationError, match=message):
        db.configure(**kwargs)


def test_configure_is_lazy_and_accepts_pool_and_libpq_options(database_url: str) -> None:
    db.configure(database_url, min_size=0, max_size=3, max_idle=60, application_name="cz-test")
    try:
        assert pool._state.primary is None  # nothing opened yet
        with db.connection() as conn:
            name = conn.execute("show application_name").fetchone()
        assert name == ("cz-test",)
        assert pool.get_pool().max_size == 3
    finally:
        db.close()


def test_password_never_shows(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    url = "postgresql://codezest:s3cr3t-pw@127.0.0.1:1/nowhere"
    db.configure(url, min_size=0, max_size=1, timeout=1.0, connect_timeout=1)
    try:
        assert "s3cr3t-pw" not in repr(pool._state.settings)
        with pytest.raises(errors.ConnectionFailed) as caught, db.connection():
            pass
        assert "s3cr3t-pw" not in str(caught.value)
        assert "127.0.0.1" in str(caught.value)
        assert "s3cr3t-pw" not in caplog.text
    finally:
        db.close()


def test_connection_commits_on_success_and_rolls_back_on_error(configured: str) -> None:
    email = unique_email("commit")
    with db.connection() as conn:
        queries.auth.create_user(conn, email=email, password_hash="h", name="C", role="STUDENT")
    assert queries.auth.get_user_by_email(email=email) is not None

    lost = unique_email("lost")
    with pytest.raises(RuntimeError), db.connection() as conn:  # noqa: PT012
        queries.auth.create_user(conn, email=lost, password_hash="h", name="L", role="STUDENT")
        raise RuntimeError("boom")
    assert queries.auth.get_user_by_email(email=lost) is None


def test_transaction_savepoint_keeps_the_outer_unit_usable(configured: str) -> None:
    email = unique_email("savepoint")
    with db.transaction() as conn:
        user = queries.auth.create_user(
            conn, email=email, password_hash="h", name="S", role="STUDENT"
        )
        with pytest.raises(errors.AlreadyExists), db.transaction(conn):
            queries.auth.create_user(conn, email=email, password_hash="h", name="S", role="STUDENT")
        assert queries.auth.get_user_by_id(conn, id=user.id) == user
    assert queries.auth.get_user_by_email(email=email) == user


def test_one_pool_shared_by_many_threads(configured: str) -> None:
    seen: list[int] = []
    failures: list[BaseException] = []
    barrier = threading.Barrier(24)

    def work() -> None:
        try:
            barrier.wait()
            seen.append(id(pool.get_pool()))
            for _ in range(5):
                with db.connection() as conn:
                    conn.execute("select pg_sleep(0.005)")
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(seen) == 24 and len(set(seen)) == 1
    stats = pool.get_pool().get_stats()
    assert stats["pool_max"] == 4
    assert stats["requests_num"] >= 120


def test_close_then_reuse_opens_a_new_pool(configured: str) -> None:
    first = pool.get_pool()
    db.close()
    assert first.closed
    with db.connection() as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    assert pool.get_pool() is not first


def test_a_killed_connection_is_never_handed_out(configured: str) -> None:
    """A connection idle past the window is checked first and replaced if dead."""
    db.configure(configured, min_size=1, max_size=1)
    try:
        with db.connection() as conn:
            pid = conn.info.backend_pid
        kill(configured, [pid])
        time.sleep(CHECK_AFTER_IDLE + 0.2)  # idle past the window: checked at checkout
        with db.connection() as conn:
            assert conn.info.backend_pid != pid
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        db.close()


def test_a_read_meeting_a_dead_connection_is_retried_once(configured: str) -> None:
    """Within the window a dead connection is handed out once: a read retries on a new one."""
    db.configure(configured, min_size=1, max_size=1)
    try:
        user = queries.auth.create_user(
            email=unique_email("retry"), password_hash="h", name="R", role="STUDENT"
        )
        with db.connection() as conn:
            pid = conn.info.backend_pid
        kill(configured, [pid])
        assert queries.auth.get_user_by_id(id=user.id) == user  # no error: retried
        with db.connection() as conn:
            assert conn.info.backend_pid != pid  # the dead one was not handed out again
    finally:
        db.close()


def test_a_write_meeting_a_dead_connection_is_not_retried(configured: str) -> None:
    db.configure(configured, min_size=1, max_size=1)
    try:
        with db.connection() as conn:
            pid = conn.info.backend_pid
        kill(configured, [pid])
        email = unique_email("no-retry")
        with pytest.raises(errors.ConnectionFailed):
            queries.auth.create_user(email=email, password_hash="h", name="W", role="STUDENT")
        assert queries.auth.get_user_by_email(email=email) is None  # it never ran, once
        with db.connection() as conn:
            assert conn.info.backend_pid != pid
    finally:
        db.close()


def test_a_warm_pool_survives_every_backend_killed(configured: str) -> None:
    """16 idle connections, all dead: the next calls are served at once, none fails."""
    db.configure(configured, min_size=16, max_size=16, timeout=2.0)
    try:
        pids = warm_up_sync(16)
        kill(configured, pids)
        for _ in range(40):
            assert queries.learning.list_languages() is not None
        with db.connection() as conn:
            assert conn.info.backend_pid not in pids
    finally:
        db.close()


def test_an_async_warm_pool_survives_every_backend_killed(configured: str) -> None:
    async def main() -> None:
        aio.configure(configured, min_size=16, max_size=16, timeout=2.0)
        try:
            pids = await warm_up_async(16)
            kill(configured, pids)
            results = await asyncio.gather(
                *(aio.queries.learning.list_languages() for _ in range(40))
            )
            assert all(r is not None for r in results)
            async with aio.connection() as conn:
                assert conn.info.backend_pid not in pids
        finally:
            await aio.close()

    asyncio.run(main())


def test_an_async_killed_connection_is_never_handed_out(configured: str) -> None:
    async def main() -> None:
        aio.configure(configured, min_size=1, max_size=1)
        try:
            async with aio.connection() as conn:
                pid = conn.info.backend_pid
            kill(configured, [pid])
            await asyncio.sleep(CHECK_AFTER_IDLE + 0.2)
            async with aio.connection() as conn:
                assert conn.info.backend_pid != pid
                await conn.execute("select 1")
        finally:
            await aio.close()

    asyncio.run(main())


def test_an_async_read_meeting_a_dead_connection_is_retried_once(configured: str) -> None:
    async def main() -> None:
        aio.configure(configured, min_size=1, max_size=1)
        try:
            async with aio.connection() as conn:
                pid = conn.info.backend_pid
            kill(configured, [pid])
            assert await aio.queries.learning.list_languages() is not None
            async with aio.connection() as conn:
                assert conn.info.backend_pid != pid
        finally:
            await aio.close()

    asyncio.run(main())


def kill(url: str, pids: list[int]) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        for pid in pids:
            admin.execute("select pg_terminate_backend(%s)", (pid,))
        for _ in range(100):  # bounded: wait until the server has let them go
            cur = admin.execute(
                "select count(*) from pg_stat_activity where pid = any(%s)", (pids,)
            )
            row = cur.fetchone()
            if row is not None and row[0] == 0:
                return
            time.sleep(0.05)
    raise AssertionError(f"backends {pids} still alive")


def warm_up_sync(n: int) -> list[int]:
    """Borrow all *n* connections at once (so all exist and are warm); return their pids."""
    barrier = threading.Barrier(n)
    pids: list[int] = []

    def borrow() -> None:
        with db.connection() as conn:
            pids.append(conn.info.backend_pid)
            barrier.wait(timeout=10)

    threads = [threading.Thread(target=borrow) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    assert len(set(pids)) == n
    return pids


async def warm_up_async(n: int) -> list[int]:
    gate = asyncio.Event()
    pids: list[int] = []

    async def borrow() -> None:
        async with aio.connection() as conn:
            pids.append(conn.info.backend_pid)
            if len(pids) == n:
                gate.set()
            await asyncio.wait_for(gate.wait(), 10)

    await asyncio.gather(*(borrow() for _ in range(n)))
    assert len(set(pids)) == n
    return pids


def test_async_pool_shared_by_many_tasks(configured: str) -> None:
    async def main() -> set[int]:
        pools: set[int] = set()

        async def work(i: int) -> int:
            pools.add(id(await aio.get_pool()))
            async with aio.connection() as conn:
                cur = await conn.execute("select %s::int from pg_sleep(0.01)", (i,))
                row = await cur.fetchone()
                assert row is not None
                return int(row[0])

        results = await asyncio.gather(*(work(i) for i in range(40)))
        assert sorted(results) == list(range(40))
        return pools

    assert len(run_async(main())) == 1


def test_async_transaction_rolls_back_on_error(configured: str) -> None:
    email = unique_email("aio-rollback")

    async def main() -> None:
        with pytest.raises(RuntimeError):  # noqa: PT012
            async with aio.transaction() as conn:
                await aio.queries.auth.create_user(
                    conn, email=email, password_hash="h", name="A", role="STUDENT"
                )
                raise RuntimeError("boom")
        assert await aio.queries.auth.get_user_by_email(email=email) is None
        async with aio.transaction() as conn:
            user = await aio.queries.auth.create_user(
                conn, email=email, password_hash="h", name="A", role="STUDENT"
            )
            with pytest.raises(errors.AlreadyExists):
                async with aio.transaction(conn):
                    await aio.queries.auth.create_user(
                        conn, email=email, password_hash="h", name="A", role="STUDENT"
                    )
        assert await aio.queries.auth.get_user_by_email(email=email) == user

    run_async(main())


def test_a_second_event_loop_gets_its_own_pool(configured: str) -> None:
    async def use() -> int:
        async with aio.connection() as conn:
            cur = await conn.execute("select 1")
            row = await cur.fetchone()
        return 0 if row is None else row[0]

    assert asyncio.run(use()) == 1
    assert asyncio.run(use()) == 1  # the first loop is gone; no dead pool reused
