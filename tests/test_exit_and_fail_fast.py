"""Exit without close(), and permanent connection errors failing fast, on a real server.

An asyncio program that never calls ``aio.close()`` must end: a script using
both twins across two ``asyncio.run`` calls is run 50 times in subprocesses,
each bounded by a timeout (a hang fails the test).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from codezest_db import aio, errors
from codezest_db import pool as sync_pool

from .conftest import RIGHT_PASSWORD, WRONG_PASSWORD

ROOT = Path(__file__).resolve().parent.parent

NEVER_CLOSES = textwrap.dedent(
    """
    import asyncio, sys
    from codezest_db import aio, pool

    url = sys.argv[1]
    pool.configure(url)
    aio.configure(url)

    async def main():
        async with aio.connection() as conn:
            await conn.execute("select 1")
        with pool.connection() as conn:
            conn.execute("select 1")

    asyncio.run(main())
    asyncio.run(main())
    print("done")
    """
)


def _run(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_a_script_that_never_closes_exits_every_time(test_database_url: str) -> None:
    hangs, failures = 0, []
    for _ in range(50):
        try:
            done = _run(NEVER_CLOSES, test_database_url, timeout=20)
        except subprocess.TimeoutExpired:
            hangs += 1
            continue
        if done.returncode != 0 or done.stdout.strip() != "done":
            failures.append(done.stderr[-500:])
    assert hangs == 0, f"{hangs} of 50 runs hung at exit"
    assert not failures, failures[0]


# Fail fast with the reason: a missing database, an unknown role (28000) and,
# on a throwaway server that asks for a password (the local ones trust every
# login), a wrong password (28P01). An unknown host is not tested: resolving
# one would ask a DNS server off this machine.
BOUND = 5 + 3  # connect_timeout (the default, 5 s) plus a little: well under the 10 s timeout


@pytest.fixture(autouse=True)
def _settings_kept() -> Iterator[None]:
    """The pools are configured as they were before the test, afterwards."""
    before, aio_before = sync_pool._state.settings, aio._state.settings
    yield
    sync_pool._state.replace(before)  # closed by the test: nothing to close
    aio._state.replace(aio_before)


def _checkout_error(url: str, asyncio_twin: bool, **options: Any) -> tuple[float, Exception]:
    started = time.monotonic()
    if asyncio_twin:

        async def main() -> None:
            aio.configure(url, **options)
            try:
                async with aio.connection():
                    pass
            finally:
                await aio.close()

        with pytest.raises(errors.ConnectionFailed) as caught:
            asyncio.run(asyncio.wait_for(main(), 30))
    else:
        sync_pool.configure(url, **options)
        try:
            with pytest.raises(errors.ConnectionFailed) as caught, sync_pool.connection():
                pass
        finally:
            sync_pool.close()
    return time.monotonic() - started, caught.value


def _with(url: str, **parts: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info.update(parts)
    return psycopg.conninfo.make_conninfo(**{k: str(v) for k, v in info.items()})


@pytest.mark.parametrize("asyncio_twin", [False, True], ids=["sync", "asyncio"])
@pytest.mark.parametrize(
    ("parts", "reason"),
    [
        ({"dbname": "codezest_no_such_db"}, 'database "codezest_no_such_db" does not exist'),
        ({"user": "codezest_no_such_role"}, 'role "codezest_no_such_role" does not exist'),
    ],
    ids=["missing-database", "unknown-role"],
)
def test_a_permanent_error_fails_fast_with_its_reason(
    test_database_url: str, asyncio_twin: bool, parts: dict[str, str], reason: str
) -> None:
    url = _with(test_database_url, **parts)
    took, error = _checkout_error(url, asyncio_twin)
    assert reason in str(error)
    assert isinstance(error.__cause__, psycopg.OperationalError)
    assert reason in str(error.__cause__)
    assert took < BOUND, f"took {took:.1f}s: the whole pool timeout"


@pytest.mark.parametrize("asyncio_twin", [False, True], ids=["sync", "asyncio"])
def test_a_wrong_password_fails_fast_with_its_reason(
    password_server: str, asyncio_twin: bool
) -> None:
    took, error = _checkout_error(password_server, asyncio_twin)
    reason = 'password authentication failed for user "postgres"'
    assert isinstance(error, errors.ConnectionFailed) and reason in str(error)
    assert WRONG_PASSWORD not in str(error) and WRONG_PASSWORD not in repr(error)
    assert isinstance(error.__cause__, psycopg.OperationalError)
    assert took < BOUND, f"took {took:.1f}s: the whole pool timeout"
    # The control: the same call with the right password gets a connection.
    right = password_server.replace(WRONG_PASSWORD, RIGHT_PASSWORD)
    sync_pool.configure(right)
    try:
        with sync_pool.connection() as conn:
            assert conn.execute("select current_database()").fetchone() == ("codezest",)
    finally:
        sync_pool.close()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.mark.parametrize("asyncio_twin", [False, True], ids=["sync", "asyncio"])
def test_a_transient_error_is_retried_until_the_timeout_then_named(
    test_database_url: str, asyncio_twin: bool
) -> None:
    url = _with(test_database_url, host="127.0.0.1", port=str(_closed_port()))
    took, error = _checkout_error(url, asyncio_twin, timeout=3, connect_timeout=1)
    assert "within 3s" in str(error)
    assert "Connection refused" in str(error)
    assert took >= 3  # it waited the pool timeout: a refused connection may come back
