"""How long one call of the roll-up job takes, by batch size (issue 21 item 3).

    python bench/bench_rollup_batch.py --url URL [--events 60000] [--sizes 250,500,1000,2000]

URL is a copy of the scale dataset migrated to this release with the rollup
taken (``roll_up_user_events`` until 0): this adds *events* new events, spread
over existing users as a service's ingest would (a few per user, the current
hour), then calls ``queries.activity.roll_up_user_events`` until they are all
taken, the batch sizes taking turns call by call so that drift hits all alike.
Reported per batch size: the median and 90th percentile wall time of a call
(autocommit: each call is its own transaction, as the job runs it), and the
time per event. The goal is every job batch under 50 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from codezest_db import queries


def add_events(conn: psycopg.Connection[Any], count: int) -> datetime:
    """*count* new events of existing users after the rollup's time; return a bound past them."""
    row = conn.execute("select rolled_before from activity.user_event_rollup").fetchone()
    assert row is not None, "the rollup has no time: migrate this database first"
    start = max(row[0], datetime.now(UTC) - timedelta(minutes=30))
    conn.execute(
        """
        with users as (
          select array_agg(id) as ids from (select id from auth.users limit 20000) as chosen
        )
        insert into activity.analytics_events (name, user_id, properties, occurred_at)
        select 'event_' || lpad((i %% 40)::text, 2, '0'),
               users.ids[1 + (i * 7919) %% cardinality(users.ids)], '{}',
               %(start)s + (i * interval '1 millisecond')
          from generate_series(1, %(count)s) as i, users
        """,
        {"start": start + timedelta(seconds=1), "count": count},
    )
    return start + timedelta(seconds=2) + timedelta(milliseconds=count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--events", type=int, default=60_000)
    parser.add_argument("--sizes", default="250,500,1000,2000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with psycopg.connect(args.url, autocommit=True) as conn:
        before = add_events(conn, args.events)
        conn.execute("vacuum analyze activity.user_event_counts")
        times: dict[int, list[float]] = {size: [] for size in sizes}
        taken: dict[int, int] = dict.fromkeys(sizes, 0)
        turn = 0
        while True:
            size = sizes[turn % len(sizes)]
            turn += 1
            started = time.perf_counter()
            done = queries.activity.roll_up_user_events(conn, before=before, batch_size=size)
            elapsed = time.perf_counter() - started
            if not done:
                break
            times[size].append(elapsed)
            taken[size] += done
    print(f"{args.events} new events, rolled up in {turn - 1} calls")
    print(f"{'batch_size':>10} {'calls':>6} {'median ms':>10} {'p90 ms':>8} {'us/event':>9}")
    for size in sizes:
        series = sorted(times[size])
        if not series:
            continue
        median = statistics.median(series)
        p90 = series[int(0.9 * (len(series) - 1))]
        per_event = sum(series) / max(taken[size], 1) * 1e6
        print(f"{size:>10} {len(series):>6} {median * 1e3:10.1f} {p90 * 1e3:8.1f} {per_event:9.1f}")


if __name__ == "__main__":
    main()
