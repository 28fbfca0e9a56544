"""Connection loss, cancel, timeouts and pool saturation, each provoked for real.

One row of docs/errors.md per test (sync and asyncio where both apply): a
backend is terminated by pg_terminate_backend, a session times out, a proxy
injects a bad protocol message or cuts the socket, a throwaway server crashes
or shuts down, a statement is canceled or runs out of statement_timeout, and
the pool runs out of connections or of room in its queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from psycopg_pool import PoolTimeout, TooManyRequests

import codezest_db as db
from codezest_db import aio, embedded, errors, queries
from codezest_db import pool as sync_pool
from codezest_db.models import User
from tests.conftest import run_async, unique_email

Conn = psycopg.Connection[Any]


def connect(url: str, **options: Any) -> Conn:
    return psycopg.connect(url, autocommit=True, connect_timeout=10, **options)


def wait_until(done: Callable[[], bool], what: str, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not done():
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting: {what}")
        time.sleep(0.02)


def blocked_backend(admin: Conn) -> int:
    """The pid of the one backend of this database waiting for a lock."""
    query = (
        "select pid from pg_stat_activity"
        " where datname = current_database() and wait_event_type = 'Lock'"
    )
    pids: list[int] = []

    def one_waits() -> bool:
        pids[:] = [row[0] for row in admin.execute(query).fetchall()]
        return len(pids) == 1

    wait_until(one_waits, "a backend blocked on the locked row")
    return pids[0]


def gone(admin: Conn, pid: int) -> Callable[[], bool]:
    query = "select 1 from pg_stat_activity where pid = %s"
    return lambda: admin.execute(query, (pid,)).fetchone() is None


def in_thread(action: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=action, daemon=True)
    thread.start()
    return thread


def terminate(admin: Conn, pid: int) -> None:
    admin.execute("select pg_terminate_backend(%s)", (pid,))


@pytest.fixture
def admin(test_database_url: str) -> Iterator[Conn]:
    """A second connection that watches, cancels and terminates the others."""
    # test_database_url: the pools' database under `configured`, else the session's.
    with connect(test_database_url) as conn:
        yield conn


@pytest.fixture
def locked_user(test_database_url: str, admin: Conn) -> Iterator[User]:
    """A user whose row another transaction holds locked: updating it blocks."""
    user = queries.auth.create_user(
        admin, email=unique_email("locked"), password_hash="h", name="L", role="STUDENT"
    )
    with psycopg.connect(test_database_url) as locker:
        locker.execute("select 1 from auth.users where id = %s for update", (user.id,))
        yield user
        locker.rollback()


def blocked_update(conn: Conn | None, user: User) -> Any:
    if conn is None:
        return queries.auth.update_user_name(id=user.id, name="never")
    return queries.auth.update_user_name(conn, id=user.id, name="never")


# -- the server ends the session -------------------------------------------------------


def test_terminated_mid_statement(database_url: str, admin: Conn, locked_user: User) -> None:
    with connect(database_url) as victim:
        killer = in_thread(lambda: terminate(admin, blocked_backend(admin)))
        with pytest.raises(errors.ConnectionFailed) as caught:
            blocked_update(victim, locked_user)
        killer.join()
        assert caught.value.sqlstate == "57P01"
        assert caught.value.statement_may_have_run
        assert isinstance(caught.value.__cause__, psycopg.errors.AdminShutdown)
        # psycopg now knows it is closed: the next call sends nothing.
        with pytest.raises(errors.ConnectionFailed) as again:
            queries.auth.get_user_by_id(victim, id=locked_user.id)
        assert again.value.sqlstate is None
        assert not again.value.statement_may_have_run


def test_terminated_while_idle(database_url: str, admin: Conn) -> None:
    with connect(database_url) as victim:
        pid = victim.info.backend_pid
        terminate(admin, pid)
        wait_until(gone(admin, pid), "the terminated backend to exit")
        with pytest.raises(errors.ConnectionFailed) as caught:
            queries.auth.get_user_by_email(victim, email="a@example.com")
        assert caught.value.sqlstate == "57P01"


@pytest.mark.parametrize(
    ("setting", "autocommit", "sqlstate"),
    [
        ("idle_session_timeout", True, "57P05"),
        ("idle_in_transaction_session_timeout", False, "25P03"),
    ],
)
def test_session_timeouts(
    database_url: str, admin: Conn, setting: str, autocommit: bool, sqlstate: str
) -> None:
    with psycopg.connect(database_url, autocommit=autocommit) as victim:
        pid = victim.info.backend_pid
        victim.execute(f"set {setting} = 100")  # in a transaction unless autocommit
        wait_until(gone(admin, pid), f"{setting} to end the session")
        with pytest.raises(errors.ConnectionFailed) as caught:
            queries.auth.get_user_by_email(victim, email="a@example.com")
        assert caught.value.sqlstate == sqlstate


def test_the_pool_survives_a_terminated_connection(
    configured: str, admin: Conn, locked_user: User
) -> None:
    killer = in_thread(lambda: terminate(admin, blocked_backend(admin)))
    with pytest.raises(errors.ConnectionFailed) as caught:
        blocked_update(None, locked_user)  # borrowed from the pool
    killer.join()
    assert caught.value.sqlstate == "57P01"
    for _ in range(5):  # more calls than the pool has connections
        assert queries.auth.get_user_by_id(id=locked_user.id) == locked_user


def test_async_terminated_mid_statement(database_url: str, admin: Conn, locked_user: User) -> None:
    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as victim:
            killer = asyncio.create_task(
                asyncio.to_thread(lambda: terminate(admin, blocked_backend(admin)))
            )
            with pytest.raises(errors.ConnectionFailed) as caught:
                await aio.queries.auth.update_user_name(victim, id=locked_user.id, name="never")
            await killer
            assert caught.value.sqlstate == "57P01"
            assert caught.value.statement_may_have_run
            with pytest.raises(errors.ConnectionFailed) as again:
                await aio.queries.auth.get_user_by_id(victim, id=locked_user.id)
            assert not again.value.statement_may_have_run

    asyncio.run(main())


# -- the socket: a protocol violation (class 08) and a cut connection ------------------


class Proxy:
    """A loopback TCP proxy to the test server that can corrupt or cut its connections.

    The server may be on TCP or (the embedded one) on a unix socket.
    """

    def __init__(self, database_url: str) -> None:
        params = psycopg.conninfo.conninfo_to_dict(database_url)
        host, port = str(params.get("host") or "127.0.0.1"), int(params.get("port") or 5432)
        self.target: Callable[[], socket.socket]
        if host.startswith("/"):
            path = f"{host}/.s.PGSQL.{port}"
            self.target = lambda: _unix_connection(path)
        else:
            self.target = lambda: socket.create_connection((host, port))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.inject: bytes | None = None
        self.sockets: list[socket.socket] = []
        params.update(host="127.0.0.1", port=self.listener.getsockname()[1], sslmode="disable")
        self.url = psycopg.conninfo.make_conninfo("", **params)
        in_thread(self._accept)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = self.target()
            self.sockets += [client, server]
            in_thread(functools.partial(self._pump, client, server, upstream=True))
            in_thread(functools.partial(self._pump, server, client, upstream=False))

    def _pump(self, source: socket.socket, sink: socket.socket, *, upstream: bool) -> None:
        try:
            while data := source.recv(65536):
                if upstream and self.inject is not None:
                    data, self.inject = self.inject + data, None
                sink.sendall(data)
        except OSError:
            pass
        finally:
            self.cut()

    def cut(self) -> None:
        for sock in self.sockets:
            with contextlib.suppress(OSError):  # already shut
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.cut()
        self.listener.close()
        for sock in self.sockets:
            sock.close()


def _unix_connection(path: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


@pytest.fixture
def proxy(database_url: str) -> Iterator[Proxy]:
    proxy = Proxy(database_url)
    try:
        yield proxy
    finally:
        proxy.close()


def test_protocol_violation(proxy: Proxy) -> None:
    with connect(proxy.url) as victim:
        assert queries.auth.get_user_by_email(victim, email="a@example.com") is None
        # A message type the server does not know: it answers FATAL 08P01.
        proxy.inject = b"z\x00\x00\x00\x04"
        with pytest.raises(errors.ConnectionFailed) as caught:
            queries.auth.get_user_by_email(victim, email="a@example.com")
    assert caught.value.sqlstate == "08P01"
    assert isinstance(caught.value.__cause__, psycopg.errors.ProtocolViolation)


def test_connection_cut_mid_statement(proxy: Proxy, admin: Conn, locked_user: User) -> None:
    with connect(proxy.url) as victim:
        cutter = in_thread(lambda: (blocked_backend(admin), proxy.cut()))
        with pytest.raises(errors.ConnectionFailed) as caught:
            blocked_update(victim, locked_user)
        cutter.join()
    assert caught.value.sqlstate is None  # psycopg's own OperationalError
    assert caught.value.statement_may_have_run
    assert type(caught.value.__cause__) is psycopg.OperationalError
    # The server side of the cut connection may still wait for its lock.
    for pid in admin.execute(
        "select pid from pg_stat_activity where datname = current_database()"
        " and wait_event_type = 'Lock'"
    ).fetchall():
        terminate(admin, pid[0])


# -- a throwaway server crashes or shuts down (57P02, 57P03) ---------------------------


@pytest.fixture
def throwaway_server() -> Iterator[embedded.Server]:
    """A server of this test's own, since the test crashes or stops it."""
    server = embedded.start(temporary=True)
    try:
        yield server
    finally:
        server.stop()


def process_gone(pid: int) -> Callable[[], bool]:
    def check() -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False

    return check


def test_crash_of_another_backend(throwaway_server: embedded.Server) -> None:
    url = throwaway_server.url("postgres")
    notices: list[str | None] = []
    with connect(url) as survivor, connect(url) as doomed:
        survivor.add_notice_handler(lambda diag: notices.append(diag.sqlstate))
        os.kill(doomed.info.backend_pid, signal.SIGKILL)
        # The postmaster ends every other backend too: the survivor's process is
        # gone. Its 57P02 warning is sent only if the socket takes it in time
        # (a loaded machine's CI once got none), so it is not required below.
        wait_until(process_gone(survivor.info.backend_pid), "the crash to end the survivor")
        with pytest.raises(psycopg.OperationalError) as raw:
            survivor.execute("select 1")
    error = errors.from_psycopg(raw.value)
    assert type(error) is errors.ConnectionFailed
    assert error.statement_may_have_run
    assert set(notices) <= {"57P02"}, notices  # a crash's warning, if any came
    # The server recovers (and can then be stopped quickly).
    wait_until(lambda: _accepts(url), "the server to recover from the crash", seconds=60)


def _accepts(url: str) -> bool:
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError:
        return False
    return True


def test_server_shutting_down(throwaway_server: embedded.Server, configured: str) -> None:
    url = throwaway_server.url("postgres")
    with connect(url) as remaining:
        pid = int((throwaway_server.pgdata / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGTERM)  # a smart shutdown: waits for `remaining` to leave
        with pytest.raises(psycopg.OperationalError) as raw:
            psycopg.connect(url, connect_timeout=10)
        assert "shutting down" in str(raw.value)  # 57P03, reported at connect time
        error = errors.from_psycopg(raw.value)
        assert type(error) is errors.ConnectionFailed
        assert not error.statement_may_have_run
        # Through the pool: it cannot connect, the checkout times out.
        db.configure(url, min_size=0, timeout=1)
        with pytest.raises(errors.ConnectionFailed) as caught, db.connection():
            pass
        assert not caught.value.statement_may_have_run
        assert remaining.execute("select 1").fetchone() == (1,)
    # The last session left: the smart shutdown completes.
    wait_until(process_gone(pid), "the server to shut down", seconds=60)


# -- cancel and statement timeout (57014) ----------------------------------------------


@pytest.mark.parametrize("how", ["cancel_safe", "pg_cancel_backend"])
def test_canceled(database_url: str, admin: Conn, locked_user: User, how: str) -> None:
    with connect(database_url) as victim:

        def cancel() -> None:
            pid = blocked_backend(admin)
            if how == "cancel_safe":
                victim.cancel_safe()
            else:
                admin.execute("select pg_cancel_backend(%s)", (pid,))

        canceler = in_thread(cancel)
        with pytest.raises(errors.QueryCanceled) as caught:
            blocked_update(victim, locked_user)
        canceler.join()
        assert type(caught.value) is errors.QueryCanceled
        assert caught.value.sqlstate == "57014"
        assert isinstance(caught.value.__cause__, psycopg.errors.QueryCanceled)
        assert queries.auth.get_user_by_id(victim, id=locked_user.id) == locked_user


def test_statement_timeout(database_url: str, locked_user: User) -> None:
    with connect(database_url) as victim:
        victim.execute("set statement_timeout = 200")
        with pytest.raises(errors.StatementTimeout) as caught:
            blocked_update(victim, locked_user)
        assert isinstance(caught.value, errors.QueryCanceled)
        assert caught.value.sqlstate == "57014"
        assert queries.auth.get_user_by_id(victim, id=locked_user.id) == locked_user


def test_async_cancel_and_statement_timeout(
    database_url: str, admin: Conn, locked_user: User
) -> None:
    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as victim:

            async def cancel() -> None:
                await asyncio.to_thread(blocked_backend, admin)
                await victim.cancel_safe()

            canceler = asyncio.create_task(cancel())
            with pytest.raises(errors.QueryCanceled) as caught:
                await aio.queries.auth.update_user_name(victim, id=locked_user.id, name="never")
            await canceler
            assert type(caught.value) is errors.QueryCanceled

            await victim.execute("set statement_timeout = 200")
            with pytest.raises(errors.StatementTimeout):
                await aio.queries.auth.update_user_name(victim, id=locked_user.id, name="never")
            assert await aio.queries.auth.get_user_by_id(victim, id=locked_user.id) == locked_user

    asyncio.run(main())


# -- the pool is saturated: no room in its queue, or no connection in time -------------


def test_pool_saturation(configured: str) -> None:
    db.configure(configured, min_size=0, max_size=1, max_waiting=1, timeout=30)

    def wait_for_a_connection() -> None:
        with db.connection(timeout=30):
            pass

    with db.connection():  # the only connection
        waiter = in_thread(wait_for_a_connection)
        pool = sync_pool.get_pool()
        wait_until(lambda: pool.get_stats()["requests_waiting"] == 1, "a queued request")
        # The queue is full (max_waiting): refused at once.
        with pytest.raises(errors.ConnectionFailed) as caught, db.connection():
            pass
        assert isinstance(caught.value.__cause__, TooManyRequests)
        assert not caught.value.statement_may_have_run
        with pytest.raises(errors.ConnectionFailed), db.transaction():
            pass
        with pytest.raises(errors.ConnectionFailed):
            queries.auth.get_user_by_email(email="a@example.com")
    waiter.join()
    with db.connection():
        # The queue has room, but the only connection is not given back in time.
        with pytest.raises(errors.ConnectionFailed) as caught, db.connection(timeout=0.2):
            pass
        assert isinstance(caught.value.__cause__, PoolTimeout)
        assert not caught.value.statement_may_have_run
    assert queries.auth.get_user_by_email(email="a@example.com") is None


def test_async_pool_saturation(configured: str) -> None:
    aio.configure(configured, min_size=0, max_size=1, max_waiting=1, timeout=30)

    async def wait_for_a_connection() -> None:
        async with aio.connection(timeout=30):
            pass

    async def main() -> None:
        async with aio.connection():  # the only connection
            waiter = asyncio.create_task(wait_for_a_connection())
            pool = await aio.get_pool()
            for _ in range(500):
                if pool.get_stats()["requests_waiting"] == 1:
                    break
                await asyncio.sleep(0.01)
            with pytest.raises(errors.ConnectionFailed) as caught:
                async with aio.connection():
                    pass
            assert isinstance(caught.value.__cause__, TooManyRequests)
            with pytest.raises(errors.ConnectionFailed):
                async with aio.transaction():
                    pass
            with pytest.raises(errors.ConnectionFailed):
                await aio.queries.auth.get_user_by_email(email="a@example.com")
        await waiter
        async with aio.connection():
            with pytest.raises(errors.ConnectionFailed) as caught:
                async with aio.connection(timeout=0.2):
                    pass
            assert isinstance(caught.value.__cause__, PoolTimeout)
        assert await aio.queries.auth.get_user_by_email(email="a@example.com") is None

    run_async(main())
