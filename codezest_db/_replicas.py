"""How far behind its primary a replica is, measured, so reads stay within ``max_replica_lag``.

One `Monitor` per (primary, replica) pair and process, shared by the sync and
the asyncio pools: a daemon thread with two connections of its own (not
pooled), which every `interval` seconds asks

1. the primary for its WAL position (``pg_current_wal_lsn()``), at time *t*;
2. the replica for the position it has replayed (``pg_last_wal_replay_lsn()``).

The primary's positions are kept with the times they were read. The latest
*t* whose position the replica has replayed is when the replica was last
known to hold everything the primary had committed: every transaction
acknowledged before *t* is on the replica. The lag is the time since then,
measured on this process's own clock (no clock of the servers is compared),
and it is an upper bound: up to one interval (and a round trip) more than the
true lag, never less.

A pooled read goes to the replica only while ``monotonic() - caught_up_at``
is under the bound: replay paused or slow, the bound passes and reads go to
the primary until the replica catches up. A replica that cannot be reached
(or a read on it that fails) stops its reads at once; the monitor then tries
again with backoff (`BACKOFF`), off the request path, and reads come back
with its next good measurement. While the primary cannot be reached, the lag
is unknown, and reads go to the primary too.

The thread stops measuring (and closes its connections) after `IDLE_AFTER`
seconds without a read that wanted the replica; the next one finds the lag
unknown, goes to the primary, and wakes the thread.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import math
import os
import threading
from collections import deque
from time import monotonic
from typing import Any

import psycopg

from .errors import from_psycopg, redact_url

__all__ = ["BACKOFF", "IDLE_AFTER", "Monitor", "monitor_for"]

log = logging.getLogger("codezest_db.pool")

IDLE_AFTER = 30.0  # seconds without a replica read: the monitor sleeps
BACKOFF = (0.25, 10.0)  # seconds before the first retry of a failed replica, and at most
MAX_INTERVAL = 0.25  # seconds between measurements, at most (less for a tight bound)
MIN_INTERVAL = 0.02
_HISTORY = 4096  # primary positions kept, at most

# One round trip each; a server in recovery (a standby named as the primary,
# or a replica) gives the position it has replayed.
_POSITION = (
    "select case when pg_is_in_recovery() then pg_last_wal_replay_lsn() "
    "else pg_current_wal_lsn() end - '0/0'::pg_lsn"
)


class Monitor:
    """The measured lag of one replica behind its primary (see the module's doc).

    `fresh` and `failed` are what the request path calls: no I/O, no lock.
    """

    def __init__(self, primary: str, replica: str, kwargs: dict[str, Any]) -> None:
        self.primary_url = primary
        self.replica_url = replica
        self.target = redact_url(replica)
        self.kwargs = {**kwargs, "autocommit": True, "prepare_threshold": None}
        self.caught_up_at = 0.0  # monotonic time the replica last held all the primary had
        self.interval = MAX_INTERVAL
        self.last_demand = 0.0
        self.failures = 0  # failed measurements in a row
        self.error = ""  # why the last measurement failed, if it did
        self.measured = 0  # good measurements so far
        self.pid = os.getpid()
        self._history: deque[tuple[float, int]] = deque(maxlen=_HISTORY)
        self._connections: dict[str, psycopg.Connection[Any]] = {}
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._idle = False  # the thread waits for a read to want the replica
        self._lock = threading.Lock()

    # The request path.

    def fresh(self, bound: float) -> bool:
        """Whether a read may go to the replica now: lag known and under *bound* seconds."""
        now = monotonic()
        if now - self.last_demand > 0.05:  # (a store per call would cost more than this test)
            self._demand(now, bound)
        caught_up = self.caught_up_at
        return caught_up > 0.0 and now - caught_up < bound

    def lag(self) -> float:
        """The measured lag in seconds (an upper bound); ``math.inf`` when not known."""
        return monotonic() - self.caught_up_at if self.caught_up_at else math.inf

    def failed(self, exc: BaseException) -> None:
        """A read on the replica failed: no more reads there until a new measurement."""
        self.caught_up_at = 0.0
        self._history.clear()
        self._wake.set()

    def _demand(self, now: float, bound: float) -> None:
        self.last_demand = now
        interval = min(MAX_INTERVAL, max(MIN_INTERVAL, bound / 4))
        if interval < self.interval:
            self.interval = interval
        thread = self._thread
        if thread is None or not thread.is_alive():
            self.start()
        elif self._idle:
            self._idle = False
            self._wake.set()

    # The thread.

    def start(self) -> None:
        """Start measuring (again) in a daemon thread; idempotent."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self.last_demand = monotonic()
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name=f"codezest-replica-lag {self.target}", daemon=True
            )
            self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the thread and close its connections (waits at most *timeout* seconds)."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if monotonic() - self.last_demand > IDLE_AFTER:
                    self._close()
                    self.caught_up_at = 0.0
                    self._wake.clear()
                    self._idle = True
                    self._wake.wait()  # until a read wants the replica again
                    self._idle = False
                    continue
                try:
                    self.measure()
                except Exception as exc:  # any failure: the lag is not known
                    pause = self._failed(exc)
                else:
                    pause = self.interval
                self._wake.clear()
                self._wake.wait(pause)
        finally:
            self._close()

    def measure(self) -> None:
        """Read both positions once and update `caught_up_at` (raises what psycopg raises)."""
        at = monotonic()
        primary = self._position("primary", self.primary_url)
        replayed = self._position("replica", self.replica_url)
        history = self._history
        history.append((at, primary))
        caught_up = 0.0
        while history and history[0][1] <= replayed:
            caught_up = history[0][0]
            if len(history) == 1:
                break
            history.popleft()
        if caught_up > self.caught_up_at:
            self.caught_up_at = caught_up
        if self.failures:
            log.warning("replica %s answers again: reads may go there", self.target)
        self.failures, self.error = 0, ""
        self.measured += 1

    def _position(self, which: str, url: str) -> int:
        conn = self._connections.get(which)
        if conn is None or conn.closed:
            conn = self._connections[which] = psycopg.connect(url, **self.kwargs)
        row = conn.execute(_POSITION).fetchone()
        if row is None or row[0] is None:
            raise psycopg.OperationalError(f"no WAL position from the {which}")
        return int(row[0])

    def _failed(self, exc: BaseException) -> float:
        """Forget freshness, close the connections; return the pause before the next try."""
        self.caught_up_at = 0.0
        self._history.clear()
        self._close()
        self.failures += 1
        reason = str(from_psycopg(exc)) if isinstance(exc, psycopg.Error) else repr(exc)
        if self.failures == 1 or reason != self.error:
            log.warning(
                "replica lag of %s unknown (%s): reads go to the primary until it is measured",
                self.target,
                reason,
            )
        self.error = reason
        first, most = BACKOFF
        return float(min(most, first * 2 ** (self.failures - 1)))

    def _close(self) -> None:
        for conn in list(self._connections.values()):
            with contextlib.suppress(Exception):  # closing a connection that failed
                conn.close()
        self._connections.clear()


_monitors: dict[tuple[str, str, str], Monitor] = {}
_monitors_lock = threading.Lock()


def monitor_for(primary: str, replica: str, kwargs: dict[str, Any]) -> Monitor:
    """The monitor of this replica behind this primary, started (one per process)."""
    key = (primary, replica, repr(sorted(kwargs.items())))
    with _monitors_lock:
        monitor = _monitors.get(key)
        if monitor is None or monitor.pid != os.getpid():
            monitor = _monitors[key] = Monitor(primary, replica, kwargs)
    monitor.start()
    return monitor


def _forget_after_fork() -> None:  # a child has none of its parent's threads
    global _monitors_lock
    _monitors.clear()
    _monitors_lock = threading.Lock()


def _stop_all(timeout: float = 1.0) -> None:
    """At interpreter exit: stop measuring, close the monitors' connections.

    Waits *timeout* seconds in all at most (a thread stuck on a frozen server
    is a daemon: it does not hold the exit).
    """
    monitors = list(_monitors.values())
    for monitor in monitors:
        monitor.stop(timeout=0)
    deadline = monotonic() + timeout
    for monitor in monitors:
        monitor.stop(timeout=max(0.0, deadline - monotonic()))


atexit.register(_stop_all)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)
