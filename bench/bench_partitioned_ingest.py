"""record_events (COPY) into analytics_events before and after issue 13, and
the occurred_at index that batched retention needs: btree or BRIN.

    python bench/bench_partitioned_ingest.py --before URL --after URL [--rows N] [--rounds R]

*before* is an empty database with the five original migrations (a plain
table), *after* one with every migration (partitioned by month, the per-day
rollup triggers, a btree on occurred_at). Rounds are interleaved: in each, the
same N time-ordered events (one month) are stored with
``queries.activity.record_events`` into the emptied table of each contender:

- before:        the plain table;
- after (btree): the partitioned table as migrated;
- after (BRIN):  the same with the occurred_at btree swapped for a BRIN index.

Printed: the best round's rows/s and ratio to before, the size of the
occurred_at index, and the time of one delete_events_before batch (10,000
events) under EXPLAIN ANALYZE: with a btree it reads its bound from the
index; with BRIN the bound needs a sort of every earlier event.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg import ClientCursor

from codezest_db import queries
from codezest_db.models import AnalyticsEventIn

MONTH = datetime(2025, 3, 1, tzinfo=UTC)


def make_events(rows: int) -> list[AnalyticsEventIn]:
    users = [uuid.uuid4() for _ in range(1000)]
    names = [f"event_{i:02}" for i in range(20)]
    step = timedelta(days=28) / rows
    return [
        AnalyticsEventIn(
            name=names[(i * 7) % 20],
            user_id=users[i % 1000] if i % 10 else None,
            properties={"path": f"/lessons/{i % 50}"},
            occurred_at=MONTH + step * i,
        )
        for i in range(rows)
    ]


def set_index(conn: psycopg.Connection[Any], kind: str) -> None:
    conn.execute("drop index if exists activity.analytics_events_occurred_at_idx")
    conn.execute(
        f"create index analytics_events_occurred_at_idx on activity.analytics_events"
        f" using {kind} (occurred_at)"
    )
    conn.commit()


def store(conn: psycopg.Connection[Any], events: list[AnalyticsEventIn]) -> float:
    conn.execute("truncate activity.analytics_events")
    conn.commit()
    started = time.perf_counter()
    stored = queries.activity.record_events(conn, events=events)
    conn.commit()
    elapsed = time.perf_counter() - started
    assert stored == len(events)
    return elapsed


def index_size(conn: psycopg.Connection[Any], partitioned: bool) -> int:
    if not partitioned:
        return 0
    row = conn.execute(
        "select coalesce(sum(pg_relation_size(i.indexrelid)), 0) from pg_index i"
        " join pg_inherits h on h.inhrelid = i.indexrelid"
        " where h.inhparent = 'activity.analytics_events_occurred_at_idx'::regclass"
    ).fetchone()
    return int(row[0]) if row else 0


def batch_ms(conn: psycopg.Connection[Any]) -> float:
    conn.execute("analyze activity.analytics_events")
    cur = ClientCursor(conn)
    with conn.transaction(force_rollback=True):
        cur.execute(
            "explain (analyze, format json) " + queries.activity.delete_events_before.sql,
            {"cutoff": MONTH + timedelta(days=20), "batch_size": 10_000},
        )
        row = cur.fetchone()
    assert row is not None
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return float(document[0]["Execution Time"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    events = make_events(args.rows)
    before = psycopg.connect(args.before)
    after = psycopg.connect(args.after)
    after.execute("select activity.create_event_partitions(%s::date, 1)", (MONTH.date(),))
    after.commit()
    times: dict[str, list[float]] = {"before": [], "after (btree)": [], "after (BRIN)": []}
    for _ in range(args.rounds):
        times["before"].append(store(before, events))
        set_index(after, "btree")
        times["after (btree)"].append(store(after, events))
        set_index(after, "brin")
        times["after (BRIN)"].append(store(after, events))
    extra: dict[str, str] = {}
    for kind in ("brin", "btree"):
        set_index(after, kind)
        store(after, events)
        label = "after (BRIN)" if kind == "brin" else "after (btree)"
        size = index_size(after, True) / 1024
        extra[label] = f"index {size:>8,.0f} kB, one 10k batch {batch_ms(after):8.1f} ms"
    base = args.rows / min(times["before"])
    print(f"server {after.info.server_version}, {args.rows:,} events, best of {args.rounds}")
    for label, runs in times.items():
        rate = args.rows / min(runs)
        shown = f"{rate:>10,.0f} rows/s  {rate / base:4.2f}x before"
        print(f"  {label:<14} {shown}  {extra.get(label, '')}")
    for conn in (before, after):
        conn.execute("truncate activity.analytics_events")
        conn.commit()
        conn.close()


if __name__ == "__main__":
    main()
