"""The hot path at the floor: our calls side by side with raw psycopg, in one run.

    python bench/bench_hot_path.py [--url URL] [--calls N] [--pages P] [--rounds R]

Each pair runs the very SQL of our query, interleaved round by round so drift
hits all alike; medians over R rounds, in microseconds per call, and ratios:

- lookup, explicit connection: ``queries.auth.get_user_by_email(conn, email=...)``
  against ``conn.execute(sql, params).fetchone()`` on the same connection;
- lookup, pooled: ``queries.auth.get_user_by_email(email=...)`` (no connection,
  a pool of one) against raw psycopg on a connection held by raw;
- a page of 1,000 rows of ``queries.activity.list_user_activity`` (explicit
  connection) against raw psycopg tuples, same SQL and parameters;
- the same page against the naive way to get models:
  ``[UserActivity.model_validate(dict(zip(names, row))) for row in rows]``;
- the same page against raw psycopg decoding JSON as ours does
  (``codezest_db._query.jsonb``: pydantic-core's parser instead of
  ``json.loads``), to tell what the parser buys from what the rest costs;
- each lookup against its floor, the least any library returning a validated
  model must do: raw psycopg and the model's own validator on the row
  (``User.model_validate(dict(zip(names, row)))``), and for the pooled lookup
  psycopg_pool's ``getconn``/``putconn`` around that, on our very pool (so the
  same connection): what is left over the floor is ours alone.

Every row of ours is a validated, frozen model. Each ratio is the median of the
per-round ratios (a round's pair ran back to back, who goes first alternating),
next to the ratio of the medians; the CPU time of this process is reported too,
less noisy on a shared machine than the wall clock the targets are about.
Targets (issue 17): explicit <= 1.05x, pooled <= 1.2x, page <= 1.2x raw psycopg.
asyncio against asyncpg is bench/bench_pool.py.
Without --url it runs on a throwaway embedded PostgreSQL (unix socket).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import os
import statistics
import time
from collections.abc import Callable

import psycopg
from _common import paired, seed  # bench/, beside this script

import codezest_db as db
from codezest_db import migrate, queries
from codezest_db import pool as db_pool
from codezest_db._query import jsonb
from codezest_db.models import User, UserActivity
from codezest_db.tools.scratch import migrated_database

PAGE = 1000
Call = Callable[[int], object]


def seed_feed(url: str, rows: int) -> object:
    """A user with *rows* activity entries, a JSON object each; return its id."""
    with psycopg.connect(url) as conn:
        user = queries.auth.create_user(
            conn, email=f"feed-{id(conn)}@example.com", password_hash="h", name="F", role="STUDENT"
        )
        conn.execute(
            """
            insert into activity.user_activities
                   (user_id, type, entity_type, entity_id, metadata, created_at)
            select %(user)s, 'lesson_completed',
                   case when i %% 4 = 0 then null else 'lesson' end,
                   case when i %% 4 = 0 then null else gen_random_uuid() end,
                   jsonb_build_object('lesson', i, 'score', i %% 100, 'tags', '["a"]'::jsonb),
                   now() - i * interval '1 minute'
              from generate_series(1, %(rows)s) as i
            """,
            {"user": user.id, "rows": rows},
        )
    return user.id


def pairs(
    url: str, emails: list[str], user_id: object
) -> tuple[dict[str, tuple[Call, Call]], list[int]]:
    """(raw, ours) per comparison, each side on its own connection, held throughout;
    and the server processes (backend pids) of those connections."""
    n = len(emails)
    lookup = queries.auth.get_user_by_email.sql
    page_sql = queries.activity.list_user_activity.sql
    page = {"user_id": user_id, "limit": PAGE, "before": None, "before_id": None}
    conn = psycopg.connect(url, autocommit=True)  # shared by raw and ours: same connection
    held = psycopg.connect(url, autocommit=True)  # raw's side of the pooled pair
    # Raw psycopg decoding JSON as ours does (codezest_db._query.jsonb), for the page:
    # how much of the page's figure is the faster JSON parser, how much the rest.
    fast_json = psycopg.connect(url, autocommit=True)
    jsonb.install(fast_json)
    db.configure(url, min_size=1, max_size=1)

    def raw_lookup(i: int) -> object:
        return conn.execute(lookup, {"email": emails[i % n]}).fetchone()

    def explicit(i: int) -> object:
        return queries.auth.get_user_by_email(conn, email=emails[i % n])

    def raw_held(i: int) -> object:
        return held.execute(lookup, {"email": emails[i % n]}).fetchone()

    def pooled(i: int) -> object:
        return queries.auth.get_user_by_email(email=emails[i % n])

    def raw_page(i: int) -> object:
        return conn.execute(page_sql, page).fetchall()

    def raw_page_fast_json(i: int) -> object:
        return fast_json.execute(page_sql, page).fetchall()

    names = [c.name for c in conn.execute(lookup, {"email": emails[0]}).description or ()]
    validate = User.model_validate
    pool = db_pool.get_pool()  # ours: the pooled floor runs on its very connection

    def floor(i: int) -> object:
        row = conn.execute(lookup, {"email": emails[i % n]}).fetchone()
        return None if row is None else validate(dict(zip(names, row)))  # noqa: B905

    def pooled_floor(i: int) -> object:
        pooled_conn = pool.getconn()
        try:
            row = pooled_conn.execute(lookup, {"email": emails[i % n]}).fetchone()
        finally:
            pool.putconn(pooled_conn)
        return None if row is None else validate(dict(zip(names, row)))  # noqa: B905

    def naive_page(i: int) -> object:
        cur = conn.execute(page_sql, page)
        names = [column.name for column in cur.description or ()]
        validate = UserActivity.model_validate
        return [validate(dict(zip(names, row))) for row in cur.fetchall()]  # noqa: B905

    def our_page(i: int) -> object:
        return queries.activity.list_user_activity(conn, user_id=user_id, limit=PAGE)

    assert len(our_page(0)) == PAGE, "the feed needs a full page"  # type: ignore[arg-type]
    with db.connection() as pooled_conn:  # the pool's one connection
        backends = [c.info.backend_pid for c in (conn, held, fast_json, pooled_conn)]
    return {
        "lookup, explicit connection": (raw_lookup, explicit),
        "lookup, pooled": (raw_held, pooled),
        "lookup, explicit, vs its floor": (floor, explicit),
        "lookup, pooled, vs its floor": (pooled_floor, pooled),
        f"page of {PAGE} rows": (raw_page, our_page),
        f"page of {PAGE}, vs naive validate": (naive_page, our_page),
        f"page of {PAGE}, vs raw + our JSON": (raw_page_fast_json, our_page),
    }, backends


def pin(backends: list[int], apart: bool) -> str:
    """Pin this process to one CPU and every backend of the bench to one CPU; say how.

    On a small VM the latency of a round trip depends on whether the backend
    runs on the client's CPU (about 30 us for a lookup here) or on another
    (80-120 us: a cross-CPU wake-up), and the scheduler keeps each connection's
    backend where it happens to be: left alone, two connections differ by 3x
    and a comparison across connections measures placement, not code. By
    default the backends share this process's CPU; *apart* puts them all on
    another one, as a server on its own host would be: the server then no
    longer runs on (and evicts the caches of) the client's CPU between its
    calls, so whatever runs after a round trip starts less cold.
    """
    cpus = sorted(os.sched_getaffinity(0))
    cpu = cpus[0]
    server = cpus[1] if apart and len(cpus) > 1 else cpu
    if apart and server == cpu:
        return "not pinned apart: one CPU only"
    try:
        os.sched_setaffinity(0, {cpu})
        for pid in backends:
            os.sched_setaffinity(pid, {server})
    except OSError as exc:  # a remote server, or not allowed
        return f"not pinned ({exc}): cross-connection ratios include CPU placement"
    where = f"CPU {server}" if apart else "the same CPU"
    return f"this process pinned to CPU {cpu}, its {len(backends)} backends to {where}"


TARGETS = {
    "lookup, explicit connection": 1.05,
    "lookup, pooled": 1.2,
    f"page of {PAGE} rows": 1.2,
}


def timed(call: Call, calls: int) -> tuple[float, float]:
    """(wall, this thread's CPU) microseconds per call of *calls* calls of *call*.

    The garbage collector starts each batch empty (collected before the clock
    starts): a batch pays for the collections its own garbage causes, not for
    what the batch before it left.
    """
    gc.collect()
    wall, cpu = time.perf_counter(), time.thread_time()
    for i in range(calls):
        call(i)
    return (
        (time.perf_counter() - wall) / calls * 1e6,
        (time.thread_time() - cpu) / calls * 1e6,
    )


def report(name: str, rival: str, raw: list[float], ours: list[float], target: float | None) -> str:
    per_round, of_medians = paired(ours, raw)
    raw_med, ours_med = statistics.median(raw), statistics.median(ours)
    goal = f"  (target <= {target:.2f}x)" if target else ""
    return (
        f"  {name:33} {rival:5} {raw_med:8.1f}  ours {ours_med:8.1f}"
        f"  {per_round:.3f}x (of medians {of_medians:.3f}x){goal}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: embedded, throwaway)")
    parser.add_argument("--calls", type=int, default=400, help="lookups per round")
    parser.add_argument("--pages", type=int, default=5, help="pages per round")
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--no-pin", action="store_true", help="leave CPU placement alone")
    parser.add_argument(
        "--apart", action="store_true", help="the backends on another CPU than this process"
    )
    args = parser.parse_args()

    scratch = contextlib.ExitStack()
    url = scratch.enter_context(migrated_database(args.url))
    migrate.up(url)
    emails = seed(url, 1000)
    user_id = seed_feed(url, PAGE + 200)
    contenders, backends = pairs(url, emails, user_id)
    with psycopg.connect(url) as c:
        print(f"server {c.info.server_version}, {c.info.host or 'socket'}")
    print("not pinned (--no-pin)" if args.no_pin else pin(backends, args.apart))

    def calls(name: str) -> int:
        return args.calls if name.startswith("lookup") else args.pages

    for name, pair in contenders.items():  # warm up: prepared statements, caches
        for call in pair:
            timed(call, max(calls(name) // 4, 20))
    wall: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in contenders}
    cpu: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n in contenders}
    for round_ in range(args.rounds):
        for name, pair in contenders.items():
            # Who goes first alternates, so neither side always runs on a warmer cache.
            for side in (0, 1) if round_ % 2 == 0 else (1, 0):
                w, c = timed(pair[side], calls(name))
                wall[name][side].append(w)
                cpu[name][side].append(c)

    print(
        f"{args.rounds} rounds x {args.calls} lookups / {args.pages} pages; microseconds per call"
    )
    print("ratio: median of the per-round ratios (ratio of the medians)")
    for title, table in (("wall clock", wall), ("CPU of this process", cpu)):
        print(title)
        for name, (raw, ours) in table.items():
            rival = "naive" if "naive" in name else "floor" if "floor" in name else "raw"
            target = TARGETS.get(name) if table is wall else None
            print(report(name, rival, raw, ours, target))
    db.close()
    scratch.close()


if __name__ == "__main__":
    main()
