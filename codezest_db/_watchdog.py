"""One thread per process that bounds pooled calls on a server that stopped answering.

A server that is frozen (SIGSTOP, a paused VM, a hung host) or cut off leaves
a call that has sent its statement waiting for a reply that never comes: on
loopback a stopped server's kernel still acknowledges TCP and answers
keepalives, so ``tcp_user_timeout`` and keepalives never fire, and
``statement_timeout`` is the frozen server's own. Only the client can tell.

`codezest_db.aio` and `codezest_db.pool` register every pooled call in flight
(`watch`, `unwatch`: a dict insert and pop, no lock, no timer). Every
`INTERVAL` seconds the watchdog thread looks at them. When a call of a server
has been in flight longer than its pool's ``suspect_after`` seconds, the
watchdog asks the server whether it is alive: one new connection and
``select 1``, given ``suspect_after`` seconds (never more than one probe per
server at a time, and none again for ``suspect_after`` seconds after an
answer). A server that answers is alive and the call is merely slow: it goes
on, bounded by the server's ``statement_timeout`` if any. A server that does
not answer is frozen or gone: every call in flight on it is cut, its
connection's socket shut down (through a duplicate of its descriptor, so
libpq's own descriptor stays its own), and its blocked read fails at once, in
a thread as in an event loop. While the server stays silent (it is probed
again, back to back, as long as calls wait on it) new calls on it are cut
after `INTERVAL`. The callers turn a cut into `ConnectionFailed`
(`failure`): a frozen server costs a call at most about
``2 * suspect_after + INTERVAL`` seconds.

The thread is a daemon, started with the first pool of a process and again in
a forked child (`os.register_at_fork`), so the hot path checks nothing.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import threading
from time import monotonic, sleep
from typing import Any

import psycopg

from . import _config
from .errors import ConnectionFailed

__all__ = ["INTERVAL", "Call", "describe", "failure", "start", "unwatch", "was_cut", "watch"]

INTERVAL = 0.25  # seconds between two looks at the calls in flight

log = logging.getLogger("codezest_db.pool")

# A call in flight: [started (monotonic), connection, its pool's Role, seconds it
# had waited when it was cut (0.0: not cut)]. A list: the cheapest thing to make.
Call = list[Any]
_STARTED, _CONN, _ROLE, _CUT = range(4)

_calls: dict[int, Call] = {}  # id(call) -> call
_targets: dict[str, _Target] = {}  # by conninfo (never shown): sync and asyncio pools share it
_lock = threading.Lock()
_thread: threading.Thread | None = None
_cut_total = 0  # calls cut since the process started (for tests and a health check)


def watch(conn: Any, role: Any) -> Call:
    """Register a pooled call on *conn* (of the pool *role*) now in flight; `unwatch` it after."""
    call = [monotonic(), conn, role, 0.0]
    _calls[id(call)] = call
    return call


def unwatch(call: Call) -> None:
    """The call is over (whatever its outcome)."""
    _calls.pop(id(call), None)


def was_cut(call: Call) -> bool:
    """Whether the watchdog cut the call: its server answered neither it nor a new connection."""
    return bool(call[_CUT])


def describe(call: Call) -> str:
    return (
        f"no answer from {call[_ROLE].target} for {call[_CUT]:.1f}s, nor to a new connection: "
        "the server is frozen or unreachable (the call was cut by codezest_db's watchdog)"
    )


def failure(call: Call, cause: BaseException, *, sent: bool) -> ConnectionFailed:
    """The error of a cut call; *sent*: whether its statement had been sent (it may have run)."""
    error = ConnectionFailed(describe(call))
    error.statement_may_have_run = sent
    error.__cause__ = cause
    return error


def cut_total() -> int:
    """How many calls the watchdog has cut in this process."""
    return _cut_total


def start() -> None:
    """Start the watchdog thread of this process, unless it runs already."""
    global _thread
    if _thread is not None and _thread.is_alive():
        return
    with _lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_watch, name="codezest-watchdog", daemon=True)
            _thread.start()


def _forked() -> None:
    # The child has no watchdog thread and none of its parent's calls in flight.
    global _thread, _lock
    _thread, _lock = None, threading.Lock()
    _calls.clear()
    _targets.clear()


os.register_at_fork(after_in_child=_forked)


class _Probe:
    """A new connection and ``select 1``, in a thread of its own: does the server live?"""

    __slots__ = ("abandoned", "answered", "conn", "deadline", "lock")

    def __init__(self, conninfo: str, kwargs: dict[str, Any], timeout: float) -> None:
        self.deadline = monotonic() + timeout
        self.answered: bool | None = None  # None: no verdict yet
        self.conn: psycopg.Connection[Any] | None = None
        self.abandoned = False
        self.lock = threading.Lock()
        # libpq's connect_timeout is whole seconds, at least 2; the deadline is ours.
        kwargs = {**kwargs, "connect_timeout": max(2, math.ceil(timeout))}
        threading.Thread(
            target=self._run, args=(conninfo, kwargs), name="codezest-watchdog-probe", daemon=True
        ).start()

    def _run(self, conninfo: str, kwargs: dict[str, Any]) -> None:
        try:
            conn = psycopg.connect(conninfo, **kwargs)
        except psycopg.Error as exc:
            self.answered = _answered(exc)
            return
        except Exception:  # a probe must never take the watchdog down
            self.answered = False
            return
        with self.lock:
            self.conn = conn
            abandoned = self.abandoned
        try:
            if abandoned:
                return
            conn.execute("select 1")
            self.answered = True
        except psycopg.Error as exc:
            self.answered = exc.sqlstate is not None  # an error from the server is an answer
        finally:
            with self.lock:
                self.conn = None
            conn.close()

    def abandon(self) -> None:
        """Past its deadline: stop waiting for the server (shut the probe's socket down)."""
        with self.lock:
            self.abandoned = True
            conn = self.conn
        if conn is not None:
            _shutdown(conn)


def _answered(exc: psycopg.Error) -> bool:
    """Whether a failed connection attempt got a reply from the server (it lives)."""
    text = str(exc)
    replied = exc.sqlstate is not None or "FATAL:" in text or "ERROR:" in text
    return replied or _config.permanent(exc)


class _Target:
    """What the watchdog knows of one server: its probe, when it last answered, if it is silent."""

    __slots__ = ("answered_at", "down_until", "probe", "role")

    def __init__(self, role: Any) -> None:
        self.role = role  # a Role that connects there: how to probe, what to call it
        self.probe: _Probe | None = None
        self.answered_at = 0.0
        self.down_until = 0.0


def _watch() -> None:
    while True:
        sleep(INTERVAL)
        try:
            _look(monotonic())
        except Exception:  # never let one bad look end the thread
            log.exception("codezest_db watchdog: unexpected error")


def _look(now: float) -> None:
    """One look at the calls in flight: probe servers that keep calls waiting, cut the frozen."""
    waiting: dict[str, list[Call]] = {}
    for call in list(_calls.values()):  # a copy made under the GIL: other threads may add
        role = call[_ROLE]
        if role.suspect_after is not None:
            waiting.setdefault(role.connect_args[0], []).append(call)
    for key, calls in waiting.items():
        if key not in _targets:
            _targets[key] = _Target(calls[0][_ROLE])
    for key, target in list(_targets.items()):
        calls = waiting.get(key, [])
        _settle(target, now, len(calls))
        if not calls:
            if target.probe is None and now >= target.down_until:
                del _targets[key]  # nothing waits on it, nothing known that matters now
        elif now < target.down_until:  # silent: cut what waits on it, ask again
            for call in calls:
                if now - call[_STARTED] >= INTERVAL:
                    _cut(call, now)
            if target.probe is None:
                target.probe = _probe(target.role)
        elif (
            target.probe is None
            and now - target.answered_at >= target.role.suspect_after
            and any(now - call[_STARTED] >= call[_ROLE].suspect_after for call in calls)
        ):
            target.probe = _probe(target.role)


def _probe(role: Any) -> _Probe:
    conninfo, kwargs = role.connect_args
    return _Probe(conninfo, kwargs, role.suspect_after)


def _settle(target: _Target, now: float, waiting: int) -> None:
    """Take the verdict of *target*'s probe, if it has one (no answer by its deadline: silent)."""
    probe = target.probe
    if probe is None or (probe.answered is None and now < probe.deadline):
        return
    target.probe = None
    if probe.answered:
        if target.down_until:
            log.warning("server %s answers again", target.role.target)
        target.answered_at, target.down_until = now, 0.0
        return
    probe.abandon()
    if not target.down_until:
        log.warning(
            "server %s did not answer a new connection within %gs: "
            "%d pooled call(s) waiting on it are cut (ConnectionFailed)",
            target.role.target,
            target.role.suspect_after,
            waiting,
        )
    # Silent until the next probe can say otherwise (a probe of a silent server
    # takes suspect_after): cut calls of it meanwhile.
    target.down_until = now + target.role.suspect_after + 2 * INTERVAL


def _cut(call: Call, now: float) -> None:
    global _cut_total
    if id(call) not in _calls or call[_CUT]:
        return  # over meanwhile, or cut already
    call[_CUT] = now - call[_STARTED]  # before the shutdown: the woken caller reads it
    if _shutdown(call[_CONN]):
        _cut_total += 1
        call[_ROLE].liveness.suspect_all()  # its idle siblings are checked before reuse


def _shutdown(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> bool:
    """Shut *conn*'s socket down, so that a read blocked on it ends now; True if done.

    The socket is reached through a duplicate of the descriptor, taken while
    the connection is open (checked after: a closed connection's descriptor
    number may already belong to another socket); libpq keeps its own.
    """
    try:
        fd = conn.fileno()
        dup = os.dup(fd)
    except (psycopg.Error, OSError):
        return False
    try:
        if conn.closed or conn.fileno() != fd:
            return False
        with socket.socket(fileno=dup) as sock:
            dup = -1  # the socket object owns it now
            with contextlib.suppress(OSError):  # already shut down, or gone: nothing to wake
                sock.shutdown(socket.SHUT_RDWR)
        return True
    except (psycopg.Error, OSError):
        return False
    finally:
        if dup >= 0:
            os.close(dup)
