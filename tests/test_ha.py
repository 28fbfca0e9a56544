"""Failover on a real pg_auto_failover formation (issue 22), sync and asyncio.

The ``ha_cluster`` fixture (codezest_db.testing.ha) starts a monitor and two
data nodes with synchronous replication on loopback ports. The tests check
the fixture itself, then put load on the pools (writers creating users and
recording every acknowledged write, readers reading them back), take the
primary down with ``pg_ctl stop -m immediate`` and let pg_auto_failover
promote the standby; then a planned ``pg_autoctl perform switchover``.

What must hold (asserted on counts, never on durations):

- no acknowledged write is lost: every acked row is on the new primary;
- a write that failed with ``statement_may_have_run`` False is not there;
- every failed call is a ``ConnectionFailed`` (any other type counts as wrong);
- no write is accepted by a read-only node: PostgreSQL refuses it (25006),
  so what can go wrong is the class of that refusal (a ``ConnectionFailed``
  the pool reconnects after, not a query error) or a row acked on the old
  primary after it lost the formation (the first check);
- calls succeed again once the new primary takes writes (a bounded wait).

The timings are printed (``pytest tests/test_ha.py -rP``), not asserted:
the engine's part, from stopping the primary to the standby's promotion and
to its first committed write (pg_auto_failover holds commits on the promoted
node until the old primary is known down), and the library's part, from
that first committed write to the first acknowledged pooled write.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

import codezest_db as db
from codezest_db import aio, errors, queries
from codezest_db.testing.ha import HACluster, HANode, watch_promotion
from tests.conftest import run_async

# A formation starts in tens of seconds on a busy machine, a failover takes
# several more, and a node rejoins after it: more than the suite's default.
pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]

WRITERS = 3
READERS = 2
PAUSE = 0.005  # between a worker's calls: keeps two shared cores usable
RECOVERY_TIMEOUT = 60.0  # for calls to succeed again after the new primary takes writes
POOL = {"min_size": 2, "max_size": 4}


@pytest.fixture
def formation(ha_cluster: HACluster, monkeypatch: pytest.MonkeyPatch) -> Iterator[HACluster]:
    """The formation whole (a node an earlier test stopped is back); pools closed after."""
    monkeypatch.delenv("DATABASE_REPLICA_URL", raising=False)
    ha_cluster.heal()
    try:
        yield ha_cluster
    finally:
        db.close()


# -- the fixture --------------------------------------------------------------


def test_formation_is_a_primary_and_a_synchronous_standby(formation: HACluster) -> None:
    primary, standby = formation.primary(), formation.standby()
    assert {primary, standby} == set(formation.nodes)
    states = sorted((row["reportedstate"], row["goalstate"]) for row in formation.nodes_state())
    assert states == [("primary", "primary"), ("secondary", "secondary")]
    assert formation.started_in is not None
    print(f"formation started in {formation.started_in:.1f} s")

    with psycopg.connect(primary.url, autocommit=True) as conn:
        row = conn.execute(
            "select pg_is_in_recovery(), current_setting('synchronous_standby_names'),"
            " (select array_agg(sync_state) from pg_stat_replication),"
            " inet_server_addr()::text, current_setting('listen_addresses')"
        ).fetchone()
    assert row is not None
    in_recovery, sync_names, sync_states, address, listen = row
    assert not in_recovery
    assert sync_names.startswith("ANY 1"), sync_names
    assert sync_states in (["quorum"], ["sync"])
    assert (address, listen) == ("127.0.0.1/32", "127.0.0.1")

    # The multi-host URLs pick the node by role; both copies are migrated.
    for url, node, recovery in (
        (formation.url, primary, False),
        (formation.replica_url, standby, True),
    ):
        with psycopg.connect(url, autocommit=True) as conn:
            assert conn.info.port == node.port
            found = conn.execute(
                "select pg_is_in_recovery(), to_regclass('auth.users') is not null"
            ).fetchone()
            assert found == (recovery, True)


def test_switchover_swaps_primary_and_standby(formation: HACluster) -> None:
    primary, standby = formation.primary(), formation.standby()
    new_primary, new_standby = formation.switchover()
    assert (new_primary, new_standby) == (standby, primary)
    with psycopg.connect(formation.url, autocommit=True) as conn:
        assert conn.info.port == standby.port
        assert conn.execute("select pg_is_in_recovery()").fetchone() == (False,)


def test_a_stopped_primary_stays_down_until_started(formation: HACluster) -> None:
    old = formation.stop_primary()
    new = formation.wait_for_primary(timeout=60)
    assert new != old
    # pg_autoctl, which would restart it, was stopped with it.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(old.url, connect_timeout=2).close()
    formation.start(old)  # back as the standby
    assert formation.wait_for_formation() == (new, old)


def test_stop_primary_refuses_an_unknown_mode(formation: HACluster) -> None:
    with pytest.raises(ValueError, match="mode"):
        formation.stop_primary(mode="gentle")
    assert formation.wait_for_formation(timeout=5)  # nothing was stopped


# -- load: a ledger of every call ---------------------------------------------


@dataclass
class Failure:
    kind: str  # "write" / "read"
    error: BaseException
    at: float
    email: str | None = None

    def describe(self) -> str:
        exc = self.error
        cause = exc.__cause__
        return (
            f"{self.kind}: {type(exc).__module__}.{type(exc).__name__}"
            f" sqlstate={getattr(exc, 'sqlstate', None)}"
            f" may_have_run={getattr(exc, 'statement_may_have_run', None)}"
            f" cause={type(cause).__name__ if cause else None}: {str(exc).splitlines()[:1]}"
        )


@dataclass
class Ledger:
    """What every writer and reader saw: acknowledged writes, reads, failures."""

    acked: dict[str, tuple[uuid.UUID, float]] = field(
        default_factory=dict
    )  # email -> (id, acked at)
    reads: list[float] = field(default_factory=list)  # when each successful read returned
    missing_reads: list[uuid.UUID] = field(default_factory=list)  # acked ids a read did not find
    failures: list[Failure] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ack(self, email: str, user_id: uuid.UUID) -> None:
        with self.lock:
            self.acked[email] = (user_id, time.monotonic())

    def some_acked_id(self) -> uuid.UUID | None:
        with self.lock:
            if not self.acked:
                return None
            return random.choice(list(self.acked.values()))[0]

    def fail(self, kind: str, exc: BaseException, email: str | None = None) -> None:
        with self.lock:
            self.failures.append(Failure(kind, exc, time.monotonic(), email))

    def successes_after(self, moment: float) -> tuple[int, int]:
        with self.lock:
            writes = sum(1 for _, at in self.acked.values() if at > moment)
            reads = sum(1 for at in self.reads if at > moment)
        return writes, reads

    def first_write_after(self, moment: float) -> float | None:
        with self.lock:
            after = [at for _, at in self.acked.values() if at > moment]
        return min(after) - moment if after else None

    def failed_between(self, start: float, end: float) -> Counter[str]:
        return Counter(
            f"{f.kind} {type(f.error).__name__}" for f in self.failures if start <= f.at <= end
        )

    def wrong(self) -> list[str]:
        """Failures that are not ConnectionFailed, described."""
        return [f.describe() for f in self.failures if not _is_connection_failed(f.error)]

    def not_run_emails(self) -> list[str]:
        """Emails of writes that failed saying the statement was not sent."""
        return [
            f.email
            for f in self.failures
            if f.email
            and isinstance(f.error, errors.ConnectionFailed)
            and not f.error.statement_may_have_run
        ]


def _is_connection_failed(exc: BaseException) -> bool:
    return isinstance(exc, errors.ConnectionFailed)


def new_email() -> str:
    return f"ha-{uuid.uuid4().hex[:12]}@example.com"


def write_sync(ledger: Ledger) -> None:
    email = new_email()
    try:
        user = queries.auth.create_user(email=email, password_hash="h", name="HA", role="STUDENT")
    except Exception as exc:
        ledger.fail("write", exc, email)
    else:
        assert user is not None
        ledger.ack(email, user.id)


def read_sync(ledger: Ledger) -> None:
    user_id = ledger.some_acked_id()
    if user_id is None:
        return
    try:
        user = queries.auth.get_user_by_id(id=user_id)
    except Exception as exc:
        ledger.fail("read", exc)
    else:
        with ledger.lock:
            ledger.reads.append(time.monotonic())
            if user is None:
                ledger.missing_reads.append(user_id)


async def write_async(ledger: Ledger) -> None:
    email = new_email()
    try:
        user = await aio.queries.auth.create_user(
            email=email, password_hash="h", name="HA", role="STUDENT"
        )
    except Exception as exc:
        ledger.fail("write", exc, email)
    else:
        assert user is not None
        ledger.ack(email, user.id)


async def read_async(ledger: Ledger) -> None:
    user_id = ledger.some_acked_id()
    if user_id is None:
        return
    try:
        user = await aio.queries.auth.get_user_by_id(id=user_id)
    except Exception as exc:
        ledger.fail("read", exc)
    else:
        with ledger.lock:
            ledger.reads.append(time.monotonic())
            if user is None:
                ledger.missing_reads.append(user_id)


class SyncLoad:
    """Writer and reader threads calling the sync pools until `stop`."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._stop = threading.Event()
        self._crashes: list[BaseException] = []
        calls = [write_sync] * WRITERS + [read_sync] * READERS
        self._threads = [threading.Thread(target=self._loop, args=(call,)) for call in calls]

    def _loop(self, call: Callable[[Ledger], None]) -> None:
        try:
            while not self._stop.is_set():
                call(self.ledger)
                time.sleep(PAUSE)
        except BaseException as exc:  # an assertion in a worker: reported by stop()
            self._crashes.append(exc)

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in self._threads), "a worker hung"
        assert not self._crashes, self._crashes


def wait_for(done: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.02)


@dataclass
class Event:
    """One failover or switchover, and when its phases happened (monotonic)."""

    started: float = 0.0  # the primary is being stopped (failover) / switchover asked
    promoted: float = 0.0  # the standby left recovery (its own pg_is_in_recovery())
    writable: float = 0.0  # the new primary committed a write of the watcher's
    settled: float = 0.0  # the monitor reports the new primary

    def record(self, seen: list[float]) -> None:
        self.promoted, self.writable = seen[0], seen[-1]


def observed(cluster: HACluster, event: Event, act: Callable[[], HANode]) -> HANode:
    """Run *act* (which makes the standby primary; returns the new primary), timing it."""
    standby = cluster.standby()
    stop, seen = threading.Event(), list[float]()
    watcher = watch_promotion(standby, stop, seen)
    try:
        event.started = time.monotonic()
        new = act()
        event.settled = time.monotonic()
        wait_for(lambda: len(seen) == 2, "the new primary to commit a write", timeout=30)
    finally:
        stop.set()
        watcher.join(10)
    assert new == standby
    event.record(seen)
    return new


def fail_over(cluster: HACluster, event: Event) -> tuple[HANode, HANode]:
    """Stop the primary; return (old primary, new primary) once the monitor has one."""
    old = cluster.primary()

    def act() -> HANode:
        assert cluster.stop_primary(mode="immediate") == old
        return cluster.wait_for_primary(timeout=90)

    return old, observed(cluster, event, act)


def switch_over(cluster: HACluster, event: Event) -> tuple[HANode, HANode]:
    old = cluster.primary()
    return old, observed(cluster, event, lambda: cluster.switchover(timeout=90)[0])


def present_on(node: HANode, emails: list[str]) -> set[str]:
    with psycopg.connect(node.url, autocommit=True) as conn:
        rows = conn.execute(
            "select email::text from auth.users where email = any(%s)", (emails,)
        ).fetchall()
    return {row[0] for row in rows}


def report(title: str, ledger: Ledger, event: Event) -> dict[str, Any]:
    figures = {
        "engine: stop to promotion (s)": round(event.promoted - event.started, 3),
        "engine: stop to the new primary taking writes (s)": round(
            event.writable - event.started, 3
        ),
        "monitor reports the new primary (s)": round(event.settled - event.started, 3),
        "library: new primary taking writes to first pooled write (s)": _rounded(
            ledger.first_write_after(event.writable)
        ),
        "acked writes": len(ledger.acked),
        "successful reads": len(ledger.reads),
        "failed calls": dict(ledger.failed_between(0.0, float("inf"))),
        "failed before the new primary took writes": dict(
            ledger.failed_between(event.started, event.writable)
        ),
        "failed after": dict(ledger.failed_between(event.writable, float("inf"))),
    }
    print(f"\n{title}:")
    for key, value in figures.items():
        print(f"  {key}: {value}")
    for line in sorted({f.describe() for f in ledger.failures}):
        print(f"  - {line}")
    return figures


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def check_ledger(ledger: Ledger, primary: HANode) -> None:
    """No acked write lost, none reported unsent ran, every failure a ConnectionFailed."""
    acked = list(ledger.acked)
    assert acked
    lost = set(acked) - present_on(primary, acked)
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged writes are not on the new primary"
    unsent = ledger.not_run_emails()
    ran = present_on(primary, unsent) if unsent else set()
    assert not ran, f"writes reported as not sent are on the primary: {sorted(ran)}"
    assert ledger.missing_reads == [], "a read did not find an acknowledged row"
    assert ledger.wrong() == [], "failed calls that are not ConnectionFailed"


def warm_up(ledger: Ledger, timeout: float = 60.0) -> None:
    wait_for(lambda: ledger.successes_after(0.0) >= (20, 10), "the load to warm up", timeout)


def recovered(ledger: Ledger, moment: float) -> Callable[[], bool]:
    """Whether writes and reads have succeeded again since *moment*."""
    return lambda: ledger.successes_after(moment) >= (20, 10)


# -- failover and switchover under load, sync -----------------------------------


Move = Callable[[HACluster, Event], tuple[HANode, HANode]]
MOVES = pytest.mark.parametrize(
    ("name", "move"),
    [("failover", fail_over), ("switchover", switch_over)],
    ids=["failover", "switchover"],
)


@MOVES
def test_primary_moves_under_sync_load(formation: HACluster, name: str, move: Move) -> None:
    db.configure(formation.url, replica_url="", **POOL)
    ledger, event = Ledger(), Event()
    load = SyncLoad(ledger)
    load.start()
    try:
        warm_up(ledger)
        _, new = move(formation, event)
        wait_for(recovered(ledger, event.writable), "calls to succeed again", RECOVERY_TIMEOUT)
    finally:
        load.stop()
    report(f"{name}, sync pools", ledger, event)
    check_ledger(ledger, new)


# -- the same with asyncio tasks ------------------------------------------------


async def async_load(
    ledger: Ledger, scenario: Callable[[], Any], event: Event
) -> tuple[HANode, HANode]:
    """Run writer and reader tasks while *scenario* runs in a thread; return its result."""
    stop = asyncio.Event()

    async def worker(call: Callable[[Ledger], Any]) -> None:
        while not stop.is_set():
            await call(ledger)
            await asyncio.sleep(PAUSE)

    calls = [write_async] * WRITERS + [read_async] * READERS
    tasks = [asyncio.create_task(worker(call)) for call in calls]
    try:
        while ledger.successes_after(0.0) < (20, 10):
            crashed = [task.exception() for task in tasks if task.done()]
            assert not crashed, crashed
            await asyncio.sleep(0.02)
        nodes: tuple[HANode, HANode] = await asyncio.wait_for(
            asyncio.to_thread(scenario), timeout=180
        )
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while not recovered(ledger, event.writable)():
            assert time.monotonic() < deadline, "calls did not succeed again"
            await asyncio.sleep(0.02)
        return nodes
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)


@MOVES
def test_primary_moves_under_async_load(formation: HACluster, name: str, move: Move) -> None:
    ledger, event = Ledger(), Event()

    async def main() -> tuple[HANode, HANode]:
        aio.configure(formation.url, replica_url="", **POOL)
        return await async_load(ledger, lambda: move(formation, event), event)

    _, new = run_async(main())
    report(f"{name}, asyncio pools", ledger, event)
    check_ledger(ledger, new)


# -- a write that lands on a node in recovery -------------------------------------
#
# A proxy, a DNS name or a virtual IP that still points at a demoted node
# puts a pooled connection on a standby: with target_session_attrs=any and
# the standby listed first, the pool's connections are there. PostgreSQL
# refuses the write (25006, read-only transaction); the library should treat
# that as a lost server (issue 22, item 3): ConnectionFailed, statement not
# run, and that connection dropped so the next one is made afresh.

READ_ONLY = "25006"


@dataclass
class ReadOnlyWrite:
    error: BaseException
    written: bool  # the row is on the primary
    session_before: set[int]  # the pool's backends on the standby before the write
    session_after: set[int]  # after the failed call, while the pool is still open


def pool_sessions(node: HANode, application: str) -> set[int]:
    with psycopg.connect(node.url, autocommit=True) as conn:
        rows = conn.execute(
            "select pid from pg_stat_activity where application_name = %s", (application,)
        ).fetchall()
    return {row[0] for row in rows}


def write_on_standby(formation: HACluster, flavour: str) -> ReadOnlyWrite:
    primary, standby = formation.wait_for_formation()
    application = f"codezest-ha-readonly-{flavour}"
    url = (
        f"postgresql://postgres@127.0.0.1:{standby.port},127.0.0.1:{primary.port}"
        f"/codezest_ha?target_session_attrs=any&application_name={application}"
    )
    email = new_email()
    options: dict[str, Any] = {"replica_url": "", "min_size": 1, "max_size": 1}

    def attempt_sync() -> BaseException:
        db.configure(url, **options)
        assert queries.auth.get_user_by_email(email=email) is None  # the connection is made
        sessions.append(pool_sessions(standby, application))
        try:
            queries.auth.create_user(email=email, password_hash="h", name="RO", role="STUDENT")
        except Exception as exc:
            sessions.append(sessions_once_settled())
            return exc
        raise AssertionError("a standby accepted a write")

    async def attempt_async() -> BaseException:
        aio.configure(url, **options)
        assert await aio.queries.auth.get_user_by_email(email=email) is None
        sessions.append(pool_sessions(standby, application))
        try:
            await aio.queries.auth.create_user(
                email=email, password_hash="h", name="RO", role="STUDENT"
            )
        except Exception as exc:
            sessions.append(sessions_once_settled())
            return exc
        raise AssertionError("a standby accepted a write")

    sessions: list[set[int]] = []

    def sessions_once_settled() -> set[int]:
        """The pool's sessions on the standby, once the first one has gone (at most 5 s)."""
        deadline = time.monotonic() + 5
        while True:
            now = pool_sessions(standby, application)
            if not now & sessions[0] or time.monotonic() > deadline:
                return now
            time.sleep(0.05)

    error = attempt_sync() if flavour == "sync" else run_async(attempt_async())
    return ReadOnlyWrite(error, bool(present_on(primary, [email])), *sessions)


@pytest.mark.parametrize("flavour", ["sync", "asyncio"])
def test_a_write_on_a_standby_is_refused(formation: HACluster, flavour: str) -> None:
    outcome = write_on_standby(formation, flavour)
    assert isinstance(outcome.error, errors.DatabaseError)
    assert outcome.error.sqlstate == READ_ONLY
    assert not outcome.written
    assert len(outcome.session_before) == 1


@pytest.mark.parametrize("flavour", ["sync", "asyncio"])
def test_a_write_on_a_standby_is_a_connection_failure(formation: HACluster, flavour: str) -> None:
    outcome = write_on_standby(formation, flavour)
    assert isinstance(outcome.error, errors.ConnectionFailed), type(outcome.error)
    assert not outcome.error.statement_may_have_run  # refused: it did not run


@pytest.mark.parametrize("flavour", ["sync", "asyncio"])
def test_a_write_on_a_standby_drops_that_connection(formation: HACluster, flavour: str) -> None:
    outcome = write_on_standby(formation, flavour)
    assert outcome.session_before
    kept = outcome.session_after & outcome.session_before
    assert not kept, "the pool still holds its session on the standby 5 s after the 25006"
