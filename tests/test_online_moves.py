"""Changes that do not hold a big table: the partition jobs give way, a table moves online.

Real sessions in threads stand for the services: a long report holding its
lock on the events, and a writer (plus a reader) every 50 ms, each under its
own lock timeout of 1 s, well above the jobs' 200 ms: only a job that queues
the services behind its lock request for longer can trip it. A control run
with a job timeout above the writer's shows that the writer would notice.
"""

from __future__ import annotations

import random
import textwrap
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors as pg_errors

from codezest_db import errors, migrate, queries

from .lock_holders import TEST_TIMEOUT, Reader, Service

SERVICE_LOCK_TIMEOUT = "1s"
JOB_LOCK_TIMEOUT = "200ms"


@pytest.fixture
def db(fresh_url: str) -> str:
    migrate.up(fresh_url)
    return fresh_url


def store_and_read(conn: psycopg.Connection[Any]) -> None:
    """What the service does every 50 ms: one event stored (this month), one page read."""
    conn.execute("insert into activity.analytics_events (name) values ('job')")
    queries.activity.list_events_by_name(conn, name="job", limit=5)


@pytest.fixture
def service(db: str) -> Iterator[Service]:
    running = Service(db, store_and_read, SERVICE_LOCK_TIMEOUT)
    running.start()
    yield running
    running.finish()


def job(
    url: str, lock_timeout: str = JOB_LOCK_TIMEOUT, attempts: int = 3
) -> psycopg.Connection[Any]:
    conn = psycopg.connect(url, autocommit=True, application_name="partition-job")
    conn.execute(f"set codezest.lock_timeout = '{lock_timeout}'")
    conn.execute(f"set codezest.lock_attempts = {attempts}")
    return conn


def partitions(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select inhrelid::regclass::text from pg_inherits"
            " where inhparent = 'activity.analytics_events'::regclass order by 1"
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_drop_event_partitions_gives_way_to_a_long_reader(db: str, service: Service) -> None:
    with job(db) as conn:
        assert queries.activity.create_event_partitions(
            conn, first_month=date(2025, 1, 1), months=1
        )
    assert "activity.analytics_events_p2025_01" in partitions(db)
    with Reader(db, "activity.analytics_events") as report, job(db) as conn:
        before = service.done
        start = time.perf_counter()
        with pytest.raises(errors.LockNotAvailable) as caught:
            queries.activity.drop_event_partitions(conn, before=datetime(2025, 2, 1, tzinfo=UTC))
        took = time.perf_counter() - start
        during = service.done - before
    message = str(caught.value)
    assert "after 3 attempts of 200ms" in message and f"pid {report.pid} (monthly-report" in message
    assert caught.value.sqlstate == "55P03"
    # 3 attempts of 200 ms and two pauses (0.1 s, 0.2 s): the job waited, the services did not.
    assert 0.9 < took < 10
    assert service.timed_out == 0
    assert during > 0
    assert "activity.analytics_events_p2025_01" in partitions(db)  # nothing changed
    # Once the reader is gone, the same call drops the partition.
    with job(db) as conn:
        dropped = queries.activity.drop_event_partitions(
            conn, before=datetime(2025, 2, 1, tzinfo=UTC)
        )
    assert dropped == 1
    assert "activity.analytics_events_p2025_01" not in partitions(db)
    assert service.timed_out == 0


def test_the_writers_would_notice_a_job_that_queues_them(db: str, service: Service) -> None:
    # The control: a job allowed to wait 2 s per attempt, over the services' 1 s.
    with job(db) as conn:
        queries.activity.create_event_partitions(conn, first_month=date(2025, 1, 1), months=1)
    with (
        Reader(db, "activity.analytics_events"),
        job(db, lock_timeout="2s", attempts=1) as conn,
        pytest.raises(errors.LockNotAvailable),
    ):
        queries.activity.drop_event_partitions(conn, before=datetime(2025, 2, 1, tzinfo=UTC))
    assert service.timed_out >= 1


def test_create_event_partitions_gives_way_then_moves_the_default_rows(
    db: str, service: Service
) -> None:
    stray = datetime(2024, 6, 15, tzinfo=UTC)
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute(
            "insert into activity.analytics_events (name, occurred_at) values ('old', %s)", (stray,)
        )
    with (
        Reader(db, "activity.analytics_events"),
        job(db) as conn,
        pytest.raises(errors.LockNotAvailable, match="analytics_events_default"),
    ):
        queries.activity.create_event_partitions(conn, first_month=date(2024, 6, 1), months=1)
    assert "activity.analytics_events_p2024_06" not in partitions(db)
    assert service.timed_out == 0
    with job(db) as conn:
        created = queries.activity.create_event_partitions(
            conn, first_month=date(2024, 6, 1), months=1
        )
        (home,) = conn.execute(
            "select tableoid::regclass::text from activity.analytics_events where name = 'old'"
        ).fetchone() or ("",)
    assert (created, home) == (1, "activity.analytics_events_p2024_06")


def test_lock_tables_refuses_bad_arguments(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        for call in (
            "select codezest.lock_tables(array['auth.users'::regclass], 'share please')",
            "select codezest.lock_tables(array['auth.users'::regclass], lock_timeout => '0')",
            "select codezest.lock_tables(array['auth.users'::regclass], attempts => 0)",
        ):
            with pytest.raises(pg_errors.InvalidParameterValue):
                conn.execute(call)


# An online move of a table that services read and write all along.


def write(folder: Path, version: str, up: str, *, options: str = "") -> None:
    path = folder / f"{version}_step.sql"
    path.write_text(f"-- migrate:up {options}\n{textwrap.dedent(up)}\n-- migrate:down\n")


class Items(threading.Thread):
    """A service of app.items: an insert, an update, a delete every 20 ms; knows what it left."""

    def __init__(self, url: str, rows: dict[uuid.UUID, int]) -> None:
        super().__init__(daemon=True)
        self.url, self.rows = url, rows
        self.done = self.timed_out = 0
        self.other: list[BaseException] = []
        self.stop = threading.Event()

    def run(self) -> None:
        chooser = random.Random(7)
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute(f"set lock_timeout = '{SERVICE_LOCK_TIMEOUT}'")
                while not self.stop.is_set():
                    try:
                        self.step(conn, chooser)
                        self.done += 1
                    except pg_errors.LockNotAvailable:
                        self.timed_out += 1
                    self.stop.wait(0.02)
        except BaseException as exc:  # reported by the test
            self.other.append(exc)

    def step(self, conn: psycopg.Connection[Any], chooser: random.Random) -> None:
        new = uuid.uuid4()
        conn.execute("insert into app.items (id, n) values (%s, 0)", (new,))
        self.rows[new] = 0
        changed, gone = chooser.sample(sorted(self.rows), 2)
        value = chooser.randrange(1000)
        conn.execute("update app.items set n = %s where id = %s", (value, changed))
        self.rows[changed] = value
        conn.execute("delete from app.items where id = %s", (gone,))
        del self.rows[gone]


def test_a_table_moves_online_while_it_is_written(db: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    write(
        folder,
        "20270101000001",
        """
        create schema app;
        create table app.items (
          id uuid primary key, n int not null, created_at timestamptz not null default now());
        insert into app.items (id, n) select gen_random_uuid(), 1 from generate_series(1, 20000);
        """,
    )
    migrate.up(db, migrations=folder)
    with psycopg.connect(db) as conn:
        rows = {row[0]: row[1] for row in conn.execute("select id, n from app.items")}
    # The new structure: n becomes a bigint with a check, and a column is added.
    write(
        folder,
        "20270101000002",
        """
        create table app.items_new (
          id uuid primary key, n bigint not null check (n >= 0), note text not null default '',
          created_at timestamptz not null default now());
        select codezest.start_table_move('app.items', 'app.items_new');
        """,
    )
    write(
        folder,
        "20270101000003",
        "call codezest.copy_table_rows('app.items', batch_size => 500, pause => '20ms');",
        options="transaction:false",
    )
    write(
        folder,
        "20270101000004",
        """
        select codezest.finish_table_move('app.items');
        drop table app.items_old;
        """,
    )
    writer = Items(db, rows)
    writer.start()
    time.sleep(0.3)
    before = writer.done
    migrate.up(db, migrations=folder)
    during = writer.done - before
    time.sleep(0.3)
    writer.stop.set()
    writer.join(TEST_TIMEOUT)
    assert writer.other == []
    assert writer.timed_out == 0 and during > 10
    with psycopg.connect(db) as conn:
        moved = {row[0]: row[1] for row in conn.execute("select id, n from app.items")}
        (kind,) = conn.execute(
            "select format_type(atttypid, atttypmod) from pg_attribute"
            " where attrelid = 'app.items'::regclass and attname = 'n'"
        ).fetchone() or ("",)
        (copied, finished) = conn.execute(
            "select copied, finished_at is not null from codezest.table_moves"
        ).fetchone() or (0, False)
        triggers = conn.execute(
            "select tgname from pg_trigger where tgrelid = 'app.items'::regclass"
        ).fetchall()
    assert moved == rows  # every write before, during and after the move, none lost
    assert kind == "bigint" and finished and copied > 10000 and triggers == []


def test_finish_refuses_a_move_whose_rows_are_not_copied(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("create table public.t (id int primary key)")
        conn.execute("create table public.t_new (id int)")
        with pytest.raises(pg_errors.InvalidParameterValue, match="unique key"):
            conn.execute("select codezest.start_table_move('public.t', 'public.t_new')")
        conn.execute("alter table public.t_new add primary key (id)")
        conn.execute("select codezest.start_table_move('public.t', 'public.t_new')")
        with pytest.raises(pg_errors.ObjectNotInPrerequisiteState, match="not all copied"):
            conn.execute("select codezest.finish_table_move('public.t')")
        conn.execute("call codezest.copy_table_rows('public.t')")
        conn.execute("select codezest.finish_table_move('public.t')")
        assert conn.execute("select count(*) from public.t_old").fetchone() == (0,)


def test_a_copy_that_stopped_resumes_after_its_last_batch(db: str) -> None:
    with psycopg.connect(db, autocommit=True) as conn:
        conn.execute("create table public.t (id int primary key, v text)")
        conn.execute("insert into public.t select g, 'x' from generate_series(1, 5000) g")
        conn.execute("create table public.t_new (id bigint primary key, v text)")
        conn.execute("select codezest.start_table_move('public.t', 'public.t_new')")
        conn.execute("set statement_timeout = '300ms'")  # a migrate killed part way
        with pytest.raises(pg_errors.QueryCanceled):
            conn.execute("call codezest.copy_table_rows('public.t', 100, pause => '20ms')")
        conn.execute("set statement_timeout = 0")
        (partial,) = conn.execute("select count(*) from public.t_new").fetchone() or (0,)
        conn.execute("call codezest.copy_table_rows('public.t', 100)")
        (copied,) = conn.execute("select copied from codezest.table_moves").fetchone() or (0,)
        (rows,) = conn.execute("select count(*) from public.t_new").fetchone() or (0,)
    # The committed batches stayed; the second call went on from there, none copied twice.
    assert 0 < partial < 5000
    assert (rows, copied) == (5000, 5000)
