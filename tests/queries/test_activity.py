"""Every activity query, and record_events' COPY ingest, against a real migrated database."""

from __future__ import annotations

import itertools
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from pydantic import ValidationError

from codezest_db import aio, errors, queries
from codezest_db.models import AnalyticsEvent, AnalyticsEventIn, EventCountRow, UserActivity
from tests.conftest import run_async

Conn = psycopg.Connection[Any]

MILLION = 1_000_000


def unique_name(prefix: str = "ev") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def count_events(conn: Conn, name: str) -> int:
    row = conn.execute(
        "select count(*) from activity.analytics_events where name = %s", (name,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def add_activity_at(conn: Conn, user_id: uuid.UUID, at: datetime) -> uuid.UUID:
    """An older feed entry: record_activity always stamps now()."""
    row = conn.execute(
        "insert into activity.user_activities (user_id, type, created_at)"
        " values (%s, 'lesson.viewed', %s) returning id",
        (user_id, at),
    ).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


# -- the activity feed ---------------------------------------------------------------------


def test_record_activity_with_and_without_metadata(conn: Conn) -> None:
    user_id, module_id = uuid.uuid4(), uuid.uuid4()
    plain = queries.activity.record_activity(
        conn, user_id=user_id, type="module.completed", entity_type="module", entity_id=module_id
    )
    assert isinstance(plain, UserActivity)
    assert (plain.user_id, plain.entity_id, plain.metadata) == (user_id, module_id, {})
    detailed = queries.activity.record_activity(
        conn,
        user_id=user_id,
        type="quiz.passed",
        entity_type=None,
        entity_id=None,
        metadata={"score": 9, "tags": ["a", "b"]},
    )
    assert detailed.metadata == {"score": 9, "tags": ["a", "b"]}
    assert detailed.created_at.tzinfo is not None


def test_record_activity_refuses_an_entity_id_without_its_type(conn: Conn) -> None:
    with pytest.raises(errors.ConstraintViolation) as caught:
        queries.activity.record_activity(
            conn, user_id=uuid.uuid4(), type="x", entity_type=None, entity_id=uuid.uuid4()
        )
    assert caught.value.constraint == "user_activities_entity_check"


def test_list_user_activity_newest_first_before_is_exclusive(conn: Conn) -> None:
    user_id, other = uuid.uuid4(), uuid.uuid4()
    base = datetime(2024, 5, 1, 12, tzinfo=UTC)
    ids = [add_activity_at(conn, user_id, base + timedelta(minutes=i)) for i in range(4)]
    add_activity_at(conn, other, base)
    feed = queries.activity.list_user_activity(conn, user_id=user_id, limit=10)
    assert [a.id for a in feed] == ids[::-1]
    assert [a.id for a in queries.activity.list_user_activity(conn, user_id=user_id, limit=2)] == [
        ids[3],
        ids[2],
    ]
    older = queries.activity.list_user_activity(
        conn, user_id=user_id, limit=10, before=base + timedelta(minutes=2)
    )
    assert [a.id for a in older] == [ids[1], ids[0]]


def test_list_user_activity_pages_through_equal_timestamps(conn: Conn) -> None:
    user_id = uuid.uuid4()
    # One transaction: now() is fixed, so these five share created_at.
    made = [
        queries.activity.record_activity(
            conn, user_id=user_id, type="lesson.viewed", entity_type=None, entity_id=None
        )
        for _ in range(5)
    ]
    assert len({a.created_at for a in made}) == 1
    old = [add_activity_at(conn, user_id, datetime(2020, 1, 1, tzinfo=UTC)) for _ in range(2)]
    expected = sorted(made, key=lambda a: a.id, reverse=True)

    pages: list[list[UserActivity]] = [
        queries.activity.list_user_activity(conn, user_id=user_id, limit=2)
    ]
    # Bounded: a keyset bug that repeats a row must fail here, not loop forever.
    for _ in range(10):
        if not pages[-1]:
            break
        last = pages[-1][-1]
        pages.append(
            queries.activity.list_user_activity(
                conn, user_id=user_id, limit=2, before=last.created_at, before_id=last.id
            )
        )
    else:
        pytest.fail(f"paging did not end after 10 pages: {[len(p) for p in pages]}")
    seen = [a.id for page in pages for a in page]
    assert seen == [a.id for a in expected] + sorted(old, reverse=True)
    assert [len(p) for p in pages] == [2, 2, 2, 1, 0]

    # before alone is exclusive: it skips whatever shares the boundary's timestamp.
    after_first = queries.activity.list_user_activity(
        conn, user_id=user_id, limit=10, before=pages[0][-1].created_at
    )
    assert sorted(a.id for a in after_first) == sorted(old)


# -- record_events -------------------------------------------------------------------------


def test_record_events_from_a_list_of_models(conn: Conn) -> None:
    name, user_id = unique_name(), uuid.uuid4()
    at = datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    started = datetime.now(UTC)
    events = [
        AnalyticsEventIn(name=name, user_id=user_id, properties={"page": "/"}, occurred_at=at),
        AnalyticsEventIn(name=name),
        AnalyticsEventIn(name=name, properties={"n": 1}),
    ]
    assert queries.activity.record_events(conn, events=events) == 3
    stored = queries.activity.list_events_by_name(conn, name=name, limit=10)
    assert all(isinstance(e, AnalyticsEvent) for e in stored)
    assert len(stored) == 3
    dated = [e for e in stored if e.occurred_at == at]
    assert [(e.user_id, e.properties) for e in dated] == [(user_id, {"page": "/"})]
    # Events without occurred_at share one timestamp taken when the call started.
    undated = [e for e in stored if e.occurred_at != at]
    assert len({e.occurred_at for e in undated}) == 1
    assert started <= undated[0].occurred_at <= datetime.now(UTC)
    assert {e.user_id for e in undated} == {None}


def test_record_events_from_dicts_validates_them(conn: Conn) -> None:
    name, user_id = unique_name(), uuid.uuid4()
    events: list[dict[str, Any]] = [
        {"name": name, "user_id": str(user_id), "occurred_at": "2024-03-01T10:00:00+02:00"},
        {"name": name, "properties": {"at": datetime(2024, 1, 1, tzinfo=UTC), "id": user_id}},
    ]
    assert queries.activity.record_events(conn, events=events) == 2
    stored = {e.user_id: e for e in queries.activity.list_events_by_name(conn, name=name, limit=5)}
    assert stored[user_id].occurred_at == datetime(2024, 3, 1, 8, tzinfo=UTC)
    # pydantic's serialiser writes what json.dumps cannot.
    assert stored[None].properties == {"at": "2024-01-01T00:00:00Z", "id": str(user_id)}


def test_record_events_from_a_generator_and_from_nothing(conn: Conn) -> None:
    name = unique_name()
    generated = (AnalyticsEventIn(name=name, properties={"i": i}) for i in range(2500))
    assert queries.activity.record_events(conn, events=generated) == 2500
    assert count_events(conn, name) == 2500
    assert queries.activity.record_events(conn, events=iter(())) == 0
    assert queries.activity.record_events(conn, events=[]) == 0


def test_a_million_events_stream_in_constant_memory(conn: Conn) -> None:
    name = unique_name("million")

    def events(n: int) -> Iterator[AnalyticsEventIn]:
        for i in range(n):
            yield AnalyticsEventIn(name=name, properties={"i": i})

    tracemalloc.start()
    try:
        sample = list(events(10_000))
        as_list = tracemalloc.get_traced_memory()[0] * (MILLION // len(sample))
        del sample
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        assert queries.activity.record_events(conn, events=events(MILLION)) == MILLION
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert count_events(conn, name) == MILLION
    # Held as a list the events would take hundreds of MB; streamed, a few buffers.
    assert as_list > 200 * 2**20
    assert peak < 20 * 2**20


def test_a_bad_event_in_the_middle_stores_nothing(configured: str) -> None:
    name = unique_name("bad")

    def events() -> Iterator[dict[str, Any]]:
        for i in range(1000):
            yield {"name": name, "user_id": "not-a-uuid" if i == 500 else None}

    # Without conn: borrowed from the pool, and committed only on success.
    with pytest.raises(errors.ConstraintViolation, match=r"event 500 \(0-based\)") as caught:
        queries.activity.record_events(events=events())
    assert isinstance(caught.value.__cause__, ValidationError)
    # On an autocommit connection the COPY is its own transaction: aborted whole.
    with psycopg.connect(configured, autocommit=True) as auto:
        with pytest.raises(errors.ConstraintViolation, match="event 500"):
            queries.activity.record_events(auto, events=events())
        assert count_events(auto, name) == 0
    # In the caller's transaction: the transaction fails, and rolls back to usable.
    with psycopg.connect(configured) as own:
        with pytest.raises(errors.ConstraintViolation, match="event 500"):
            queries.activity.record_events(own, events=events())
        assert own.info.transaction_status is psycopg.pq.TransactionStatus.INERROR
        own.rollback()
        assert count_events(own, name) == 0
    assert queries.activity.record_events(events=[{"name": name}]) == 1


def test_record_events_translates_what_the_server_refuses(conn: Conn) -> None:
    name = unique_name()
    with pytest.raises(errors.ConstraintViolation) as caught:
        queries.activity.record_events(conn, events=[{"name": name}, {"name": ""}])
    assert caught.value.constraint == "analytics_events_name_check"
    assert isinstance(caught.value.__cause__, psycopg.errors.CheckViolation)
    conn.rollback()
    assert count_events(conn, name) == 0


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ({"name": "x", "properties": ["not", "an", "object"]}, "valid dictionary"),
        ({"name": "x", "properties": {"o": object()}}, "serialize"),
        ({"name": "x", "occurred_at": "2024-01-01T00:00:00"}, "timezone"),
        ({"name": "x", "extra": 1}, "Extra inputs"),
        (("x", None), "valid dictionary or instance"),
    ],
)
def test_record_events_names_the_invalid_event(conn: Conn, bad: Any, why: str) -> None:
    with pytest.raises(errors.ConstraintViolation, match=rf"(?s)event 1 \(0-based\).*{why}"):
        queries.activity.record_events(conn, events=[{"name": "ok"}, bad])


@pytest.mark.parametrize("events", [{"name": "x"}, AnalyticsEventIn(name="x"), "abc", 42, None])
def test_record_events_wants_an_iterable_of_events(conn: Conn, events: Any) -> None:
    with pytest.raises(errors.InvalidParameters, match="iterable"):
        queries.activity.record_events(conn, events=events)


def test_record_events_checks_its_parameters(conn: Conn) -> None:
    with pytest.raises(errors.InvalidParameters, match="missing events"):
        queries.activity.record_events(conn)
    with pytest.raises(errors.InvalidParameters, match="unknown rows"):
        queries.activity.record_events(conn, events=[], rows=[])


# -- reading and expiring events -----------------------------------------------------------


def test_list_events_by_name_pages_through_equal_timestamps(conn: Conn) -> None:
    name = unique_name()
    late, early = datetime(2024, 6, 2, tzinfo=UTC), datetime(2024, 6, 1, tzinfo=UTC)
    events = [AnalyticsEventIn(name=name, occurred_at=late, properties={"i": i}) for i in range(5)]
    events.append(AnalyticsEventIn(name=name, occurred_at=early))
    queries.activity.record_events(conn, events=events)
    queries.activity.record_events(conn, events=[{"name": unique_name(), "occurred_at": late}])

    seen: list[AnalyticsEvent] = []
    page = queries.activity.list_events_by_name(conn, name=name, limit=2)
    for _ in range(10):  # bounded: a repeated row must fail, not loop forever
        if not page:
            break
        seen += page
        page = queries.activity.list_events_by_name(
            conn, name=name, limit=2, before=page[-1].occurred_at, before_id=page[-1].id
        )
    else:
        pytest.fail(f"paging did not end after 10 pages: {len(seen)} events seen")
    assert len({e.id for e in seen}) == len(seen) == 6
    assert [e.occurred_at for e in seen] == [late] * 5 + [early]
    assert [e.id for e in seen[:5]] == sorted((e.id for e in seen[:5]), reverse=True)
    assert queries.activity.list_events_by_name(conn, name=name, limit=9, before=late) == seen[5:]


def test_count_events_by_day(conn: Conn) -> None:
    views, clicks = unique_name("view"), unique_name("click")  # clicks sort first
    day1 = datetime(2023, 7, 1, tzinfo=UTC)
    at = [day1 + timedelta(hours=h) for h in (0, 5, 23, 24 + 1, 48)]  # 3 on day 1, 1 on day 2
    events = [AnalyticsEventIn(name=views, occurred_at=t) for t in at]
    events += [AnalyticsEventIn(name=clicks, occurred_at=day1 + timedelta(hours=30))] * 2
    queries.activity.record_events(conn, events=events)
    since, until = date(2023, 7, 1), date(2023, 7, 3)  # until is exclusive: drops hour 48
    counts = queries.activity.count_events_by_day(conn, since=since, until=until)
    mine = [c for c in counts if c.name in {views, clicks}]
    assert all(isinstance(c, EventCountRow) for c in counts)
    # By day, then name.
    assert mine == [
        EventCountRow(name=views, day=date(2023, 7, 1), count=3),
        EventCountRow(name=clicks, day=date(2023, 7, 2), count=2),
        EventCountRow(name=views, day=date(2023, 7, 2), count=1),
    ]
    only = queries.activity.count_events_by_day(conn, since=since, until=until, name=clicks)
    assert only == [EventCountRow(name=clicks, day=date(2023, 7, 2), count=2)]


def test_event_counts_follow_inserts_deletes_updates_and_compaction(conn: Conn) -> None:
    """The rollup stays equal to counting the events, whatever changes them."""
    names = [unique_name("roll") for _ in range(3)]
    day = datetime(2022, 3, 10, 12, tzinfo=UTC)
    events = [
        {"name": names[i % 3], "occurred_at": day + timedelta(hours=7 * i)} for i in range(40)
    ]
    queries.activity.record_events(conn, events=events)
    queries.activity.record_events(conn, events=events[:5])  # a second statement: more deltas
    conn.execute(
        "insert into activity.analytics_events (name, occurred_at) values (%s, %s)",
        (names[0], day),
    )

    def truth() -> list[EventCountRow]:
        rows = conn.execute(
            "select name, (occurred_at at time zone 'UTC')::date, count(*)"
            "  from activity.analytics_events where name = any(%s) group by 1, 2 order by 2, 1",
            (names,),
        ).fetchall()
        return [EventCountRow(name=n, day=d, count=c) for n, d, c in rows]

    def rollup() -> list[EventCountRow]:
        counts = queries.activity.count_events_by_day(
            conn, since=date(2022, 3, 1), until=date(2022, 4, 1)
        )
        return [c for c in counts if c.name in names]

    assert rollup() == truth() and len(truth()) > 10
    conn.execute(
        "delete from activity.analytics_events where name = %s and occurred_at < %s",
        (names[1], day + timedelta(days=3)),
    )
    conn.execute(
        "update activity.analytics_events set occurred_at = occurred_at + interval '2 days'"
        " where name = %s",
        (names[2],),
    )
    assert rollup() == truth()
    deltas = conn.execute(
        "select count(*) from activity.event_counts where name = any(%s)", (names,)
    ).fetchone()
    keys = conn.execute(
        "select day, name from activity.event_counts where name = any(%s) and not folded"
        " order by day, name",
        (names,),
    ).fetchall()
    compacted = queries.activity.compact_event_counts(conn, before=date(2022, 4, 1), batch_size=2)
    # bounded: two deltas, and the rest of the second one's (day, name)
    assert compacted == 2 + keys[2:].count(keys[1]) and compacted < len(keys)
    while queries.activity.compact_event_counts(conn, before=date(2022, 4, 1), batch_size=2):
        pass
    after = conn.execute(
        "select count(*) from activity.event_counts where name = any(%s)", (names,)
    ).fetchone()
    assert deltas and after and after[0] < deltas[0]
    assert after[0] == len(truth())  # one row per day and name
    assert rollup() == truth()


def test_count_user_events_by_day(conn: Conn) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    day = datetime(2023, 2, 1, 23, tzinfo=UTC)
    queries.activity.record_events(
        conn,
        events=[
            {"name": "b", "user_id": user, "occurred_at": day},
            {"name": "a", "user_id": user, "occurred_at": day},
            {"name": "a", "user_id": user, "occurred_at": day + timedelta(hours=2)},
            {"name": "a", "user_id": other, "occurred_at": day},
            {"name": "a", "user_id": user, "occurred_at": day + timedelta(days=3)},
        ],
    )
    counts = queries.activity.count_user_events_by_day(
        conn, user_id=user, since=date(2023, 2, 1), until=date(2023, 2, 4)
    )
    assert counts == [
        EventCountRow(name="a", day=date(2023, 2, 1), count=1),
        EventCountRow(name="b", day=date(2023, 2, 1), count=1),
        EventCountRow(name="a", day=date(2023, 2, 2), count=1),
    ]


def partitions(conn: Conn) -> list[str]:
    rows = conn.execute(
        "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
        " where i.inhparent = 'activity.analytics_events'::regclass order by 1"
    ).fetchall()
    return [name for (name,) in rows]


def test_migrate_made_this_month_and_the_next_partitions(conn: Conn) -> None:
    today = datetime.now(UTC).date()
    nxt = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    made = partitions(conn)
    assert "analytics_events_default" in made
    assert f"analytics_events_p{today:%Y_%m}" in made
    assert f"analytics_events_p{nxt:%Y_%m}" in made
    assert queries.activity.create_event_partitions(conn, first_month=today, months=2) == 0


def test_create_event_partitions_moves_rows_out_of_the_default(conn: Conn) -> None:
    name = unique_name("part")
    at = datetime(2019, 5, 20, tzinfo=UTC)
    queries.activity.record_events(conn, events=[{"name": name, "occurred_at": at}] * 3)
    where = "select tableoid::regclass::text from activity.analytics_events where name = %s"
    assert {r[0] for r in conn.execute(where, (name,))} == {"activity.analytics_events_default"}
    made = queries.activity.create_event_partitions(conn, first_month=date(2019, 4, 1), months=3)
    assert made == 3
    assert {
        "analytics_events_p2019_04",
        "analytics_events_p2019_05",
        "analytics_events_p2019_06",
    } <= (set(partitions(conn)))
    assert {r[0] for r in conn.execute(where, (name,))} == {"activity.analytics_events_p2019_05"}
    assert len(queries.activity.list_events_by_name(conn, name=name, limit=5)) == 3
    counts = queries.activity.count_events_by_day(
        conn, since=date(2019, 5, 20), until=date(2019, 5, 21), name=name
    )
    assert counts == [EventCountRow(name=name, day=date(2019, 5, 20), count=3)]  # unchanged
    with pytest.raises(errors.DatabaseError, match="months must be between"):
        queries.activity.create_event_partitions(conn, first_month=date(2019, 4, 1), months=-1)


def test_drop_event_partitions_is_retention_by_month(conn: Conn) -> None:
    name = unique_name("drop")
    queries.activity.create_event_partitions(conn, first_month=date(2018, 1, 1), months=3)
    at = [datetime(2018, m, 15, tzinfo=UTC) for m in (1, 2, 3)]
    queries.activity.record_events(conn, events=[{"name": name, "occurred_at": t} for t in at])
    # Ends on 2018-03-01: January and February go, March stays.
    dropped = queries.activity.drop_event_partitions(conn, before=datetime(2018, 3, 10, tzinfo=UTC))
    assert dropped >= 2
    assert not {"analytics_events_p2018_01", "analytics_events_p2018_02"} & set(partitions(conn))
    left = queries.activity.list_events_by_name(conn, name=name, limit=5)
    assert [e.occurred_at for e in left] == [at[2]]
    counts = queries.activity.count_events_by_day(
        conn, since=date(2018, 1, 1), until=date(2018, 4, 1), name=name
    )
    assert counts == [EventCountRow(name=name, day=date(2018, 3, 15), count=1)]


def test_the_activity_role_runs_the_partition_jobs(conn: Conn) -> None:
    conn.execute("set local role codezest_activity")
    assert (
        queries.activity.create_event_partitions(conn, first_month=date(2017, 1, 1), months=1) == 1
    )
    assert (
        queries.activity.drop_event_partitions(conn, before=datetime(2017, 2, 1, tzinfo=UTC)) >= 1
    )


def test_delete_events_before(conn: Conn) -> None:
    name = unique_name("old")
    cutoff = datetime(1971, 6, 1, tzinfo=UTC)
    queries.activity.record_events(
        conn,
        events=[
            {"name": name, "occurred_at": cutoff - timedelta(days=30)},
            {"name": name, "occurred_at": cutoff - timedelta(seconds=1)},
            {"name": name, "occurred_at": cutoff},
        ],
    )
    assert queries.activity.delete_events_before(conn, cutoff=cutoff) == 2
    left = queries.activity.list_events_by_name(conn, name=name, limit=5)
    assert [e.occurred_at for e in left] == [cutoff]
    assert queries.activity.delete_events_before(conn, cutoff=cutoff) == 0


def test_delete_events_before_works_in_batches(conn: Conn) -> None:
    name = unique_name("batch")
    cutoff = datetime(1972, 1, 1, tzinfo=UTC)
    events = [{"name": name, "occurred_at": cutoff - timedelta(minutes=i)} for i in range(1, 26)]
    queries.activity.record_events(conn, events=events)
    done = []
    while deleted := queries.activity.delete_events_before(conn, cutoff=cutoff, batch_size=10):
        done.append(deleted)
    assert done == [10, 10, 5]
    assert queries.activity.list_events_by_name(conn, name=name, limit=5) == []


# -- asyncio -------------------------------------------------------------------------------


def test_async_twins(configured: str) -> None:
    user_id, name = uuid.uuid4(), unique_name("aio")
    day = datetime(1965, 1, 2, 12, tzinfo=UTC)

    async def generated(n: int, bad_at: int = -1) -> AsyncIterator[dict[str, Any]]:
        for i in range(n):
            yield {"name": "" if i == bad_at else name, "user_id": user_id, "occurred_at": day}

    async def main() -> None:
        activity = aio.queries.activity
        async with aio.transaction() as conn:
            first = await activity.record_activity(
                conn,
                user_id=user_id,
                type="module.started",
                entity_type="module",
                entity_id=uuid.uuid4(),
                metadata={"from": "aio"},
            )
            second = await activity.record_activity(
                conn, user_id=user_id, type="module.completed", entity_type=None, entity_id=None
            )
            assert (first.metadata, second.metadata) == ({"from": "aio"}, {})
            page = await activity.list_user_activity(conn, user_id=user_id, limit=1)
            rest = await activity.list_user_activity(
                conn, user_id=user_id, limit=5, before=page[0].created_at, before_id=page[0].id
            )
            assert {a.id for a in page + rest} == {first.id, second.id}
            assert await activity.record_events(conn, events=generated(3)) == 3
            listed = [AnalyticsEventIn(name=name, occurred_at=day)]
            assert await activity.record_events(conn, events=listed) == 1
            events = await activity.list_events_by_name(conn, name=name, limit=10)
            assert [e.user_id for e in events].count(user_id) == 3
            assert len(events) == 4
            counts = await activity.count_events_by_day(
                conn, since=day.date(), until=day.date() + timedelta(days=1), name=name
            )
            assert counts == [EventCountRow(name=name, day=day.date(), count=4)]
        # Without a connection: borrowed from the asyncio pool and committed.
        assert await activity.record_events(events=generated(2)) == 2
        with pytest.raises(errors.ConstraintViolation) as caught:
            await activity.record_events(events=generated(5, bad_at=3))
        assert caught.value.constraint == "analytics_events_name_check"
        with pytest.raises(errors.ConstraintViolation, match=r"event 2 \(0-based\)"):
            await activity.record_events(events=[{"name": name}] * 2 + [{"name": 1}])
        async with aio.connection() as conn:
            assert len(await activity.list_events_by_name(conn, name=name, limit=10)) == 6
            assert await activity.delete_events_before(conn, cutoff=day + timedelta(1)) == 6
            await conn.rollback()

    run_async(main())


def test_record_events_writes_time_ordered_ids(conn: Any) -> None:
    """Bulk ids follow the UUIDv7 layout and ascend, so they append to the index."""
    from codezest_db.ingest import time_ordered_ids

    ids = list(itertools.islice(time_ordered_ids(), 1000))
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 1000
    conn.execute("delete from activity.analytics_events")
    events = [AnalyticsEventIn(name="ordered") for _ in range(50)]
    assert queries.activity.record_events(conn, events=events) == 50
    rows = conn.execute("select id from activity.analytics_events").fetchall()
    stored = sorted(row[0] for row in rows)
    assert all(i.version == 7 for i in stored)
    assert stored[-1].int - stored[0].int == 49  # one call: one run of ids
