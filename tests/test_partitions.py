"""Partitioning analytics_events keeps the events already stored, both ways."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from codezest_db import migrate

PARTITIONING = "20261125110000"


def test_partitioning_moves_stored_events_and_counts_them(empty_database_url: str) -> None:
    url = empty_database_url
    migrate.up(url)
    later = [v for v in migrate.applied(url) if v >= PARTITIONING]
    migrate.rollback(url, len(later))  # back to the plain events table
    assert PARTITIONING not in migrate.applied(url)
    old = datetime(2025, 2, 14, 12, tzinfo=UTC)
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into activity.analytics_events (name, occurred_at)"
            " select 'page_view', t from unnest(%s::timestamptz[]) t",
            ([old, old + timedelta(days=40), now, now],),
        )
    migrate.up(url)
    with psycopg.connect(url) as conn:
        homes = conn.execute(
            "select tableoid::regclass::text, count(*) from activity.analytics_events"
            " group by 1 order by 1"
        ).fetchall()
        counts = conn.execute(
            "select day, sum(count)::int from activity.event_counts group by 1 order by 1"
        ).fetchall()
    assert homes == [
        ("activity.analytics_events_p2025_02", 1),
        ("activity.analytics_events_p2025_03", 1),
        (f"activity.analytics_events_p{now:%Y_%m}", 2),
    ]
    assert counts == [(old.date(), 1), ((old + timedelta(days=40)).date(), 1), (now.date(), 2)]
    migrate.rollback(url, len(later))
    with psycopg.connect(url) as conn:
        (kind,) = conn.execute(
            "select relkind::text from pg_class where oid = 'activity.analytics_events'::regclass"
        ).fetchone() or (None,)
        (stored,) = conn.execute("select count(*) from activity.analytics_events").fetchone() or (
            0,
        )
    assert (kind, stored) == ("r", 4)
