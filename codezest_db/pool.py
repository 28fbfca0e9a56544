"""The process-wide sync connection pool.

The pool is created on first use, once per process (a forked child makes its
own), and is safe to share between threads. Every borrowed connection is
health-checked, so a restarted server never hands out a dead one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout, TooManyRequests

from . import _config
from .errors import from_psycopg

__all__ = ["close", "configure", "connection", "get_pool", "transaction"]

Connection = psycopg.Connection[Any]

_lock = threading.Lock()
_settings: _config.Settings | None = None
_pool: ConnectionPool[Connection] | None = None
_pid = os.getpid()


def configure(
    url: str | None = None, *, min_size: int = 1, max_size: int = 10, **options: Any
) -> None:
    """Set the URL and pool options; the default URL is ``$DATABASE_URL``.

    Options are psycopg_pool options (``timeout``, ``max_idle``, ...) or libpq
    connection parameters (``connect_timeout``, ``application_name``, ...).
    An open pool is closed; the next use opens one with the new settings.

    Raises ConfigurationError for a missing URL or an unknown option.
    """
    global _settings, _pool
    settings = _config.resolve(url, min_size=min_size, max_size=max_size, **options)
    with _lock:
        old, _pool, _settings = _pool, None, settings
    if old is not None:
        old.close()


def get_pool() -> ConnectionPool[Connection]:
    """Return the process pool, creating and opening it on first use."""
    global _pool, _pid
    pool = _pool
    if pool is not None and _pid == os.getpid():
        return pool
    with _lock:
        if _pool is None or _pid != os.getpid():
            settings = _settings or _config.resolve(None)
            _pool = ConnectionPool(
                **settings.pool_arguments("codezest"), check=ConnectionPool.check_connection
            )
            _pool.open(wait=False)
            _pid = os.getpid()
        return _pool


@contextmanager
def connection(timeout: float | None = None) -> Iterator[Connection]:
    """Borrow a connection; commit when the block succeeds, roll back if it raises.

    Raises ConfigurationError without a URL, ConnectionFailed when no
    connection can be had within *timeout* (default: the pool's).
    """
    pool = get_pool()
    try:
        conn = pool.getconn(timeout)
    except PoolTimeout as exc:
        raise _config.timed_out(_settings, timeout or pool.timeout, exc) from exc
    except TooManyRequests as exc:  # max_waiting callers already queued
        raise from_psycopg(exc) from exc
    try:
        with conn:
            yield conn
    finally:
        pool.putconn(conn)


@contextmanager
def transaction(conn: Connection | None = None) -> Iterator[Connection]:
    """A unit of work: commit on success, roll back if the block raises.

    Given an open *conn*, run the block in a savepoint on it instead, so a
    failure inside undoes only the block and *conn* stays usable.
    """
    if conn is not None:
        with conn.transaction():
            yield conn
        return
    with connection() as borrowed, borrowed.transaction():
        yield borrowed


def close() -> None:
    """Close the pool and its connections; the next use opens a new pool."""
    global _pool
    with _lock:
        old, _pool = _pool, None
    if old is not None:
        old.close()
