"""Bulk per-user writes and the per-user rollup, old design against new (issue 21 items 2, 3).

    python bench/bench_bulk_writes.py --url URL [--runs 5]

URL is a copy of the scale dataset (``bench/scale_dataset.py``) migrated to
this release, with the rollup taken (``roll_up_user_events`` until 0). For the
heavy user and a typical one, each write runs --runs times in the old shape
(the SQL of 0.2.0: an update of every row) and the new one (the query of this
release: a per-user mark), interleaved, each in a transaction rolled back, so
every run sees the same rows. Reported: the median wall time of the call
(client to server and back), and the rows the statement updated, from the
server's own count (``pg_stat_xact_user_tables``): the rows it locked. Then
the same for ``count_user_events_by_day`` (90 days) against aggregating the
user's events, and the share of HOT updates of ``touch_session`` and
``record_login``.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from codezest_db import queries

Conn = psycopg.Connection[Any]

OLD = {
    "revoke_user_sessions": (
        "update auth.sessions set revoked_at = now() where user_id = %(user_id)s"
        " and revoked_at is null"
    ),
    "soft_delete_user": """
with revoked as (
  update auth.sessions set revoked_at = now() where user_id = %(user_id)s and revoked_at is null
)
update auth.users set deleted_at = now() where id = %(user_id)s and deleted_at is null""",
    "update_password_hash": """
with revoked as (
  update auth.sessions set revoked_at = now() where user_id = %(user_id)s and revoked_at is null
)
update auth.users set password_hash = 'bench$hash' where id = %(user_id)s and deleted_at is null""",
    "mark_all_read": (
        "update notifications.notifications set read_at = now() where user_id = %(user_id)s"
        " and read_at is null"
    ),
    "count_user_events_by_day": """
select name, (occurred_at at time zone 'UTC')::date as day, count(*) as count
  from activity.analytics_events
 where user_id = %(user_id)s
   and occurred_at >= (%(since)s::date)::timestamp at time zone 'UTC'
   and occurred_at < (%(until)s::date)::timestamp at time zone 'UTC'
 group by day, name
 order by day, name""",
}


def new_call(name: str, conn: Conn, user_id: uuid.UUID, since: Any, until: Any) -> Any:
    q = queries
    calls: dict[str, Callable[[], Any]] = {
        "revoke_user_sessions": lambda: q.auth.revoke_user_sessions(conn, user_id=user_id),
        "soft_delete_user": lambda: q.auth.soft_delete_user(conn, id=user_id),
        "update_password_hash": lambda: q.auth.update_password_hash(
            conn, id=user_id, password_hash="bench$hash"
        ),
        "mark_all_read": lambda: q.notifications.mark_all_read(conn, user_id=user_id),
        "count_user_events_by_day": lambda: q.activity.count_user_events_by_day(
            conn, user_id=user_id, since=since, until=until
        ),
    }
    return calls[name]()


def updated(conn: Conn) -> int:
    row = conn.execute(
        "select coalesce(sum(n_tup_upd), 0) from pg_stat_xact_user_tables"
    ).fetchone()
    return int(row[0]) if row else 0


def vacuum(conn: Conn) -> None:
    conn.commit()
    conn.autocommit = True
    conn.execute("vacuum auth.sessions, auth.users, notifications.notifications")
    conn.autocommit = False


def one(conn: Conn, run: Callable[[], Any]) -> tuple[float, int]:
    before = updated(conn)
    started = time.perf_counter()
    run()
    took = (time.perf_counter() - started) * 1000
    rows = updated(conn) - before
    conn.rollback()
    return took, rows


def measure(conn: Conn, user_id: uuid.UUID, runs: int) -> None:
    today = datetime.now(UTC).date()
    since, until = today - timedelta(days=89), today + timedelta(days=1)
    params = {"user_id": user_id, "since": since, "until": until}
    print(f"{'query':<26} {'old ms':>9} {'old rows':>9} {'new ms':>9} {'new rows':>9} {'ratio':>7}")
    for name, sql in OLD.items():
        old: list[tuple[float, int]] = []
        new: list[tuple[float, int]] = []
        # Not interleaved: a rolled-back update of every row clears the visibility
        # map of their pages, and the new design's index-only counts would then
        # read the heap (as after any bulk update, until VACUUM). So: vacuum,
        # the new design, then the old one.
        vacuum(conn)
        for _ in range(runs):
            new.append(one(conn, lambda name=name: new_call(name, conn, user_id, since, until)))  # type: ignore[misc]
        for _ in range(runs):
            old.append(one(conn, lambda sql=sql: conn.execute(sql, params)))  # type: ignore[misc]
        o = statistics.median(t for t, _ in old)
        n = statistics.median(t for t, _ in new)
        print(
            f"{name:<26} {o:9.1f} {max(r for _, r in old):9d} {n:9.1f}"
            f" {max(r for _, r in new):9d} {o / n:6.1f}x"
        )


def warm_read(conn: Conn, user_id: uuid.UUID, runs: int) -> None:
    """count_user_events_by_day, 90 days, after one call each: interleaved, warm."""
    today = datetime.now(UTC).date()
    since, until = today - timedelta(days=89), today + timedelta(days=1)
    params = {"user_id": user_id, "since": since, "until": until}
    times: dict[str, list[float]] = {"old": [], "new": []}
    for i in range(runs + 1):
        started = time.perf_counter()
        old = conn.execute(OLD["count_user_events_by_day"], params).fetchall()
        took_old = (time.perf_counter() - started) * 1000
        started = time.perf_counter()
        new = new_call("count_user_events_by_day", conn, user_id, since, until)
        took_new = (time.perf_counter() - started) * 1000
        if i:  # the first of each warms the caches
            times["old"].append(took_old)
            times["new"].append(took_new)
    assert [(r.name, r.day, r.count) for r in new] == [tuple(r) for r in old]
    o, n = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"count_user_events_by_day, warm, {len(new)} rows: old {o:.1f} ms, new {n:.1f} ms")
    conn.rollback()


def hot_share(conn: Conn, count: int) -> None:
    tokens = [
        r[0]
        for r in conn.execute(
            "select token_hash from auth.sessions where revoked_at is null and expires_at > now()"
            " order by md5(token_hash) limit %s",
            (count,),
        )
    ]
    users = [
        r[0]
        for r in conn.execute("select id from auth.users order by md5(id::text) limit %s", (count,))
    ]
    for table, run in (
        ("auth.sessions", lambda: [queries.auth.touch_session(conn, token_hash=t) for t in tokens]),
        ("auth.users", lambda: [queries.auth.record_login(conn, id=u) for u in users]),
    ):
        schema, rel = table.split(".")
        stat = (
            "select n_tup_upd, n_tup_hot_upd from pg_stat_xact_user_tables"
            " where schemaname = %s and relname = %s"
        )
        before = conn.execute(stat, (schema, rel)).fetchone() or (0, 0)
        run()
        after = conn.execute(stat, (schema, rel)).fetchone() or (0, 0)
        upd, hot = after[0] - before[0], after[1] - before[1]
        conn.rollback()
        print(f"{table}: {upd} updates, {hot} HOT ({100 * hot / max(upd, 1):.0f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--heavy", default="f365dd6f-bb00-d263-8748-b2c1460fa0da")
    parser.add_argument("--reads-only", action="store_true", help="only the warm read")
    args = parser.parse_args()
    heavy = uuid.UUID(args.heavy)
    with psycopg.connect(args.url) as conn:
        row = conn.execute(
            "select user_id from auth.sessions where user_id <> %s order by token_hash limit 1",
            (heavy,),
        ).fetchone()
        conn.rollback()
        assert row is not None
        for label, user in (("heavy", heavy), ("typical", row[0])):
            print(f"\n{label} user {user}, median of {args.runs}:")
            if not args.reads_only:
                measure(conn, user, args.runs)
            warm_read(conn, user, max(args.runs, 7))
        if args.reads_only:
            return
        print("\nHOT updates of 200 calls each:")
        hot_share(conn, 200)


if __name__ == "__main__":
    main()
