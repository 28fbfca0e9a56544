"""record_events (binary COPY) against plain executemany inserts, on the same data.

    python bench/bench_record_events.py [--url URL] [--rows N] [--rounds R]

Each contender stores the same N analytics events in its own transaction on
an emptied table, R rounds interleaved; the best round is reported in rows per
second, with the ratio to executemany. Without --url it runs on a throwaway
embedded PostgreSQL (a fresh, migrated database).

- record_events:          ``queries.activity.record_events(conn, events=[AnalyticsEventIn...])``
- record_events (dicts):  the same from plain dicts, validated on the way
- executemany:            ``cursor.executemany("insert into ... values (%s, %s, %s, %s)", rows)``
                          (psycopg 3 sends it pipelined, one round trip per batch)
- executemany (v7 ids):   the same, also sending the time-ordered ids record_events
                          writes, to show how much of the gain is COPY and how much
                          the ids (random uuids land on random index pages)

Target (issue 4): record_events >= 3x executemany.
"""

import argparse
import contextlib
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from codezest_db import migrate, queries
from codezest_db.ingest import time_ordered_ids
from codezest_db.models import AnalyticsEventIn
from codezest_db.tools.scratch import migrated_database

INSERT = (
    "insert into activity.analytics_events (name, user_id, properties, occurred_at)"
    " values (%s, %s, %s, %s)"
)
INSERT_WITH_ID = (
    "insert into activity.analytics_events (id, name, user_id, properties, occurred_at)"
    " values (%s, %s, %s, %s, %s)"
)


def make_data(rows: int) -> list[dict[str, Any]]:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    users = [uuid.uuid4() for _ in range(100)]
    names = ["page_view", "quiz_started", "quiz_finished", "video_played"]
    return [
        {
            "name": names[i % len(names)],
            "user_id": users[i % len(users)] if i % 3 else None,
            "properties": {"i": i, "path": f"/lessons/{i % 50}", "ok": True},
            "occurred_at": base + timedelta(milliseconds=i),
        }
        for i in range(rows)
    ]


def timed(conn: psycopg.Connection[Any], store: Callable[[], object]) -> tuple[float, int]:
    conn.execute("truncate activity.analytics_events")
    conn.commit()
    start = time.perf_counter()
    store()
    conn.commit()
    elapsed = time.perf_counter() - start
    row = conn.execute("select count(*) from activity.analytics_events").fetchone()
    conn.commit()
    return elapsed, row[0] if row else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: embedded, throwaway)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    # Without --url: a migrated database on a throwaway embedded server.
    scratch = contextlib.ExitStack()
    url = scratch.enter_context(migrated_database(args.url))
    migrate.up(url)

    data = make_data(args.rows)
    models = [AnalyticsEventIn(**d) for d in data]
    tuples = [(d["name"], d["user_id"], Jsonb(d["properties"]), d["occurred_at"]) for d in data]
    conn = psycopg.connect(url)

    def executemany() -> None:
        with conn.cursor() as cur:
            cur.executemany(INSERT, tuples)

    def executemany_v7() -> None:
        with conn.cursor() as cur:
            rows = [(i, *t) for i, t in zip(time_ordered_ids(), tuples, strict=False)]
            cur.executemany(INSERT_WITH_ID, rows)

    contenders: dict[str, Callable[[], object]] = {
        "record_events": lambda: queries.activity.record_events(conn, events=models),
        "record_events (dicts)": lambda: queries.activity.record_events(conn, events=data),
        "executemany": executemany,
        "executemany (v7 ids)": executemany_v7,
    }
    results: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(args.rounds):
        for name, store in contenders.items():
            elapsed, stored = timed(conn, store)
            if stored != args.rows:
                raise SystemExit(f"{name} stored {stored} rows, not {args.rows}")
            results[name].append(elapsed)

    rate = {name: args.rows / min(times) for name, times in results.items()}
    print(f"server {conn.info.server_version}, {args.rows} rows, best of {args.rounds} rounds")
    for name in contenders:
        ratio = rate[name] / rate["executemany"]
        print(f"  {name:22} {rate[name]:>10,.0f} rows/s  {ratio:5.1f}x executemany")
    print(
        f"record_events / executemany = {rate['record_events'] / rate['executemany']:.1f}x"
        " (target >= 3x)"
    )
    conn.execute("truncate activity.analytics_events")
    conn.commit()
    conn.close()
    scratch.close()


if __name__ == "__main__":
    main()
