"""The process-wide sync connection pools: the primary, and a replica when configured.

The pools are created on first use, once per process (a forked child makes
its own), and are safe to share between threads. Pooled connections are in
autocommit mode: a query call without a connection is one statement, one
round trip. `connection` and `transaction` blocks run in a transaction.
A connection idle for more than a second is checked before it is handed out;
see `codezest_db._pools` for how dead connections are never handed out twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from time import monotonic
from typing import Any

import psycopg
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout, TooManyRequests

from . import _config
from ._pools import Liveness, PoolState, lost, pool_kwargs
from .errors import ConfigurationError, ConnectionFailed, from_psycopg

__all__ = ["close", "configure", "connection", "get_pool", "pool_stats", "run", "transaction"]

Connection = psycopg.Connection[Any]
Pool = ConnectionPool[Connection]

_state: PoolState[Pool] = PoolState("codezest")


def configure(
    url: str | None = None,
    *,
    replica_url: str | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
    **options: Any,
) -> None:
    """Set the URLs and pool options; the default URL is ``$DATABASE_URL``.

    *replica_url* (default ``$DATABASE_REPLICA_URL``; ``""`` for none) gets
    the query calls without ``conn`` whose SQL only reads. Options are
    psycopg_pool options (``timeout``, ``max_idle``, ...), psycopg's
    ``prepare_threshold`` (None: never prepare, for PgBouncer in transaction
    mode), or libpq parameters (``connect_timeout``, ``application_name``, ...).
    Open pools are closed; the next use opens new ones with the new settings.

    Raises ConfigurationError for a missing URL or an unknown option.
    """
    settings = _config.resolve(
        url, replica_url=replica_url, min_size=min_size, max_size=max_size, **options
    )
    for old in _state.replace(settings):
        old.close()


def get_pool(replica: bool = False) -> Pool:
    """Return the process's primary pool (or replica pool), opening it on first use.

    Raises ConfigurationError without a URL (or, for *replica*, without a replica URL).
    """
    pool = _state.replica if replica else _state.primary
    if pool is not None and _state.owner == os.getpid():
        return pool
    with _state.lock:
        if _state.owner != os.getpid():  # first use, or a forked child: pools of its own
            settings = _state.resolved()
            _state.primary = _open(
                settings, "codezest", replica=False, liveness=_state.primary_liveness
            )
            _state.replica = (
                _open(settings, "codezest-replica", replica=True, liveness=_state.replica_liveness)
                if settings.replica_url
                else None
            )
            _state.settings, _state.owner = settings, os.getpid()
        pool = _state.replica if replica else _state.primary
    if pool is None:
        raise ConfigurationError("no replica configured: pass replica_url to configure")
    return pool


def _open(settings: _config.Settings, name: str, *, replica: bool, liveness: Liveness) -> Pool:
    pool = ConnectionPool(**pool_kwargs(settings, name, replica), configure=liveness.used)
    pool.open(wait=False)
    return pool


def _checkout(pool: Pool, liveness: Liveness, timeout: float | None) -> Connection:
    """A live connection from *pool*; raises ConnectionFailed when none comes in time."""
    wait = pool.timeout if timeout is None else timeout
    deadline = monotonic() + wait
    while True:
        try:
            conn = pool.getconn(max(deadline - monotonic(), 0.0))
        except PoolTimeout as exc:
            raise _config.timed_out(_state.settings, wait, exc) from exc
        except TooManyRequests as exc:  # max_waiting callers already queued
            raise from_psycopg(exc) from exc
        if not liveness.needs_check(conn):
            return conn
        try:
            conn.execute("")
        except psycopg.Error:
            liveness.suspect_all()
            conn.close()
            pool.putconn(conn)  # the pool replaces a closed connection
            continue
        return conn


def _checkin(pool: Pool, liveness: Liveness, conn: Connection) -> None:
    if not conn.autocommit:
        try:
            if conn.info.transaction_status != pq.TransactionStatus.IDLE:
                conn.rollback()
            conn.autocommit = True
        except psycopg.Error:
            conn.close()  # unusable: the pool replaces it
    if lost(conn):
        liveness.suspect_all()
    else:
        liveness.used(conn)
    pool.putconn(conn)


def run(
    execute: Callable[..., Any], reads: bool, sql: str, params: Any, rows: Any, prepare: Any
) -> Any:
    """Run one statement on a borrowed autocommit connection: a query call without ``conn``.

    A read goes to the replica when one is configured and answering; a read
    that meets a dead connection is retried once on a fresh one. A write runs
    once: it is never retried.
    """
    primary = get_pool()  # the process's pools exist before routing asks for the replica
    if _state.use_replica(reads):
        try:
            replica = get_pool(True)
            liveness = _state.replica_liveness
            return _run_on(replica, liveness, execute, reads, sql, params, rows, prepare)
        except (ConnectionFailed, psycopg.OperationalError) as exc:
            _state.replica_failed(exc)
    liveness = _state.primary_liveness
    return _run_on(primary, liveness, execute, reads, sql, params, rows, prepare)


def _run_on(
    pool: Pool, liveness: Liveness, execute: Callable[..., Any], reads: bool, *args: Any
) -> Any:
    retry = reads
    while True:
        conn = _checkout(pool, liveness, None)
        try:
            return execute(conn, *args)
        except psycopg.OperationalError:
            if not (retry and lost(conn)):
                raise
            retry = False
        finally:
            _checkin(pool, liveness, conn)


@contextmanager
def connection(timeout: float | None = None) -> Iterator[Connection]:
    """Borrow a primary connection; commit when the block succeeds, roll back if it raises.

    Raises ConfigurationError without a URL, ConnectionFailed when no
    connection can be had within *timeout* (default: the pool's).
    """
    pool = get_pool()
    liveness = _state.primary_liveness
    conn = _checkout(pool, liveness, timeout)
    try:
        conn.autocommit = False
        with conn:  # commits or rolls back; a pooled connection is not closed
            yield conn
    finally:
        _checkin(pool, liveness, conn)


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


def pool_stats() -> dict[str, dict[str, int]]:
    """psycopg_pool's statistics of the open pools, by role, for a health check."""
    return _state.stats()


def close() -> None:
    """Close the pools and their connections; the next use opens new ones."""
    pools, _ = _state.take()
    for pool in pools:
        pool.close()
