"""Failover and switchover under pooled load, on a real pg_auto_failover formation.

    python bench/bench_failover.py [--rounds R] [--writers W] [--readers N]

Starts the ``ha_cluster`` formation (codezest_db.testing.ha: a monitor and two
data nodes, synchronous replication, on loopback ports; Debian's
``postgresql-15-auto-failover`` and ``pg-auto-failover-cli``). Both pools run
at once, each with its own writers and readers through pooled calls on the
multi-host URL (``target_session_attrs=read-write``): sync threads, and
asyncio tasks in a loop of their own. Each round then either stops the
primary (``pg_ctl stop -m immediate``; the old primary rejoins as a standby
before the next round) or asks for a planned ``pg_autoctl perform
switchover``, and times, from that moment (monotonic clock):

- promoted: the standby's own ``pg_is_in_recovery()`` turns false (a watcher
  connection polling every 20 ms);
- writable: the promoted node commits a write of the watcher's
  (pg_auto_failover holds commits there until the old primary is known down);
- first pooled write: the first write acknowledged to a writer after that.

The engine's part is "writable"; the library's part is first pooled write
minus writable (goal: under 1 s). Failed calls are counted per phase: before
promotion, between promotion and writable, after writable. Medians over the
rounds; every round's figures are printed too.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import threading
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

import codezest_db as db
from codezest_db import aio, errors, queries
from codezest_db.testing.ha import HACluster, ha_formation, watch_promotion

VERBOSE = False  # --verbose: each failure's message, not only its class
PAUSE = 0.005  # between a worker's calls
POOL = {"min_size": 2, "max_size": 4}


@dataclass
class Ledger:
    """What one flavour's workers saw: acknowledged writes and failed calls, with times."""

    writes: list[float] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)
    ids: list[uuid.UUID] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, user_id: uuid.UUID) -> None:
        with self.lock:
            self.writes.append(time.monotonic())
            self.ids.append(user_id)

    def fail(self, kind: str, exc: BaseException) -> None:
        name = "ConnectionFailed" if isinstance(exc, errors.ConnectionFailed) else repr(exc)
        if VERBOSE:
            name = f"{name} ({str(exc).splitlines()[0].rsplit('/codezest_ha', 1)[-1][:160]})"
        with self.lock:
            self.failures.append((time.monotonic(), f"{kind} {name}"))

    def some_id(self) -> uuid.UUID | None:
        with self.lock:
            return self.ids[-1] if self.ids else None

    def first_write_after(self, moment: float) -> float | None:
        with self.lock:
            after = [at for at in self.writes if at > moment]
        return min(after) - moment if after else None

    def failed(self, start: float, end: float) -> Counter[str]:
        with self.lock:
            return Counter(what for at, what in self.failures if start <= at < end)


def _email() -> str:
    return f"bench-ha-{uuid.uuid4().hex[:12]}@example.com"


def write_sync(ledger: Ledger) -> None:
    try:
        user = queries.auth.create_user(email=_email(), password_hash="h", name="B", role="STUDENT")
    except Exception as exc:
        ledger.fail("write", exc)
    else:
        ledger.ack(user.id)


def read_sync(ledger: Ledger) -> None:
    user_id = ledger.some_id()
    if user_id is None:
        return
    try:
        queries.auth.get_user_by_id(id=user_id)
    except Exception as exc:
        ledger.fail("read", exc)


async def write_async(ledger: Ledger) -> None:
    try:
        user = await aio.queries.auth.create_user(
            email=_email(), password_hash="h", name="B", role="STUDENT"
        )
    except Exception as exc:
        ledger.fail("write", exc)
    else:
        ledger.ack(user.id)


async def read_async(ledger: Ledger) -> None:
    user_id = ledger.some_id()
    if user_id is None:
        return
    try:
        await aio.queries.auth.get_user_by_id(id=user_id)
    except Exception as exc:
        ledger.fail("read", exc)


class Load:
    """Sync writer/reader threads and an asyncio loop of writer/reader tasks, until `stop`."""

    def __init__(self, url: str, writers: int, readers: int) -> None:
        self.sync, self.asyncio = Ledger(), Ledger()
        self._stop = threading.Event()
        db.configure(url, replica_url="", **POOL)
        self._async_calls = [write_async] * writers + [read_async] * readers
        calls = [write_sync] * writers + [read_sync] * readers
        self._threads = [threading.Thread(target=self._loop, args=(call,)) for call in calls]
        self._threads.append(threading.Thread(target=lambda: asyncio.run(self._tasks(url))))

    def _loop(self, call: Callable[[Ledger], None]) -> None:
        while not self._stop.is_set():
            call(self.sync)
            time.sleep(PAUSE)

    async def _tasks(self, url: str) -> None:
        aio.configure(url, replica_url="", **POOL)

        async def worker(call: Callable[[Ledger], Awaitable[None]]) -> None:
            while not self._stop.is_set():
                await call(self.asyncio)
                await asyncio.sleep(PAUSE)

        try:
            await asyncio.gather(*(worker(call) for call in self._async_calls))
        finally:
            await aio.close()

    def start(self) -> None:
        for thread in self._threads:
            thread.start()
        _wait(lambda: len(self.sync.writes) > 20 and len(self.asyncio.writes) > 20, "warm-up", 60)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        db.close()


@dataclass
class Round:
    kind: str
    started: float = 0.0
    promoted: float = 0.0
    writable: float = 0.0


def _wait(done: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.02)


def one_round(cluster: HACluster, load: Load, kind: str) -> Round:
    """Fail over (or switch over) once under *load*; return when each phase ended."""
    standby = cluster.standby()
    stop, seen = threading.Event(), list[float]()
    watcher = watch_promotion(standby, stop, seen)
    event = Round(kind)
    try:
        event.started = time.monotonic()
        if kind == "failover":
            cluster.stop_primary(mode="immediate")
            cluster.wait_for_primary(timeout=90)
        else:
            cluster.switchover(timeout=90)
        _wait(lambda: len(seen) == 2, "the new primary to commit", 30)
    finally:
        stop.set()
        watcher.join(10)
    event.promoted, event.writable = seen[0], seen[-1]
    both = (load.sync, load.asyncio)
    written = lambda: all(ledger.first_write_after(event.writable) is not None for ledger in both)  # noqa: E731
    _wait(written, "a pooled write on the new primary", 60)
    time.sleep(1)  # the failures of the phase after writable, if any, are counted
    return event


def figures(event: Round, ledger: Ledger) -> dict[str, object]:
    library = ledger.first_write_after(event.writable)
    return {
        "promoted_s": event.promoted - event.started,
        "writable_s": event.writable - event.started,
        "library_s": library,
        "first_write_s": event.writable - event.started + (library or 0.0),
        "failed_before_promotion": sum(ledger.failed(event.started, event.promoted).values()),
        "failed_promotion_to_writable": sum(ledger.failed(event.promoted, event.writable).values()),
        "failed_after_writable": sum(ledger.failed(event.writable, float("inf")).values()),
        "kinds": dict(ledger.failed(event.started, float("inf"))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--verbose", action="store_true", help="group failures by message")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    # psycopg_pool logs every failed connection attempt and dropped connection.
    logging.getLogger("psycopg.pool").setLevel(logging.CRITICAL)
    results: dict[tuple[str, str], list[dict[str, object]]] = {}
    with ha_formation() as cluster:
        print(f"formation started in {cluster.started_in:.1f} s")
        for kind in ("failover", "switchover"):
            for number in range(args.rounds):
                cluster.heal()
                load = Load(cluster.url, args.writers, args.readers)
                load.start()
                try:
                    event = one_round(cluster, load, kind)
                finally:
                    load.stop()
                for flavour, ledger in (("sync", load.sync), ("asyncio", load.asyncio)):
                    row = figures(event, ledger)
                    results.setdefault((kind, flavour), []).append(row)
                    print(f"{kind} {number + 1} {flavour}: {_show(row)}", flush=True)
    print("\nmedians:")
    for (kind, flavour), rows in results.items():
        keys = [key for key in rows[0] if key != "kinds"]
        medians = {key: statistics.median(_number(row[key]) for row in rows) for key in keys}
        print(f"{kind:10} {flavour:7} {_show(medians)}")


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) else float("nan")


def _show(row: Mapping[str, object]) -> str:
    return ", ".join(
        f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in row.items()
    )


if __name__ == "__main__":
    main()
