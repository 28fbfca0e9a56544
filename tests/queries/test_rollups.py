"""The per-user daily rollup behind count_user_events_by_day (issue 21 item 3).

roll_up_user_events moves the rollup's time forward a bounded batch of events
at a time; events before that time that arrive late, are deleted or change
become deltas, folded by the next calls. Whatever happens, the query answers
what counting the user's events answers.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from codezest_db import queries
from codezest_db.models import EventCountRow
from codezest_db.testing import TestServer

Conn = psycopg.Connection[Any]

DAY = datetime(2021, 6, 1, 12, tzinfo=UTC)
SINCE, UNTIL = date(2021, 5, 1), date(2021, 8, 1)
LATER = DAY + timedelta(days=40)  # roll-ups stop here: events after it stay raw


def truth(conn: Conn, user_id: uuid.UUID, kept_from: datetime | None = None) -> list[EventCountRow]:
    """The user's counts from the events themselves, those since *kept_from* if given."""
    since = max(datetime(2021, 5, 1, tzinfo=UTC), kept_from or datetime.min.replace(tzinfo=UTC))
    rows = conn.execute(
        "select name, (occurred_at at time zone 'UTC')::date, count(*)"
        "  from activity.analytics_events"
        " where user_id = %s and occurred_at >= %s and occurred_at < %s"
        " group by 1, 2 order by 2, 1",
        (user_id, since, datetime(2021, 8, 1, tzinfo=UTC)),
    ).fetchall()
    return [EventCountRow(name=n, day=d, count=c) for n, d, c in rows]


def counted(conn: Conn, user_id: uuid.UUID) -> list[EventCountRow]:
    return queries.activity.count_user_events_by_day(
        conn, user_id=user_id, since=SINCE, until=UNTIL
    )


def record(conn: Conn, user_id: uuid.UUID, n: int, start: datetime, step_hours: float) -> None:
    queries.activity.record_events(
        conn,
        events=[
            {
                "name": "abc"[i % 3],
                "user_id": user_id,
                "occurred_at": start + timedelta(hours=step_hours * i),
            }
            for i in range(n)
        ],
    )


def roll_all(conn: Conn, before: datetime, batch_size: int = 50) -> int:
    calls = 0
    while queries.activity.roll_up_user_events(conn, before=before, batch_size=batch_size):
        calls += 1
    return calls


def rolled_before(conn: Conn) -> datetime:
    row = conn.execute("select rolled_before from activity.user_event_rollup").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


def rollup_rows(conn: Conn, user_id: uuid.UUID, folded: bool) -> int:
    row = conn.execute(
        "select count(*) from activity.user_event_counts where user_id = %s and folded = %s",
        (user_id, folded),
    ).fetchone()
    return int(row[0]) if row else 0


def test_counts_stay_exact_through_roll_ups_late_events_deletes_and_updates(conn: Conn) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    record(conn, user, 300, DAY, 5)  # 62 days, so some stay after LATER
    record(conn, other, 40, DAY, 11)
    assert counted(conn, user) == truth(conn, user)

    assert roll_all(conn, LATER) > 1  # many bounded batches
    assert rolled_before(conn) == LATER
    assert rollup_rows(conn, user, folded=True) > 0
    assert counted(conn, user) == truth(conn, user)
    assert counted(conn, other) == truth(conn, other)

    # Late events, a delete and an update, all before the rollup's time: deltas.
    record(conn, user, 30, DAY + timedelta(days=2), 3)
    conn.execute(
        "delete from activity.analytics_events where user_id = %s and name = 'b'"
        " and occurred_at < %s",
        (user, DAY + timedelta(days=5)),
    )
    conn.execute(
        "update activity.analytics_events set occurred_at = occurred_at + interval '50 days'"
        " where user_id = %s and name = 'c' and occurred_at < %s",
        (user, DAY + timedelta(days=3)),
    )
    assert rollup_rows(conn, user, folded=False) > 0
    assert counted(conn, user) == truth(conn, user)

    roll_all(conn, LATER)  # folds the deltas
    assert rollup_rows(conn, user, folded=False) == 0
    assert counted(conn, user) == truth(conn, user)
    roll_all(conn, LATER + timedelta(days=60))  # and takes the rest
    assert counted(conn, user) == truth(conn, user)
    assert counted(conn, other) == truth(conn, other)


def test_a_batch_overshoots_batch_size_only_by_ties_on_the_last_time(conn: Conn) -> None:
    user = uuid.uuid4()
    roll_all(conn, DAY)  # whatever the database held before: rolled
    record(conn, user, 10, DAY, 1)  # 10 events an hour apart
    tied = DAY + timedelta(hours=10)
    queries.activity.record_events(
        conn, events=[{"name": "t", "user_id": user, "occurred_at": tied} for _ in range(7)]
    )
    record(conn, user, 5, DAY + timedelta(hours=11), 1)
    # batch_size 12 ends inside the 7 events at `tied`: all 7 go in that batch.
    taken = [
        queries.activity.roll_up_user_events(conn, before=LATER, batch_size=4) for _ in range(2)
    ]
    assert taken == [4, 4] and rolled_before(conn) == DAY + timedelta(hours=7, microseconds=1)
    assert queries.activity.roll_up_user_events(conn, before=LATER, batch_size=3) == 2 + 7
    assert rolled_before(conn) == tied + timedelta(microseconds=1)
    assert queries.activity.roll_up_user_events(conn, before=LATER, batch_size=100) == 5
    assert queries.activity.roll_up_user_events(conn, before=LATER, batch_size=100) == 0
    assert rolled_before(conn) == LATER
    assert counted(conn, user) == truth(conn, user)


def test_folding_deltas_overshoots_only_by_the_last_key(conn: Conn) -> None:
    user = uuid.uuid4()
    roll_all(conn, LATER)
    for _ in range(3):  # three statements: three deltas of (user, DAY, a)
        queries.activity.record_events(
            conn, events=[{"name": "a", "user_id": user, "occurred_at": DAY}]
        )
    queries.activity.record_events(
        conn, events=[{"name": "b", "user_id": user, "occurred_at": DAY}]
    )
    others = conn.execute(
        "select count(*) from activity.user_event_counts where not folded and user_id <> %s",
        (user,),
    ).fetchone()
    assert others == (0,)
    assert rollup_rows(conn, user, folded=False) == 4
    # batch_size 2 ends inside the three deltas of (user, DAY, a): it takes all three.
    assert queries.activity.roll_up_user_events(conn, before=LATER, batch_size=2) == 3
    assert rollup_rows(conn, user, folded=False) == 1
    assert queries.activity.roll_up_user_events(conn, before=LATER, batch_size=2) == 1
    assert rollup_rows(conn, user, folded=False) == 0
    assert counted(conn, user) == [
        EventCountRow(name="a", day=DAY.date(), count=3),
        EventCountRow(name="b", day=DAY.date(), count=1),
    ]


def test_compact_event_counts_stays_within_batch_size_and_one_key(conn: Conn) -> None:
    name = f"compact-{uuid.uuid4()}"
    for hours in (0, 0, 0, 30, 30, 60):  # one statement each: a delta each
        queries.activity.record_events(
            conn, events=[{"name": name, "occurred_at": DAY + timedelta(hours=hours)}]
        )
    # Older deltas of the database first, so that only these six are left to fold.
    while queries.activity.compact_event_counts(conn, before=date(2021, 6, 1), batch_size=500):
        pass
    # Three deltas on June 1st, two on the 2nd, one on the 4th.
    assert queries.activity.compact_event_counts(conn, before=date(2021, 7, 1), batch_size=2) == 3
    assert queries.activity.compact_event_counts(conn, before=date(2021, 7, 1), batch_size=1) == 2
    assert queries.activity.compact_event_counts(conn, before=date(2021, 7, 1), batch_size=5) == 1
    assert queries.activity.compact_event_counts(conn, before=date(2021, 7, 1), batch_size=5) == 0
    rows = conn.execute(
        "select day, count, folded from activity.event_counts where name = %s order by day",
        (name,),
    ).fetchall()
    assert rows == [
        (date(2021, 6, 1), 3, True),
        (date(2021, 6, 2), 2, True),
        (date(2021, 6, 4), 1, True),
    ]


def test_roll_up_gives_way_to_ingest_instead_of_blocking_it(database_url: str) -> None:
    """A transaction that stored events holds the rollup's lock shared until it
    commits: roll_up_user_events then returns 0 in about half a second, and
    ingest on a third connection never waited for it."""
    with (
        psycopg.connect(database_url) as ingest,
        psycopg.connect(database_url) as job,
        psycopg.connect(database_url) as more,
    ):
        record(ingest, uuid.uuid4(), 3, DAY, 1)  # open transaction: holds the lock shared
        waits: list[float] = []

        def ingest_meanwhile() -> None:
            time.sleep(0.1)
            started = time.perf_counter()
            record(more, uuid.uuid4(), 3, DAY, 1)
            waits.append(time.perf_counter() - started)

        thread = threading.Thread(target=ingest_meanwhile)
        thread.start()
        started = time.perf_counter()
        assert queries.activity.roll_up_user_events(job, before=LATER, batch_size=10) == 0
        took = time.perf_counter() - started
        thread.join(10)
        assert 0.3 < took < 5 and waits and waits[0] < 0.3
        for c in (ingest, job, more):
            c.rollback()


def user_deltas(conn: Conn) -> int:
    """Every delta row of the per-user rollup, of any user."""
    row = conn.execute(
        "select count(*) from activity.user_event_counts where not folded"
    ).fetchone()
    return int(row[0]) if row else 0


def retire(conn: Conn, cutoff: datetime, batch_size: int) -> list[int]:
    calls = []
    while deleted := queries.activity.delete_events_before(
        conn, cutoff=cutoff, batch_size=batch_size
    ):
        calls.append(deleted)
    return calls


def test_retention_stops_counting_its_events_at_once_and_writes_no_per_user_delta(
    conn: Conn,
) -> None:
    """delete_events_before moves the retention horizon to its cutoff first: the
    rollup stops counting what is before it from the first batch on, and the
    delete trigger writes no per-user delta for it (the cost it had: one delta
    per deleted event's user, day and name)."""
    user, other = uuid.uuid4(), uuid.uuid4()
    record(conn, user, 300, DAY, 5)  # 62 days
    record(conn, other, 40, DAY, 11)
    roll_all(conn, LATER)  # most of them folded into the rollup, the rest raw
    assert user_deltas(conn) == 0
    cutoff = DAY + timedelta(days=10, hours=7)  # 19:00 on a day with events before and after

    first = queries.activity.delete_events_before(conn, cutoff=cutoff, batch_size=20)
    assert first == 20  # one batch of many: the rest of the old events are still there
    assert counted(conn, user) == truth(conn, user, kept_from=cutoff)
    assert counted(conn, other) == truth(conn, other, kept_from=cutoff)
    assert user_deltas(conn) == 0
    assert len(retire(conn, cutoff, batch_size=20)) > 1
    assert counted(conn, user) == truth(conn, user) == truth(conn, user, kept_from=cutoff)
    assert user_deltas(conn) == 0

    # A late event before the horizon is not counted (and costs no delta); one
    # on the horizon's day after it is, and so is a delete there, after a roll-up.
    record(conn, user, 2, cutoff - timedelta(hours=30), 1)
    assert user_deltas(conn) == 0
    record(conn, user, 2, cutoff + timedelta(hours=1), 1)
    assert user_deltas(conn) == 2  # names a and b, before the rollup's time: deltas
    conn.execute(
        "delete from activity.analytics_events where user_id = %s"
        " and occurred_at > %s and occurred_at < %s and name = 'a'",
        (user, cutoff, cutoff + timedelta(hours=5)),
    )
    assert counted(conn, user) == truth(conn, user, kept_from=cutoff)
    roll_all(conn, LATER + timedelta(days=60))
    assert counted(conn, user) == truth(conn, user, kept_from=cutoff)
    assert counted(conn, other) == truth(conn, other, kept_from=cutoff)

    # An earlier cutoff leaves the horizon where it is; a later one at midnight moves it.
    assert retire(conn, cutoff - timedelta(days=1), batch_size=20) == [2]  # the late pair
    assert counted(conn, user) == truth(conn, user, kept_from=cutoff)
    midnight = datetime(2021, 6, 20, tzinfo=UTC)
    retire(conn, midnight, batch_size=50)
    assert counted(conn, user) == truth(conn, user) == truth(conn, user, kept_from=midnight)
    assert counted(conn, user)[0].day == midnight.date()


def test_retention_and_roll_ups_and_ingest_at_once_never_deadlock(
    test_server: TestServer,
) -> None:
    """Three connections on real threads, each committing: retention batches with
    a rising cutoff, roll-ups, and ingest of new and late events. The horizon has
    a table of its own: a retention batch holds its row lock while its trigger
    waits for the rollup's advisory lock, which a roll-up holds while it updates
    the rollup's row; sharing one row, the two would deadlock."""
    url = test_server.create_database(migrated=True)
    user = uuid.uuid4()
    failures: list[BaseException] = []
    stop = threading.Event()
    try:
        with psycopg.connect(url, autocommit=True) as setup:
            record(setup, user, 400, DAY, 2)

        def run(work: Any) -> None:
            try:
                with psycopg.connect(url, autocommit=True) as own:
                    step = 0
                    while not stop.is_set():
                        work(own, step)
                        step += 1
            except BaseException as exc:  # every failure is the test's
                failures.append(exc)
                stop.set()

        def retention(c: Conn, step: int) -> None:
            cutoff = DAY + timedelta(hours=step % 200)
            queries.activity.delete_events_before(c, cutoff=cutoff, batch_size=5)

        def roll_up(c: Conn, step: int) -> None:
            queries.activity.roll_up_user_events(c, before=LATER, batch_size=7)

        def ingest(c: Conn, step: int) -> None:
            record(c, user, 3, DAY + timedelta(hours=step % 300), 0.5)

        threads = [threading.Thread(target=run, args=(w,)) for w in (retention, roll_up, ingest)]
        for thread in threads:
            thread.start()
        time.sleep(4)
        stop.set()
        for thread in threads:
            thread.join(30)
        assert not any(t.is_alive() for t in threads)
        assert not failures, failures
        with psycopg.connect(url, autocommit=True) as check:
            row = check.execute("select kept_from from activity.event_retention").fetchone()
            assert row is not None and row[0] > DAY
            assert counted(check, user) == truth(check, user, kept_from=row[0])
            roll_all(check, LATER + timedelta(days=60))
            assert counted(check, user) == truth(check, user, kept_from=row[0])
    finally:
        test_server.drop_database(url)
