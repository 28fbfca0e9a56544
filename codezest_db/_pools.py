"""What the sync and asyncio pools share, without I/O: state, liveness, routing.

`codezest_db.aio` (written) and `codezest_db.pool` (generated from it) each
hold one `PoolState`: a `Role` for the primary and one for the replica, each
with its psycopg_pool pool and what is known of its connections.

Liveness, after HikariCP's alive-bypass window: a connection used less than
`CHECK_AFTER_IDLE` seconds ago is handed out without a round trip; one idle
longer is checked first (an empty query). When any connection turns out dead
(a failed check, or a statement that lost its connection), every connection
last used before that moment is suspect and is checked before its next use,
so a server restart costs one quick failed check per stale connection, not a
failed call.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import pq

from . import _config, _replicas

__all__ = [
    "CHECK_AFTER_IDLE",
    "Liveness",
    "PoolState",
    "Process",
    "Role",
    "lost",
    "pool_kwargs",
]

CHECK_AFTER_IDLE = 1.0
REPLICA_CHECKOUT_TIMEOUT = 2.0
STALE_LOG_EVERY = 60.0  # seconds: "replica too far behind" is logged at most this often

log = logging.getLogger("codezest_db.pool")
P = TypeVar("P")


class Process:
    """This process's id, kept up to date in a forked child: reading it is no system
    call (glibc's getpid() is one), and the sync pools ask on every call whose they are."""

    pid = os.getpid()


def _forked() -> None:
    Process.pid = os.getpid()


os.register_at_fork(after_in_child=_forked)


class _Known:
    """What is known of one connection (kept by `Liveness`, never on the connection)."""

    __slots__ = ("handed_out_at", "last_used", "ref")

    def __init__(self, ref: weakref.ref[Any]) -> None:
        self.ref = ref
        self.last_used = 0.0  # when it was last known alive
        self.handed_out_at = 0.0


class Liveness:
    """When a pooled connection must be checked before it is handed out.

    What is known of each connection is kept here, by the connection's id,
    with a weak reference that drops the entry when the connection goes:
    nothing of ours is set on psycopg's objects (and a plain dict lookup costs
    a tenth of a WeakKeyDictionary's on every checkout). A connection given
    back in good order counts as alive as of when it was *handed out*, not
    given back: its server answered after that moment, but may have died since
    (a result read after another connection was found dead must not make it
    look fresh).
    """

    __slots__ = ("known", "suspect_since")

    def __init__(self) -> None:
        self.suspect_since = 0.0
        self.known: dict[int, _Known] = {}

    def _entry(self, conn: Any) -> _Known:
        key = id(conn)
        entry = self.known.get(key)
        if entry is None or entry.ref() is not conn:
            known = self.known
            entry = known[key] = _Known(weakref.ref(conn, lambda _: known.pop(key, None)))
        return entry

    def used(self, conn: Any) -> None:
        """Record that *conn* was just created, or answered a check."""
        self._entry(conn).last_used = monotonic()

    def hand_out(self, conn: Any) -> bool:
        """*conn* goes to a caller now, if it needs no check first (else False: check it)."""
        entry = self.known.get(id(conn))
        if entry is None or entry.ref() is not conn:
            return False
        now = monotonic()
        used = entry.last_used
        if used <= self.suspect_since or now - used > CHECK_AFTER_IDLE:
            return False
        entry.handed_out_at = now
        return True

    def checked(self, conn: Any) -> None:
        """*conn* answered a check: it goes to a caller now."""
        entry = self._entry(conn)
        entry.last_used = entry.handed_out_at = monotonic()

    def given_back(self, conn: Any) -> None:
        """*conn* came back in good order: it was alive when it was handed out."""
        entry = self.known.get(id(conn))
        if entry is not None and entry.ref() is conn:
            entry.last_used, entry.handed_out_at = entry.handed_out_at, 0.0

    def needs_check(self, conn: Any) -> bool:
        entry = self.known.get(id(conn))
        if entry is None or entry.ref() is not conn:
            return True
        used = entry.last_used
        return used <= self.suspect_since or monotonic() - used > CHECK_AFTER_IDLE

    def suspect_all(self) -> None:
        """A connection was found dead: every one used before now is suspect."""
        self.suspect_since = monotonic()


def lost(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether *conn* lost its server (closed, broken), as opposed to a failed statement.

    (psycopg's ``closed`` and ``broken`` both mean a status of BAD: one read of it.)
    """
    return conn.pgconn.status != pq.ConnStatus.OK


@dataclass(eq=False)
class Role(Generic[P]):
    """One pool (the primary's or the replica's) and what is known of it, no I/O."""

    name: str  # "primary" or "replica"
    pool: P
    liveness: Liveness = field(default_factory=Liveness)
    busy: int = 0  # connections claimed and not given back (asyncio: when reads batch)
    batcher: Any = None  # asyncio: the `codezest_db._multiplex.Multiplexer` of its reads
    # How to make one connection as the pool does, to learn why it cannot (`aio._probe`).
    connect_args: tuple[str, dict[str, Any]] = ("", {})
    target: str = ""  # where it connects, for messages (no password)
    probe_after: float = float(_config.DEFAULT_CONNECT_TIMEOUT)  # seconds of waiting first
    # A call in flight this long makes the watchdog check the server (`_watchdog`).
    suspect_after: float | None = _config.DEFAULT_SUSPECT_AFTER


@dataclass
class PoolState(Generic[P]):
    """The settings and open pools of one flavour (sync or asyncio); no I/O."""

    name: str
    settings: _config.Settings | None = None
    primary: Role[P] | None = None
    replica: Role[P] | None = None
    owner: Any = None  # the pid (sync) or the event loop (asyncio) the pools belong to
    monitor: _replicas.Monitor | None = None  # the replica's measured lag, with a replica
    max_replica_lag: float = _config.DEFAULT_MAX_REPLICA_LAG
    reads_to_replica: int = 0  # pooled reads routed to the replica ...
    reads_to_primary: int = 0  # ... and to the primary, the replica too far behind or down
    replica_errors: int = 0  # reads that failed on the replica (and ran on the primary)
    stale_logged_at: float = -STALE_LOG_EVERY
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resolved(self) -> _config.Settings:
        """The configured settings, else those of the environment (raises ConfigurationError)."""
        return self.settings or _config.resolve(None)

    def pools(self) -> list[P]:
        return [role.pool for role in (self.primary, self.replica) if role is not None]

    def replace(self, settings: _config.Settings | None) -> list[P]:
        """Take new settings; return the pools to close (the caller closes them)."""
        with self.lock:
            old = self.pools()
            self.settings, self.primary, self.replica, self.owner = settings, None, None, None
            self.monitor = None
            self.reads_to_replica = self.reads_to_primary = self.replica_errors = 0
        return old

    def opened(self, settings: _config.Settings) -> None:
        """New pools for *settings*: measure the replica's lag (a thread shared by both twins)."""
        self.max_replica_lag = settings.max_replica_lag
        replica = settings.replica_url
        self.monitor = (
            _replicas.monitor_for(settings.url, replica, settings.connect_options)
            if replica
            else None
        )

    def take(self) -> list[P]:
        """Forget the open pools (close); return them (the caller closes them)."""
        with self.lock:
            old = self.pools()
            self.primary, self.replica, self.owner = None, None, None
        return old

    def use_replica(self, reads: bool) -> bool:
        """Whether a pooled read goes to the replica: one is configured, answering, and
        known to be less than ``max_replica_lag`` behind (`codezest_db._replicas`)."""
        monitor = self.monitor
        if not reads or monitor is None or self.replica is None:
            return False
        if monitor.fresh(self.max_replica_lag):
            self.reads_to_replica += 1
            return True
        self.reads_to_primary += 1
        if monitor.measured and not monitor.failures:  # answering, but too far behind
            now = monotonic()
            if now - self.stale_logged_at >= STALE_LOG_EVERY:
                self.stale_logged_at = now
                log.warning(
                    "replica %s is %.1fs or more behind (max_replica_lag=%gs): "
                    "reads go to the primary until it catches up",
                    monitor.target,
                    monitor.lag(),
                    self.max_replica_lag,
                )
        return False

    def replica_failed(self, exc: BaseException) -> None:
        """A read failed on the replica: reads go to the primary until the replica's lag is
        measured again (off the request path, with backoff); say so once per outage."""
        self.replica_errors += 1
        monitor = self.monitor
        if monitor is not None:
            if monitor.caught_up_at:
                log.warning(
                    "replica %s unavailable (%s): reads go to the primary until it answers again",
                    monitor.target,
                    type(exc).__name__,
                )
            monitor.failed(exc)

    def stats(self) -> dict[str, dict[str, int]]:
        """psycopg_pool's statistics of each open pool, for a health endpoint.

        With asyncio reads batched, each role also has ``reads_waiting`` (reads
        queued for the next batch), ``read_batches`` (pipelines sent),
        ``batched_reads`` (reads that went in them) and ``read_retries`` (reads
        run again after their connection was lost).

        With a replica, its figures also have ``replica_lag_ms`` (the measured
        lag, an upper bound; -1 while not known), ``max_replica_lag_ms``,
        ``reads_to_replica`` and ``reads_to_primary`` (pooled reads routed to
        each: to the primary when the replica was too far behind, down, or not
        measured yet) and ``replica_errors`` (reads that failed on the replica
        and ran again on the primary).
        """
        stats = {}
        for role in (self.primary, self.replica):
            if role is not None:
                stats[role.name] = role.pool.get_stats()  # type: ignore[attr-defined]
                if role.batcher is not None:
                    stats[role.name].update(role.batcher.stats())
        monitor = self.monitor
        if self.replica is not None and monitor is not None:
            stats["replica"].update(
                replica_lag_ms=_milliseconds(monitor.lag()),
                max_replica_lag_ms=_milliseconds(self.max_replica_lag),
                reads_to_replica=self.reads_to_replica,
                reads_to_primary=self.reads_to_primary,
                replica_errors=self.replica_errors,
            )
        return stats


def _milliseconds(seconds: float) -> int:
    """Seconds as whole milliseconds for `PoolState.stats`; -1 for none (infinite)."""
    return -1 if seconds == float("inf") else round(seconds * 1000)


def pool_kwargs(settings: _config.Settings, name: str, replica: bool) -> dict[str, Any]:
    """Arguments of a psycopg_pool pool: autocommit connections, created closed."""
    arguments = settings.pool_arguments(name, replica=replica)
    arguments["kwargs"] = {**arguments["kwargs"], "autocommit": True}
    if replica:
        arguments["timeout"] = min(arguments.get("timeout", 10.0), REPLICA_CHECKOUT_TIMEOUT)
    return arguments
