"""A transaction pooler in front of the server: noticed, and prepared statements turned off.

PgBouncer in transaction mode hands each transaction to whichever server
connection is free. A statement psycopg prepared (``_pg3_N``, from the sixth
run of a query on a connection) is then missing on the next server
connection, or is another client's ``_pg3_N`` there: the call fails, or runs
the other query's statement without a word. psycopg's ``prepare_threshold=None``
is the cure; this module applies it when it was not given.

How a pooler is noticed: PgBouncer (like other poolers) answers the client's
startup with a BackendKeyData of its own making, so ``conn.info.backend_pid``
(what libpq was told) is not ``pg_backend_pid()`` (the server process that ran
the query). Straight to PostgreSQL, or through a TCP proxy, both are the same.
It costs one round trip, once per connection: the pools check each new
connection (their ``configure`` callback); a connection a caller passes as
``conn`` is checked just before the call that could be its first to prepare
(`due`), so a connection used for fewer calls than its threshold pays nothing.
No check is made where ``prepare_threshold`` is None already (configured, or
set on the connection before its first call here).

Behind a pooler the connection's own ``prepare_threshold`` (psycopg's public
attribute) is set to None, and it is said once in the log. No call of
codezest_db asks psycopg for ``prepare=True``, and batches never prepare.
The I/O is `codezest_db._query.execute_async.behind_pooler`; this part is
shared by both twins and does none.
"""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

__all__ = ["CONN_FIX", "POOL_FIX", "SERVER_PID", "Notice", "due", "is_pooler", "known"]

SERVER_PID = "select pg_backend_pid()"
# How to silence the warning, for the pools and for a connection passed as ``conn``.
POOL_FIX = (
    "Configure prepare_threshold=None (or CODEZEST_DB_PREPARE_THRESHOLD=none) to say so: "
    "no check, no warning."
)
CONN_FIX = "Connect with prepare_threshold=None to say so: no check, no warning."

log = logging.getLogger("codezest_db.pool")


def is_pooler(conn: Any, server_pid: Any) -> bool:
    """Whether *conn* reaches the server through a pooler, given what ``SERVER_PID`` returned."""
    return bool(conn.info.backend_pid != server_pid)


class _Seen:
    """What is known of one connection passed as ``conn`` (never set on the connection)."""

    __slots__ = ("calls", "checked", "ref")

    def __init__(self, ref: weakref.ref[Any]) -> None:
        self.ref = ref
        self.calls = 0  # calls made on it before it was checked
        self.checked = False


# By id, with a weak reference that drops the entry when the connection goes
# (as `codezest_db._pools.Liveness` keeps its own).
_seen: dict[int, _Seen] = {}


def _entry(conn: Any) -> _Seen:
    key = id(conn)
    entry = _seen.get(key)
    if entry is None or entry.ref() is not conn:
        entry = _seen[key] = _Seen(weakref.ref(conn, lambda _: _seen.pop(key, None)))
    return entry


def due(conn: Any) -> bool:
    """Whether *conn* must be checked before the call about to run on it.

    psycopg prepares a query on its run after ``prepare_threshold`` runs: no
    call before that one can prepare, so none before it needs the check.
    """
    entry = _seen.get(id(conn))
    if entry is None or entry.ref() is not conn:
        entry = _entry(conn)
    if entry.checked:
        return False
    threshold = conn.prepare_threshold
    if threshold is None:  # never prepares: its owner said so
        entry.checked = True
        return False
    if entry.calls < threshold:
        entry.calls += 1
        return False
    return True


def known(conn: Any) -> None:
    """*conn* was checked (or needs no check): calls on it go straight on."""
    _entry(conn).checked = True


class Notice:
    """Turns prepared statements off on connections behind a pooler; says so once."""

    def __init__(self, where: str, fix: str) -> None:
        self.where, self.fix = where, fix
        self._said = False
        self._lock = threading.Lock()

    def found(self, conn: Any) -> None:
        """*conn* is behind a pooler: psycopg never prepares on it from now on."""
        conn.prepare_threshold = None
        with self._lock:
            said, self._said = self._said, True
        if not said:
            log.warning(
                "%s reaches PostgreSQL through a connection pooler (PgBouncer or the like: "
                "its backend pid is not the server's): psycopg's server-side prepared "
                "statements are turned off there, as a pooler in transaction mode would mix "
                "them up between clients. %s",
                self.where,
                self.fix,
            )
