"""One retention batch, this release against 0.3.0, on the same data in one run (issue 21).

    python bench/bench_retention.py --url URL [--runs 7] [--batch-size 1000] [--days 30]

URL is the scale dataset (bench/scale_dataset.py --scale 1) migrated to this
release, with the rollup taken (``roll_up_user_events`` until 0), as a
service runs it. Each run deletes the *batch_size* oldest events before a
cutoff *days* after the oldest event, in a transaction rolled back after, in
three ways, taking turns so that drift and caching hit all alike:

- ``0.3.0``: release 0.3.0's ``delete_events_before`` with no retention
  horizon, so the delete trigger writes a per-user rollup delta for every
  deleted event's (user, day, name), as 0.3.0 did;
- ``first batch``: this release's query with the horizon not yet moved (the
  batch that moves it);
- ``next batch``: this release's query with the horizon already at the cutoff
  (every later batch of a retention run).

Reported per way: the median and spread of the wall time of the statement
(loopback, autocommit off, jit off as the services run), the rows deleted and
the per-user rollup rows written. The goal is every job batch under 50 ms.

Then what the horizon costs the read it changes: ``count_user_events_by_day``
over 90 days for the heaviest user (the most common ``user_id`` of the
events), with no horizon and with the horizon at the cutoff plus 7 hours (its
day then counted from that user's events), interleaved likewise; the goal
for an aggregate is under 50 ms, the rollup's design goal 20 ms.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from codezest_db import queries
from codezest_db._query.parse import domain_files, load_domain, load_specs

ROOT = Path(__file__).resolve().parent.parent
WAYS = ("0.3.0", "first batch", "next batch")


def statement(release: str | None) -> str:
    """delete_events_before's SQL, of *release* (recorded in db/releases) or this one."""
    if release is None:
        specs = load_specs()["activity"]
    else:
        files = domain_files(ROOT / "db" / "releases" / release / "queries")
        specs = load_domain("activity", files["activity"], models=False)
    (spec,) = [s for s in specs if s.name == "delete_events_before"]
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", spec.sql)


def one(conn: psycopg.Connection[Any], way: str, sql: str, params: dict[str, Any]) -> tuple:
    """(seconds, rows deleted, rollup rows written) of one batch, rolled back."""
    try:
        conn.execute("set local jit = off")
        kept_from = params["cutoff"] if way == "next batch" else "-infinity"
        conn.execute("update activity.event_retention set kept_from = %s", (kept_from,))
        before = conn.execute("select count(*) from activity.user_event_counts").fetchone()
        started = time.perf_counter()
        cursor = conn.execute(sql, params)
        elapsed = time.perf_counter() - started
        after = conn.execute("select count(*) from activity.user_event_counts").fetchone()
        assert before is not None and after is not None
        return elapsed, cursor.rowcount, after[0] - before[0]
    finally:
        conn.rollback()


def counting(conn: psycopg.Connection[Any], user: Any, kept_from: Any, days: tuple) -> float:
    """Seconds of one count_user_events_by_day call with the horizon at *kept_from*."""
    try:
        conn.execute("set local jit = off")
        conn.execute("update activity.event_retention set kept_from = %s", (kept_from,))
        started = time.perf_counter()
        rows = queries.activity.count_user_events_by_day(
            conn, user_id=user, since=days[0], until=days[1]
        )
        elapsed = time.perf_counter() - started
        assert rows, "the heaviest user has no counts: roll the dataset up first"
        return elapsed
    finally:
        conn.rollback()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    sqls = {"0.3.0": statement("0.3.0"), "first batch": statement(None)}
    sqls["next batch"] = sqls["first batch"]
    with psycopg.connect(args.url) as conn:
        row = conn.execute("select min(occurred_at) from activity.analytics_events").fetchone()
        assert row is not None and isinstance(row[0], datetime), "no events: build the dataset"
        params = {"cutoff": row[0] + timedelta(days=args.days), "batch_size": args.batch_size}
        conn.rollback()
        results: dict[str, list[tuple]] = {way: [] for way in WAYS}
        for run in range(args.runs + 1):  # the first round warms the caches: not counted
            for way in WAYS[run % 3 :] + WAYS[: run % 3]:
                result = one(conn, way, sqls[way], params)
                if run:
                    results[way].append(result)
        heavy = conn.execute(
            "select (most_common_vals::text::text[])[1]::uuid from pg_stats"
            " where schemaname = 'activity' and attname = 'user_id'"
            " and tablename = 'analytics_events' order by inherited desc limit 1"
        ).fetchone()
        assert heavy is not None, "no statistics: vacuum analyze the dataset"
        until = conn.execute("select max(occurred_at)::date + 1 from activity.analytics_events")
        last = until.fetchone()
        assert last is not None
        days = (last[0] - timedelta(days=90), last[0])
        conn.rollback()
        horizons = {"no horizon": "-infinity", "horizon": params["cutoff"] + timedelta(hours=7)}
        counts: dict[str, list[float]] = {name: [] for name in horizons}
        for run in range(args.runs + 1):
            for name in list(horizons)[run % 2 :] + list(horizons)[: run % 2]:
                took = counting(conn, heavy[0], horizons[name], days)
                if run:
                    counts[name].append(took)
    print(
        f"cutoff {params['cutoff']:%Y-%m-%d %H:%M}, batch_size {args.batch_size}, "
        f"{args.runs} runs each, interleaved"
    )
    print(f"{'way':<12} {'median ms':>10} {'min-max ms':>14} {'deleted':>8} {'rollup rows':>12}")
    base = statistics.median(r[0] for r in results["0.3.0"])
    for way in WAYS:
        times = [r[0] * 1e3 for r in results[way]]
        median = statistics.median(times)
        deleted, written = results[way][-1][1], results[way][-1][2]
        spread = f"{min(times):.1f}-{max(times):.1f}"
        print(
            f"{way:<12} {median:10.1f} {spread:>14} {deleted:8} {written:12}"
            f"   ({median / (base * 1e3):.2f}x of 0.3.0)"
        )
    print(f"count_user_events_by_day, 90 days, heaviest user {heavy[0]}:")
    for name, series in counts.items():
        times = [t * 1e3 for t in series]
        spread = f"{min(times):.1f}-{max(times):.1f}"
        print(f"  {name:<12} {statistics.median(times):10.2f} ms {spread:>14}")


if __name__ == "__main__":
    main()
