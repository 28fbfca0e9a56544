"""The queries issue 13 names, before and after it, on the scale dataset.

    python bench/bench_scale.py --before URL --after URL [--runs 3]

*before* is a database migrated to the schema before issue 13 (the five
original migrations) and *after* one migrated to the current schema, both
filled by ``bench/scale_dataset.py`` at the same --scale. Each query runs
--runs times on each side, interleaved, under ``EXPLAIN (ANALYZE, BUFFERS)``
with the same parameter values; the figures are execution time (ms) and shared
buffers read or hit. Writes run in a transaction that is rolled back, so each
run sees the same rows.

Before, the job queries did all their work in one statement; after, one
statement does one batch (10,000 rows) and the caller loops: the table shows
the one statement (how long its locks are held) and, for the jobs, the rows
it changed. With --loops URL (a copy of *after*: ``create database ... template``),
each job then also runs to the end as a service would (the caller's loop, one
committed batch per call; for events drop_event_partitions first), once: the
total work, against the one statement before.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from psycopg import ClientCursor

NOW = datetime.now(UTC)
TODAY = NOW.date()

# The SQL of these queries before issue 13 (queries/*.sql at 089aa17).
BEFORE = {
    "count_events_by_day": """
select name, (occurred_at at time zone 'UTC')::date as day, count(*) as count
  from activity.analytics_events
 where occurred_at >= %(since)s and occurred_at < %(until)s
   and (%(name)s::text is null or name = %(name)s)
 group by name, day order by day, name""",
    "expire_subscriptions": """
update payments.subscriptions
   set status = case when cancel_at_period_end then 'CANCELED'::payments."SubscriptionStatus"
                     else 'EXPIRED'::payments."SubscriptionStatus" end
 where status in ('TRIALING', 'ACTIVE', 'PAST_DUE')
   and coalesce(case when status = 'TRIALING' then trial_ends_at end, current_period_end)
       < %(ended_before)s::timestamptz""",
    "delete_expired_tokens": """
with sessions as (
  delete from auth.sessions where expires_at <= now() or revoked_at is not null returning 1
), resets as (
  delete from auth.password_resets where expires_at <= now() or used_at is not null returning 1
), verifications as (
  delete from auth.email_verifications where expires_at <= now() or verified_at is not null
  returning 1
)
select (select count(*) from sessions) + (select count(*) from resets)
     + (select count(*) from verifications) as deleted""",
    "delete_events_before": """
delete from activity.analytics_events where occurred_at < %(cutoff)s""",
    "delete_old_notifications": """
delete from notifications.notifications where created_at < %(older_than)s::timestamptz""",
    "list_events_by_name": """
select id, name, user_id, properties, occurred_at, created_at
  from activity.analytics_events
 where name = %(name)s
   and (%(before)s::timestamptz is null or occurred_at < %(before)s
        or (occurred_at = %(before)s and id < %(before_id)s::uuid))
 order by occurred_at desc, id desc
 limit %(limit)s""",
}


def _after_sql() -> dict[str, str]:
    from codezest_db import queries

    out = {}
    for name in BEFORE:
        domain = next(
            d
            for d in ("activity", "payments", "auth", "notifications")
            if name in list(getattr(queries, d))
        )
        out[name] = getattr(getattr(queries, domain), name).sql
    return out


Case = tuple[str, str, Callable[[psycopg.Connection[Any]], dict[str, Any]]]


def _deep(conn: psycopg.Connection[Any], page: int) -> dict[str, Any]:
    name = "event_00"
    if page == 1:
        return {"name": name, "limit": 20, "before": None, "before_id": None}
    row = conn.execute(
        "select occurred_at, id from activity.analytics_events where name = %s"
        " order by occurred_at desc, id desc offset %s limit 1",
        (name, 20 * (page - 1) - 1),
    ).fetchone()
    assert row is not None
    return {"name": name, "limit": 20, "before": row[0], "before_id": row[1]}


CASES: list[Case] = [
    (
        "count_events_by_day, 90 days",
        "count_events_by_day",
        lambda c: {"since": _day(-90), "until": _day(1), "name": None},
    ),
    (
        "count_events_by_day, 1 day",
        "count_events_by_day",
        lambda c: {"since": _day(-1), "until": _day(0), "name": None},
    ),
    (
        "expire_subscriptions",
        "expire_subscriptions",
        lambda c: {"ended_before": NOW - timedelta(days=1), "batch_size": None},
    ),
    ("delete_expired_tokens", "delete_expired_tokens", lambda c: {"batch_size": None}),
    (
        "delete_events_before (60 days)",
        "delete_events_before",
        lambda c: {"cutoff": NOW - timedelta(days=60), "batch_size": None},
    ),
    (
        "delete_old_notifications (90 days)",
        "delete_old_notifications",
        lambda c: {"older_than": NOW - timedelta(days=90), "batch_size": None},
    ),
    ("list_events_by_name page 1", "list_events_by_name", lambda c: _deep(c, 1)),
    ("list_events_by_name page 500", "list_events_by_name", lambda c: _deep(c, 500)),
]


def _day(offset: int) -> date | datetime:
    return TODAY + timedelta(days=offset)


def explain(conn: psycopg.Connection[Any], text: str, params: dict[str, Any]) -> dict[str, Any]:
    cur = ClientCursor(conn)
    with conn.transaction(force_rollback=True):
        cur.execute("explain (analyze, buffers, format json) " + text, params)
        row = cur.fetchone()
    assert row is not None
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    return dict(document[0])


def _summary(document: dict[str, Any]) -> tuple[float, int, int]:
    plan = document["Plan"]
    buffers = int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))
    rows = int(plan.get("Actual Rows", 0))
    if plan.get("Node Type") == "ModifyTable":
        rows = sum(
            int(p.get("Actual Rows", 0))
            for p in plan.get("Plans", ())
            if p.get("Parent Relationship") not in ("InitPlan", "SubPlan")
        )
    return float(document["Execution Time"]), buffers, rows


LOOPS: dict[str, Callable[[psycopg.Connection[Any]], int]] = {
    "expire_subscriptions": lambda c: _loop(
        lambda: _q(c, "payments", "expire_subscriptions", ended_before=NOW - timedelta(days=1))
    ),
    "delete_expired_tokens": lambda c: _loop(lambda: _q(c, "auth", "delete_expired_tokens")),
    "delete_events_before (60 days)": lambda c: (
        _q(c, "activity", "drop_event_partitions", before=NOW - timedelta(days=60)) * 0
        + _loop(lambda: _q(c, "activity", "delete_events_before", cutoff=NOW - timedelta(days=60)))
    ),
    "delete_old_notifications (90 days)": lambda c: _loop(
        lambda: _q(
            c, "notifications", "delete_old_notifications", older_than=NOW - timedelta(days=90)
        )
    ),
}


def _q(conn: psycopg.Connection[Any], domain: str, name: str, **params: Any) -> int:
    from codezest_db import queries

    return int(getattr(getattr(queries, domain), name)(conn, **params))


def _loop(step: Callable[[], int]) -> int:
    total = 0
    while done := step():
        total += done
    return total


def loops(url: str) -> None:
    """Each job to the end, a batch per transaction as a service runs it: this
    deletes and expires rows for good, so give it a copy of the database."""
    print("\nafter, the whole job (the caller's loop, each batch committed), once:")
    with psycopg.connect(url, autocommit=True) as conn:
        for label, job in LOOPS.items():
            started = time.perf_counter()
            rows = job(conn)
            elapsed = time.perf_counter() - started
            print(f"  {label:<36} {elapsed * 1000:>10.0f} ms {rows:>9} rows")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--loops", metavar="URL", help="then run each job's whole loop on URL (a copy: it deletes)"
    )
    args = parser.parse_args()
    after_sql = _after_sql()
    with psycopg.connect(args.before) as old, psycopg.connect(args.after) as new:
        for conn in (old, new):
            conn.execute("set jit = off")  # the figures are about plans, not JIT warm-up
        print(
            f"{'query':<36} {'side':<6} {'runs (ms)':<28} {'median':>9} {'buffers':>9} {'rows':>9}"
        )
        for label, name, params in CASES:
            results: dict[str, list[tuple[float, int, int]]] = {"before": [], "after": []}
            p_old, p_new = params(old), params(new)
            for _ in range(args.runs):
                results["before"].append(_summary(explain(old, BEFORE[name], p_old)))
                results["after"].append(_summary(explain(new, after_sql[name], p_new)))
            medians = {}
            for side, runs in results.items():
                times = [t for t, _, _ in runs]
                medians[side] = statistics.median(times)
                shown = ", ".join(f"{t:.2f}" for t in times)
                _, buffers, rows = runs[-1]
                print(
                    f"{label:<36} {side:<6} {shown:<28} {medians[side]:>9.2f} {buffers:>9}"
                    f" {rows:>9}"
                )
            ratio = medians["before"] / medians["after"] if medians["after"] else float("inf")
            print(f"{'':<36} {'ratio':<6} {'before / after':<28} {ratio:>9.1f}x")
    if args.loops:
        loops(args.loops)


if __name__ == "__main__":
    main()
