"""The asyncio twin of `codezest_db.pool` and `codezest_db.queries`.

::

    from codezest_db import aio

    async with aio.connection() as conn:
        user = await aio.queries.auth.get_user_by_email(conn, email="a@b.c")

The pool is created on first use in the running event loop and is safe to
share between tasks. A pool belongs to its loop: used from another loop (a
second ``asyncio.run``), a new pool is opened there.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from . import _config
from ._loader import load_async_queries
from .errors import ConnectionFailed

__all__ = ["close", "configure", "connection", "get_pool", "queries", "transaction"]

AsyncConnection = psycopg.AsyncConnection[Any]

_lock = threading.Lock()
_settings: _config.Settings | None = None
_pool: AsyncConnectionPool[AsyncConnection] | None = None
_loop: asyncio.AbstractEventLoop | None = None


def configure(
    url: str | None = None, *, min_size: int = 1, max_size: int = 10, **options: Any
) -> None:
    """Set the URL and pool options of the asyncio pool (see `codezest_db.configure`).

    An open pool is dropped; call `close` first to close it gracefully.
    Raises ConfigurationError for a missing URL or an unknown option.
    """
    global _settings, _pool
    settings = _config.resolve(url, min_size=min_size, max_size=max_size, **options)
    with _lock:
        _pool, _settings = None, settings


async def get_pool() -> AsyncConnectionPool[AsyncConnection]:
    """Return the pool of the running loop, creating and opening it on first use."""
    global _pool, _loop
    loop = asyncio.get_running_loop()
    pool = _pool
    if pool is None or _loop is not loop:
        with _lock:
            if _pool is None or _loop is not loop:
                settings = _settings or _config.resolve(None)
                _pool = AsyncConnectionPool(
                    settings.url,
                    min_size=settings.min_size,
                    max_size=settings.max_size,
                    kwargs=settings.connect_options,
                    check=AsyncConnectionPool.check_connection,
                    name="codezest-aio",
                    open=False,
                    **settings.pool_options,
                )
                _loop = loop
            pool = _pool
    # open() is idempotent and serialised by the pool's own lock.
    await pool.open(wait=False)
    return pool


@asynccontextmanager
async def connection(timeout: float | None = None) -> AsyncIterator[AsyncConnection]:
    """Borrow a connection; commit when the block succeeds, roll back if it raises.

    Raises ConfigurationError without a URL, ConnectionFailed when no
    connection can be had within *timeout* (default: the pool's).
    """
    pool = await get_pool()
    try:
        conn = await pool.getconn(timeout)
    except PoolTimeout as exc:
        settings = _settings or _config.resolve(None)
        raise ConnectionFailed(
            f"no connection to {settings.target} within {timeout or pool.timeout:g}s: {exc}"
        ) from exc
    try:
        async with conn:
            yield conn
    finally:
        await pool.putconn(conn)


@asynccontextmanager
async def transaction(conn: AsyncConnection | None = None) -> AsyncIterator[AsyncConnection]:
    """A unit of work: commit on success, roll back if the block raises.

    Given an open *conn*, run the block in a savepoint on it instead.
    """
    if conn is not None:
        async with conn.transaction():
            yield conn
        return
    async with connection() as borrowed, borrowed.transaction():
        yield borrowed


async def close() -> None:
    """Close the pool and its connections; the next use opens a new pool.

    A pool left behind by a finished event loop cannot be awaited any more:
    it is dropped, and its connections close with it.
    """
    global _pool
    with _lock:
        old, owner, _pool = _pool, _loop, None
    if old is not None and owner is asyncio.get_running_loop():
        await old.close()


queries = load_async_queries()
