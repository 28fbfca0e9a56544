"""Fault tests on real servers this module starts on loopback: every pooled wait ends.

A throwaway PostgreSQL cluster (`tests.pgcluster`), migrated, and a PgBouncer
in front of it: their processes are frozen with SIGSTOP (always continued in
a ``finally``), their backends terminated mid-batch, the cluster restarted.
Sync threads and asyncio tasks run pooled reads and writes meanwhile. Every
call is bounded by a test timeout (a thread join, ``asyncio.wait_for``), and
the tests count: hangs 0, wrong results 0, acknowledged writes lost 0, errors
other than ConnectionFailed 0. The shared server on 5432 is never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import tempfile
import threading
import uuid
from collections import Counter
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from codezest_db import _watchdog, aio, errors, migrate
from codezest_db import pool as sync_pool
from codezest_db import queries as sync_queries
from codezest_db._config import resolve
from codezest_db.testing.servers import PgBouncer

from .pgcluster import Cluster

pytestmark = pytest.mark.slow

BOUND = 30.0  # seconds a single call may take before the test calls it a hang
WORKERS = 6  # sync threads, and as many asyncio tasks
# Seconds the server stays frozen: well over the longest wait of a call, the
# watchdog's bound (about 4.5 s) or the pool's timeout (5 s here).
FREEZE = 10.0
CHECKOUT_TIMEOUT = 5.0
USERS = 60


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    server = Cluster()
    try:
        server.start()
        migrate.up(server.url())
        yield server
    finally:
        server.remove()


@pytest.fixture(scope="module")
def emails(cluster: Cluster) -> list[str]:
    """Users that exist for the whole module: reads look them up."""
    found = []
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        for i in range(USERS):
            email = f"reader-{i}-{uuid.uuid4().hex[:8]}@faults.test"
            sync_queries.auth.create_user(
                conn, email=email, password_hash="h", name=f"R{i}", role="STUDENT"
            )
            found.append(email)
    return found


@pytest.fixture
def pools() -> Iterator[None]:
    """Both twins' pools are closed after the test, and configured again as they were."""
    before, aio_before = sync_pool._state.settings, aio._state.settings
    yield
    sync_pool.close()
    asyncio.run(aio.close())
    sync_pool._state.replace(before)  # closed just now: nothing to close
    aio._state.replace(aio_before)


def _configure(url: str, *, sync: bool = True, **options: Any) -> None:
    """Point both twins' pools (or only asyncio's) at *url*, no replica."""
    if sync:
        sync_pool.configure(url, replica_url="", **options)
    aio.configure(url, replica_url="", **options)


def _postmaster(cluster: Cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(line) for line in found.stdout.split()]


@contextlib.contextmanager
def frozen(pids: list[int]) -> Iterator[None]:
    """SIGSTOP *pids* for the block; SIGCONT them whatever happens."""
    stopped = []
    try:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(pid)
        yield
    finally:
        for pid in stopped:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


class Tally:
    """Outcomes of the calls of every worker, counted under a lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.acked: list[str] = []  # emails of writes that returned their row
        self.unsent: list[str] = []  # writes refused with statement_may_have_run False
        self.ended_while_down: set[str] = set()  # workers whose call ended, failed, while down
        self.other: list[BaseException] = []
        self.phase = "before"  # then "down" (frozen, or stopped), then "after"
        self.stop = False

    def read(self, worker: str, email: str, user: Any) -> None:
        with self.lock:
            self.counts["read ok" if user is not None and user.email == email else "wrong"] += 1

    def wrote(self, worker: str, email: str, user: Any) -> None:
        with self.lock:
            if user is not None and user.email == email:
                self.counts["write ok"] += 1
                self.acked.append(email)
            else:
                self.counts["wrong"] += 1

    def failed(
        self, worker: str, email: str, exc: BaseException, write: bool, started: str
    ) -> None:
        with self.lock:
            if started == "after":  # the server was back before the call began
                self.counts["failed after"] += 1
            if isinstance(exc, errors.ConnectionFailed):
                self.counts["connection failed"] += 1
                if self.phase == "down":
                    self.ended_while_down.add(worker)
                if write and not exc.statement_may_have_run:
                    self.unsent.append(email)
            else:
                self.counts["other error"] += 1
                self.other.append(exc)


def _sync_worker(name: str, emails: list[str], tally: Tally) -> None:
    rng = random.Random(name)
    while not tally.stop:
        started = tally.phase
        if rng.random() < 0.3:
            email = f"w-{uuid.uuid4().hex}@faults.test"
            try:
                user = sync_queries.auth.create_user(
                    email=email, password_hash="h", name="W", role="STUDENT"
                )
            except errors.DatabaseError as exc:
                tally.failed(name, email, exc, write=True, started=started)
            else:
                tally.wrote(name, email, user)
        else:
            email = rng.choice(emails)
            try:
                found = sync_queries.auth.get_user_by_email(email=email)
            except errors.DatabaseError as exc:
                tally.failed(name, email, exc, write=False, started=started)
            else:
                tally.read(name, email, found)


async def _async_worker(name: str, emails: list[str], tally: Tally) -> None:
    rng = random.Random(name)
    while not tally.stop:
        write, started = rng.random() < 0.3, tally.phase
        email = f"w-{uuid.uuid4().hex}@faults.test" if write else rng.choice(emails)
        try:
            call: Coroutine[Any, Any, Any]
            if write:
                call = aio.queries.auth.create_user(
                    email=email, password_hash="h", name="W", role="STUDENT"
                )
            else:
                call = aio.queries.auth.get_user_by_email(email=email)
            result = await asyncio.wait_for(call, BOUND)
        except TimeoutError:
            with tally.lock:
                tally.counts["hang"] += 1
        except errors.DatabaseError as exc:
            tally.failed(name, email, exc, write=write, started=started)
        else:
            (tally.wrote if write else tally.read)(name, email, result)


def _run_workload(
    url: str, emails: list[str], freeze: Any, **options: Any
) -> tuple[Tally, list[str]]:
    """Sync threads and asyncio tasks call through *url* while ``freeze()`` freezes the server.

    Returns the tally and the names of the workers that never ended (hangs).
    """
    _configure(url, min_size=2, max_size=4, timeout=CHECKOUT_TIMEOUT, **options)
    tally = Tally()
    threads = [
        threading.Thread(target=_sync_worker, args=(f"sync-{i}", emails, tally), daemon=True)
        for i in range(WORKERS)
    ]

    async def main() -> list[str]:
        tasks = [
            asyncio.create_task(_async_worker(f"async-{i}", emails, tally)) for i in range(WORKERS)
        ]
        for thread in threads:
            thread.start()
        await asyncio.sleep(1.0)  # every worker has made calls
        with freeze():
            tally.phase = "down"
            await asyncio.sleep(FREEZE)
            tally.phase = "between"  # before SIGCONT: a call counted as ended down was
        tally.phase = "after"
        await asyncio.sleep(3.0)  # calls after the freeze
        tally.stop = True
        _, pending = await asyncio.wait(tasks, timeout=BOUND + 5)
        for task in pending:
            task.cancel()
        return [f"async-{i}" for i, task in enumerate(tasks) if task in pending]

    hung = asyncio.run(main())
    for i, thread in enumerate(threads):
        thread.join(BOUND + 5)
        if thread.is_alive():
            hung.append(f"sync-{i}")
    return tally, hung


def _check(tally: Tally, hung: list[str], url: str) -> None:
    assert hung == [], f"workers that never ended: {hung}"
    assert tally.counts["hang"] == 0, tally.counts
    assert tally.counts["wrong"] == 0, tally.counts
    assert not tally.other, f"{tally.counts}: {tally.other[:3]!r}"
    assert tally.counts["read ok"] > 0 and tally.counts["write ok"] > 0, tally.counts
    assert tally.counts["failed after"] == 0, tally.counts  # the server is back: calls succeed
    # The bound: every worker had a call end (failed) while the server was still down.
    workers = {f"{kind}-{i}" for kind in ("sync", "async") for i in range(WORKERS)}
    assert tally.ended_while_down == workers, (
        f"never ended while down: {workers - tally.ended_while_down}"
    )
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        present = {
            row[0]
            for row in conn.execute(
                "select email from auth.users where email = any(%s)",
                [tally.acked + tally.unsent],
            )
        }
    lost = [email for email in tally.acked if email not in present]
    assert lost == [], f"{len(lost)} of {len(tally.acked)} acknowledged writes lost"
    ran = [email for email in tally.unsent if email in present]
    assert ran == [], f"{len(ran)} writes said statement_may_have_run=False yet ran"


def test_a_frozen_primary_costs_each_call_a_bounded_wait(
    cluster: Cluster, emails: list[str], pools: None
) -> None:
    def freeze() -> contextlib.AbstractContextManager[None]:
        postmaster = _postmaster(cluster)
        return frozen([postmaster, *_children(postmaster)])

    cut_before = _watchdog.cut_total()
    tally, hung = _run_workload(cluster.url(), emails, freeze)
    _check(tally, hung, cluster.url())
    assert _watchdog.cut_total() > cut_before


@pytest.fixture(scope="module")
def bouncer(cluster: Cluster) -> Iterator[PgBouncer]:
    workdir = Path(tempfile.mkdtemp(prefix="codezest-faults-pgbouncer-"))
    server = PgBouncer(cluster.url(), "postgres", workdir, cluster.user)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        subprocess.run(["rm", "-rf", str(workdir)], check=False)


def test_a_frozen_pgbouncer_costs_each_call_a_bounded_wait(
    cluster: Cluster, bouncer: PgBouncer, emails: list[str], pools: None
) -> None:
    cut_before = _watchdog.cut_total()
    tally, hung = _run_workload(
        bouncer.url, emails, lambda: frozen([bouncer.pid]), prepare_threshold=None
    )
    _check(tally, hung, cluster.url())
    assert _watchdog.cut_total() > cut_before


def test_closing_the_pools_ends_while_the_server_is_frozen(
    cluster: Cluster, emails: list[str], pools: None
) -> None:
    _configure(cluster.url(), min_size=2)
    assert sync_queries.auth.get_user_by_email(email=emails[0]) is not None
    outcome: list[str] = []

    async def main() -> None:
        assert await aio.queries.auth.get_user_by_email(email=emails[0]) is not None
        postmaster = _postmaster(cluster)
        with frozen([postmaster, *_children(postmaster)]):

            def close() -> None:
                sync_pool.close()
                outcome.append("sync")

            closing = threading.Thread(target=close)
            closing.start()
            await asyncio.wait_for(aio.close(), BOUND)
            outcome.append("async")
            closing.join(BOUND)

    asyncio.run(main())
    assert sorted(outcome) == ["async", "sync"]


def test_a_slow_statement_on_a_live_server_is_not_cut(cluster: Cluster, pools: None) -> None:
    """The watchdog asks the server; a server that answers keeps its slow statements."""
    _configure(cluster.url(), suspect_after=0.5)
    cut_before = _watchdog.cut_total()
    with sync_pool.connection() as conn:
        assert conn.execute("select pg_sleep(2.5), 1").fetchone() == ("", 1)

    async def main() -> Any:
        async with aio.connection() as conn:
            cur = await conn.execute("select pg_sleep(2.5), 2")
            return await cur.fetchone()

    assert asyncio.run(asyncio.wait_for(main(), BOUND)) == ("", 2)
    assert _watchdog.cut_total() == cut_before


def test_backends_killed_mid_batch_fail_only_their_own_reads(
    cluster: Cluster, emails: list[str], pools: None
) -> None:
    """60 concurrent asyncio reads on a pool of 2 (batched) while their backends are killed."""
    name = f"faults-batch-{uuid.uuid4().hex[:8]}"
    _configure(cluster.url(), sync=False, min_size=2, max_size=2, application_name=name)
    counts: Counter[str] = Counter()
    others: list[BaseException] = []

    async def read(email: str) -> None:
        try:
            user = await asyncio.wait_for(aio.queries.auth.get_user_by_email(email=email), BOUND)
        except TimeoutError:
            counts["hang"] += 1
        except errors.ConnectionFailed:
            counts["connection failed"] += 1
        except errors.DatabaseError as exc:
            others.append(exc)
        else:
            counts["ok" if user is not None and user.email == email else "wrong"] += 1

    async def kill(killer: psycopg.AsyncConnection[Any], delay: float) -> None:
        await asyncio.sleep(delay)
        cur = await killer.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where application_name = %s",
            [name],
        )
        counts["terminated"] += (await cur.fetchone() or [0])[0]

    async def main() -> dict[str, Any]:
        rng = random.Random(18)
        async with await psycopg.AsyncConnection.connect(cluster.url(), autocommit=True) as killer:
            for _ in range(20):
                await asyncio.gather(
                    *(read(email) for email in emails), kill(killer, rng.uniform(0, 0.01))
                )
                await asyncio.sleep(0.05)
        return aio.pool_stats()["primary"]

    stats = asyncio.run(main())
    assert counts["hang"] == 0 and counts["wrong"] == 0, counts
    assert not others, others[:3]
    assert counts["terminated"] > 0 and stats["read_batches"] > 0, (counts, stats)
    # Some reads met a killed backend: retried on a fresh connection, or failed.
    assert stats["read_retries"] + counts["connection failed"] > 0, (counts, stats)
    assert counts["ok"] + counts["connection failed"] == 20 * len(emails), counts


def test_calls_during_a_server_restart_end_and_after_it_succeed(
    cluster: Cluster, emails: list[str], pools: None
) -> None:
    @contextlib.contextmanager
    def restart() -> Iterator[None]:
        cluster.stop()  # immediate: every backend ends at once
        try:
            yield
        finally:
            cluster.start()

    tally, hung = _run_workload(cluster.url(), emails, restart)
    _check(tally, hung, cluster.url())


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "2", True])
def test_suspect_after_must_be_a_positive_number_of_seconds(bad: Any) -> None:
    with pytest.raises(errors.ConfigurationError, match="suspect_after"):
        resolve("postgresql://u@127.0.0.1:1/db", suspect_after=bad)


def test_suspect_after_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://u@127.0.0.1:1/db"
    assert resolve(url).suspect_after == 2.0
    assert resolve(url, suspect_after=None).suspect_after is None
    monkeypatch.setenv("CODEZEST_DB_SUSPECT_AFTER", "0.5")
    assert resolve(url).suspect_after == 0.5
    monkeypatch.setenv("CODEZEST_DB_SUSPECT_AFTER", "off")
    assert resolve(url).suspect_after is None
    monkeypatch.setenv("CODEZEST_DB_SUSPECT_AFTER", "soon")
    with pytest.raises(errors.ConfigurationError, match="CODEZEST_DB_SUSPECT_AFTER"):
        resolve(url)
    monkeypatch.setenv("CODEZEST_DB_SUSPECT_AFTER", "-3")
    with pytest.raises(errors.ConfigurationError, match="suspect_after"):
        resolve(url)


def test_tcp_keepalives_and_user_timeout_by_default_unless_set(
    cluster: Cluster, pools: None
) -> None:
    """For a peer lost on a real network: libpq's keepalives and tcp_user_timeout are on."""
    _configure(cluster.url(keepalives_idle="7"), keepalives_count=2)
    with sync_pool.connection() as conn:
        params = conn.info.get_parameters()

    async def main() -> dict[str, str]:
        async with aio.connection() as aconn:
            return aconn.info.get_parameters()

    for found in (params, asyncio.run(main())):
        assert found["keepalives"] == "1"
        assert found["tcp_user_timeout"] == "30000"
        assert found["keepalives_interval"] == "10"
        assert found["keepalives_idle"] == "7"  # the URL's
        assert found["keepalives_count"] == "2"  # configure()'s
