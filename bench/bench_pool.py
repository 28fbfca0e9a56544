"""The pooled call, side by side: sync against raw psycopg, asyncio against asyncpg.

    pip install -r bench/requirements.txt   # asyncpg: for this bench only
    python bench/bench_pool.py [--url URL] [--calls N] [--async-calls M] [--rounds R] [--tasks T]
                               [--unprepared]

Sync, R rounds of N calls of ``get_user_by_email``, interleaved, medians:

- raw psycopg:   one autocommit connection, ``conn.execute(sql, params).fetchone()``;
- codezest-db:   ``queries.auth.get_user_by_email(email=...)``, no connection: pooled;
- psycopg_pool:  what the pool did before (check_connection per checkout, BEGIN/COMMIT).

asyncio, T tasks sharing a pool of 10, R rounds of M calls in all, interleaved:
calls per second and the 99th percentile of a call's latency, for
``aio.queries...`` (no connection: waiting reads batched into pipelines),
asyncpg's pool, psycopg's AsyncConnectionPool (autocommit, no check), and
``aio.queries...`` again with ``multiplex=False`` (each read its own checkout).

Targets (issue 17): sync pooled <= 1.2x raw; asyncio >= 1.1x asyncpg's throughput, p99 no
worse. Each ratio is the median of the per-round ratios (contenders of a round run back to
back, so a slow spell of the machine weighs on both), the ratio of the medians beside it.
The collector is emptied before each timed batch, so each pays for its own garbage.
Without --url it runs on a throwaway embedded PostgreSQL (unix socket).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import statistics
import time
from collections.abc import Awaitable, Callable

import asyncpg  # type: ignore[import-not-found]
import psycopg
from _common import paired, per_call_us, seed  # bench/, beside this script
from psycopg_pool import AsyncConnectionPool, ConnectionPool

import codezest_db as db
from codezest_db import aio, queries
from codezest_db.tools.describe import numbered
from codezest_db.tools.scratch import migrated_database

SQL = queries.auth.get_user_by_email.sql


def sync_contenders(url: str, emails: list[str]) -> dict[str, Callable[[int], object]]:
    conn = psycopg.connect(url, autocommit=True)
    db.configure(url, min_size=1, max_size=1)
    before = ConnectionPool(url, min_size=1, max_size=1, check=ConnectionPool.check_connection)
    n = len(emails)

    def raw(i: int) -> object:
        return conn.execute(SQL, {"email": emails[i % n]}).fetchone()

    def ours(i: int) -> object:
        return queries.auth.get_user_by_email(email=emails[i % n])

    def old_pool(i: int) -> object:
        with before.connection() as c:
            return c.execute(SQL, {"email": emails[i % n]}).fetchone()

    return {"raw psycopg": raw, "codezest-db": ours, "psycopg_pool (before)": old_pool}


async def throughput(
    call: Callable[[int], Awaitable[object]], calls: int, tasks: int
) -> tuple[float, float]:
    """(calls per second, p99 latency in ms) of *calls* calls spread over *tasks* tasks."""
    latencies: list[float] = []
    per_task = calls // tasks

    async def worker(k: int) -> None:
        for i in range(per_task):
            start = time.perf_counter()
            await call(k * per_task + i)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(tasks)))
    elapsed = time.perf_counter() - start
    latencies.sort()
    return len(latencies) / elapsed, latencies[int(len(latencies) * 0.99)] * 1000


def ratios(figures: dict[str, list[float]], ours: str, theirs: str) -> str:
    """`paired` figures of *ours* to *theirs*, as printed."""
    per_round, of_medians = paired(figures[ours], figures[theirs])
    return f"{per_round:.3f}x (of medians {of_medians:.3f}x)"


async def async_bench(url: str, emails: list[str], args: argparse.Namespace) -> None:
    n = len(emails)
    # --unprepared: the PgBouncer setting on every side (no server-side prepared statements).
    cache = {"statement_cache_size": 0} if args.unprepared else {}
    threshold = {"prepare_threshold": None} if args.unprepared else {}
    apg_pool = await asyncpg.create_pool(url, min_size=10, max_size=10, **cache)
    plain = AsyncConnectionPool(
        url, min_size=10, max_size=10, kwargs={"autocommit": True, **threshold}, open=False
    )
    await plain.open(wait=True)
    dollar_sql, _ = numbered(SQL)

    async def ours(i: int) -> object:
        return await aio.queries.auth.get_user_by_email(email=emails[i % n])

    async def asyncpg_pool(i: int) -> object:
        return await apg_pool.fetchrow(dollar_sql, emails[i % n])

    async def psycopg_pool(i: int) -> object:
        async with plain.connection() as c:
            cur = await c.execute(SQL, {"email": emails[i % n]})
            return await cur.fetchone()

    # One pool for both codezest-db rows, warm: "no batching" only unplugs its
    # batcher (what multiplex=False does when the pool is made), so both rows
    # use the same connections and prepared statements.
    aio.configure(url, replica_url="", min_size=10, max_size=10, multiplex=True, **threshold)
    pool = await aio.get_pool()
    await pool.wait()
    role = aio._state.primary
    assert role is not None
    batcher = role.batcher

    async def codezest(multiplex: bool) -> None:
        role.batcher = batcher if multiplex else None

    async def nothing() -> None:
        pass

    contenders: dict[str, tuple[Callable[[], Awaitable[None]], Callable[[int], Awaitable[object]]]]
    contenders = {
        "codezest-db aio": (lambda: codezest(True), ours),
        "asyncpg pool": (nothing, asyncpg_pool),
        "AsyncConnectionPool": (nothing, psycopg_pool),
        "codezest-db, no batching": (lambda: codezest(False), ours),
    }
    for warm in (asyncpg_pool, psycopg_pool, ours):  # warm up: connections, prepared statements
        await throughput(warm, 1000, args.tasks)
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    p99s: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, (setup, call) in contenders.items():
            await setup()
            gc.collect()
            rate, p99 = await throughput(call, args.async_calls, args.tasks)
            rates[name].append(rate)
            p99s[name].append(p99)
    kind = ", unprepared (the PgBouncer setting)" if args.unprepared else ""
    print(
        f"asyncio: {args.tasks} tasks, pool of 10,"
        f" {args.rounds} rounds x {args.async_calls} calls{kind}"
    )
    for name in contenders:
        print(
            f"  {name:26} median {statistics.median(rates[name]):7.0f} calls/s"
            f"  (min {min(rates[name]):6.0f}, max {max(rates[name]):6.0f})"
            f"  p99 median {statistics.median(p99s[name]):6.2f} ms"
        )
    us, apg, alone = "codezest-db aio", "asyncpg pool", "codezest-db, no batching"
    print(f"codezest-db aio / asyncpg throughput  = {ratios(rates, us, apg)} (target >= 1.1x)")
    print(f"codezest-db aio / asyncpg p99         = {ratios(p99s, us, apg)} (target <= 1.0x)")
    print(f"without batching / asyncpg throughput = {ratios(rates, alone, apg)}")
    await aio.close()
    await apg_pool.close()
    await plain.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: embedded, throwaway)")
    parser.add_argument("--calls", type=int, default=2000, help="sync calls per round")
    parser.add_argument("--async-calls", type=int, default=6000, help="asyncio calls per round")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument("--only", choices=["sync", "async"])
    parser.add_argument(
        "--unprepared",
        action="store_true",
        help="asyncio without server-side prepared statements on every side, as behind PgBouncer",
    )
    args = parser.parse_args()

    scratch = contextlib.ExitStack()
    url = scratch.enter_context(migrated_database(args.url))
    emails = seed(url, 1000)
    with psycopg.connect(url) as c:
        print(f"server {c.info.server_version}, {c.info.host or 'socket'}")

    if args.only != "async":
        contenders = sync_contenders(url, emails)
        for call in contenders.values():
            per_call_us(call, 300)
        results: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, call in contenders.items():
                gc.collect()
                results[name].append(per_call_us(call, args.calls))
        print(f"sync: {args.rounds} rounds x {args.calls} calls; microseconds per call")
        for name, times in results.items():
            print(f"  {name:22} median {statistics.median(times):7.1f}  best {min(times):7.1f}")
        ours, raw, before = "codezest-db", "raw psycopg", "psycopg_pool (before)"
        print(f"codezest-db pooled / raw psycopg = {ratios(results, ours, raw)} (target <= 1.2x)")
        print(f"psycopg_pool before / raw        = {ratios(results, before, raw)}")
        db.close()
    if args.only != "sync":
        asyncio.run(async_bench(url, emails, args))
    scratch.close()


if __name__ == "__main__":
    main()
