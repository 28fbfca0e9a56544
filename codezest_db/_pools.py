"""What the sync and asyncio pools share, without I/O: state, liveness, routing.

`codezest_db.pool` and `codezest_db.aio` each hold one `PoolState` and do only
the I/O around it, so the two are the same shape by construction (a parity
test compares their public functions).

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
import threading
from dataclasses import dataclass, field
from time import monotonic
from typing import Any, Generic, TypeVar

import psycopg
from psycopg import pq

from . import _config

__all__ = ["CHECK_AFTER_IDLE", "REPLICA_RETRY_AFTER", "Liveness", "PoolState", "pool_kwargs"]

CHECK_AFTER_IDLE = 1.0
REPLICA_CHECKOUT_TIMEOUT = 2.0
REPLICA_RETRY_AFTER = 5.0
_USED = "_codezest_used_at"

log = logging.getLogger("codezest_db.pool")
P = TypeVar("P")


class Liveness:
    """When a pooled connection must be checked before it is handed out."""

    __slots__ = ("suspect_since",)

    def __init__(self) -> None:
        self.suspect_since = 0.0

    @staticmethod
    def used(conn: Any) -> None:
        """Record that *conn* was just created or used successfully."""
        setattr(conn, _USED, monotonic())

    def needs_check(self, conn: Any) -> bool:
        used: float = getattr(conn, _USED, 0.0)
        return used <= self.suspect_since or monotonic() - used > CHECK_AFTER_IDLE

    def suspect_all(self) -> None:
        """A connection was found dead: every one used before now is suspect."""
        self.suspect_since = monotonic()


def lost(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Whether *conn* lost its server (closed, broken), as opposed to a failed statement."""
    return bool(conn.closed or conn.broken or conn.pgconn.status != pq.ConnStatus.OK)


@dataclass
class PoolState(Generic[P]):
    """The settings and open pools of one flavour (sync or asyncio); no I/O."""

    name: str
    settings: _config.Settings | None = None
    primary: P | None = None
    replica: P | None = None
    owner: Any = None  # the pid (sync) or the event loop (asyncio) the pools belong to
    primary_liveness: Liveness = field(default_factory=Liveness)
    replica_liveness: Liveness = field(default_factory=Liveness)
    replica_down_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resolved(self) -> _config.Settings:
        """The configured settings, else those of the environment (raises ConfigurationError)."""
        return self.settings or _config.resolve(None)

    def replace(self, settings: _config.Settings | None) -> list[P]:
        """Take new settings; return the pools to close (the caller closes them)."""
        with self.lock:
            old = [p for p in (self.primary, self.replica) if p is not None]
            self.settings, self.primary, self.replica, self.owner = settings, None, None, None
            self.primary_liveness, self.replica_liveness = Liveness(), Liveness()
            self.replica_down_until = 0.0
        return old

    def take(self) -> tuple[list[P], Any]:
        """Forget the open pools (close); return them with the owner they belong to."""
        with self.lock:
            old = [p for p in (self.primary, self.replica) if p is not None]
            owner, self.primary, self.replica, self.owner = self.owner, None, None, None
        return old, owner

    def use_replica(self, reads: bool) -> bool:
        return reads and self.replica is not None and monotonic() >= self.replica_down_until

    def replica_failed(self, exc: BaseException) -> None:
        """Send reads to the primary for a while; say so once per outage."""
        if monotonic() >= self.replica_down_until:
            target = self.settings.replica_target if self.settings else "the replica"
            log.warning(
                "replica %s unavailable (%s): reads go to the primary for %gs",
                target,
                type(exc).__name__,
                REPLICA_RETRY_AFTER,
            )
        self.replica_down_until = monotonic() + REPLICA_RETRY_AFTER

    def stats(self) -> dict[str, dict[str, int]]:
        """psycopg_pool's statistics of each open pool, for a health endpoint."""
        pools = {"primary": self.primary, "replica": self.replica}
        return {name: p.get_stats() for name, p in pools.items() if p is not None}  # type: ignore[attr-defined]


def pool_kwargs(settings: _config.Settings, name: str, replica: bool) -> dict[str, Any]:
    """Arguments of a psycopg_pool pool: autocommit connections, created closed."""
    arguments = settings.pool_arguments(name, replica=replica)
    arguments["kwargs"] = {**arguments["kwargs"], "autocommit": True}
    if replica:
        arguments["timeout"] = min(arguments.get("timeout", 10.0), REPLICA_CHECKOUT_TIMEOUT)
    return arguments
