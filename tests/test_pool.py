"""The sync and asyncio pool singletons, against a real server."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any

import psycopg
import pytest

import codezest_db as db
from codezest_db import aio, errors, pool, queries
from tests.conftest import run_async, unique_email


@pytest.fixture
def unconfigured(monkeypatch: pytest.MonkeyPatch) -> Any:
    """No configure() call and no DATABASE_URL."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    db.close()
    monkeypatch.setattr(pool, "_settings", None)
    monkeypatch.setattr(aio, "_settings", None)
    monkeypatch.setattr(aio, "_pool", None)
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
        assert pool._pool is None  # nothing opened yet
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
        assert "s3cr3t-pw" not in repr(pool._settings)
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
    """The checkout health check replaces connections the server has dropped."""
    db.configure(configured, min_size=1, max_size=1)
    try:
        with db.connection() as conn:
            pid = conn.info.backend_pid
        with psycopg.connect(configured, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (pid,))
        with db.connection() as conn:
            assert conn.info.backend_pid != pid
            assert conn.execute("select 1").fetchone() == (1,)
    finally:
        db.close()


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
