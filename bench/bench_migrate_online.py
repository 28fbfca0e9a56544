"""Migrations of each kind on the scale dataset while the running release's queries go on.

    python bench/bench_migrate_online.py --url URL [--threads 3] [--lock-timeout 3] [--json]

URL is a copy of the scale dataset (``bench/scale_dataset.py``, then
``createdb -T``); the bench changes it: drop it afterwards. First it applies
this package's pending migrations (the ``codezest`` helpers), then, one
``codezest-db migrate`` run (``migrate.up``, dbmate underneath, with the
runner's lock timeout and retries) per step, the fixture migrations below:
a column added, an index built concurrently, a constraint added ``not valid``
then validated, a backfill in batches, and ``activity.analytics_events``
(10M rows at scale 1) moved online into a new partitioned table with another
primary key (``codezest.start_table_move`` / ``copy_table_rows`` /
``finish_table_move``, then the old table dropped).

All along, --threads writers and as many readers call codezest_db queries
(record_events, record_activity, update_user_name; get_user_by_id,
list_user_activity, list_events_by_name, count_user_events_by_day), each on
its own connection with no lock timeout of its own, a call every 10 ms. For
each step: the calls that overlapped it, how many failed (goal 0), the
longest call (goal under the lock timeout; a quiet baseline first gives the
calls' own longest time), and the step's own time.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from codezest_db import migrate, queries

# The fixture migrations: (step, options of the -- migrate:up line, SQL).
STEPS: list[tuple[str, str, str]] = [
    ("add column", "", "alter table auth.users add column nickname text;"),
    (
        "add index concurrently",
        "transaction:false",
        "create index concurrently if not exists user_activities_type_created_at_idx"
        " on activity.user_activities (type, created_at);",
    ),
    (
        "add constraint not valid",
        "",
        "alter table auth.users add constraint users_nickname_length"
        " check (length(nickname) <= 200) not valid;",
    ),
    (
        "validate constraint",
        "",
        "alter table auth.users validate constraint users_nickname_length;",
    ),
    (
        "backfill in batches",
        "transaction:false statement_timeout:2h",
        """
do $$
declare
  last uuid := '00000000-0000-0000-0000-000000000000';
  n integer;
begin
  loop
    with batch as (
      select id from auth.users where id > last order by id limit 5000
    ), changed as (
      update auth.users u set nickname = split_part(u.email, '@', 1)
        from batch where u.id = batch.id and u.nickname is null
    )
    select count(*), (select id from batch order by id desc limit 1) into n, last from batch;
    commit;
    exit when n < 5000;
  end loop;
end
$$;
""",
    ),
    (
        "move: new table + trigger",
        "",
        """
-- The new structure: primary key (occurred_at, id) instead of (id, occurred_at),
-- the same indexes and the same monthly partitions.
create table activity.analytics_events_new (
  like activity.analytics_events including defaults including constraints,
  constraint analytics_events_new_pkey primary key (occurred_at, id)
) partition by range (occurred_at);
create index analytics_events_new_name_occurred_at_id_idx
  on activity.analytics_events_new (name, occurred_at, id);
create index analytics_events_new_user_id_occurred_at_idx
  on activity.analytics_events_new (user_id, occurred_at) include (name) where user_id is not null;
create index analytics_events_new_occurred_at_idx on activity.analytics_events_new (occurred_at);
do $$
declare
  p record;
begin
  for p in select c.relname, pg_get_expr(c.relpartbound, c.oid) as bound
             from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = 'activity.analytics_events'::regclass
  loop
    execute format('create table activity.%I partition of activity.analytics_events_new %s',
                   replace(p.relname, 'analytics_events_', 'analytics_events_new_'), p.bound);
  end loop;
end
$$;
select codezest.start_table_move('activity.analytics_events', 'activity.analytics_events_new');
""",
    ),
    (
        "move: copy rows",
        "transaction:false statement_timeout:2h",
        "call codezest.copy_table_rows('activity.analytics_events', batch_size => 10000);",
    ),
    (
        "move: swap",
        "",
        """
select codezest.finish_table_move('activity.analytics_events');
-- Under the same lock: the partitions and indexes take the old names, the
-- rollup triggers, statistics and grants move to the new table.
do $$
declare
  p record;
begin
  for p in select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = 'activity.analytics_events_old'::regclass
  loop
    execute format('alter table activity.%I rename to %I', p.relname,
                   replace(p.relname, 'analytics_events_', 'analytics_events_old_'));
  end loop;
  for p in select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid
            where i.inhparent = 'activity.analytics_events'::regclass
  loop
    execute format('alter table activity.%I rename to %I', p.relname,
                   replace(p.relname, 'analytics_events_new_', 'analytics_events_'));
  end loop;
end
$$;
drop trigger analytics_events_count_insert on activity.analytics_events_old;
drop trigger analytics_events_count_delete on activity.analytics_events_old;
drop trigger analytics_events_count_update on activity.analytics_events_old;
create trigger analytics_events_count_insert after insert on activity.analytics_events
  referencing new table as new_events
  for each statement execute function activity.count_inserted_events();
create trigger analytics_events_count_delete after delete on activity.analytics_events
  referencing old table as old_events
  for each statement execute function activity.count_deleted_events();
create trigger analytics_events_count_update after update on activity.analytics_events
  referencing old table as old_events new table as new_events
  for each statement execute function activity.count_updated_events();
grant select, insert, update, delete on activity.analytics_events, activity.analytics_events_default
  to codezest_activity;
""",
    ),
    ("move: drop old table", "", "drop table activity.analytics_events_old;"),
]


@dataclass(frozen=True)
class Call:
    name: str
    start: float
    end: float
    error: str = ""


class Service(threading.Thread):
    """One connection calling the running release's queries, one call every 10 ms."""

    def __init__(self, url: str, writer: bool, users: list[uuid.UUID], names: list[str]) -> None:
        super().__init__(daemon=True)
        self.url, self.writer, self.users, self.names = url, writer, users, names
        self.calls: list[Call] = []
        self.stop = threading.Event()
        self.chooser = random.Random()

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True, application_name="bench-service") as conn:
            conn.execute("set statement_timeout = '300s'")  # a bound for the bench, not a limit
            ops = self.writes() if self.writer else self.reads()
            while not self.stop.is_set():
                name, call = self.chooser.choice(ops)
                start = time.perf_counter()
                error = ""
                try:
                    call(conn)
                except Exception as exc:  # counted: a failed call is the figure
                    error = type(exc).__name__
                    if conn.closed:
                        break
                self.calls.append(Call(name, start, time.perf_counter(), error))
                self.stop.wait(0.01)

    def user(self) -> uuid.UUID:
        return self.chooser.choice(self.users)

    def writes(self) -> list[tuple[str, Any]]:
        def events(conn: psycopg.Connection[Any]) -> None:
            batch = [{"name": self.chooser.choice(self.names), "user_id": self.user()}] * 5
            queries.activity.record_events(conn, events=batch)

        return [
            ("record_events", events),
            (
                "record_activity",
                lambda c: queries.activity.record_activity(
                    c, user_id=self.user(), type="bench", entity_type=None, entity_id=None
                ),
            ),
            (
                "update_user_name",
                lambda c: queries.auth.update_user_name(c, id=self.user(), name="Bench"),
            ),
        ]

    def reads(self) -> list[tuple[str, Any]]:
        today = datetime.now(UTC).date()
        return [
            ("get_user_by_id", lambda c: queries.auth.get_user_by_id(c, id=self.user())),
            (
                "list_user_activity",
                lambda c: queries.activity.list_user_activity(c, user_id=self.user(), limit=20),
            ),
            (
                "list_events_by_name",
                lambda c: queries.activity.list_events_by_name(
                    c, name=self.chooser.choice(self.names), limit=20
                ),
            ),
            (
                "count_user_events_by_day",
                lambda c: queries.activity.count_user_events_by_day(
                    c, user_id=self.user(), since=today - timedelta(days=30), until=today
                ),
            ),
        ]


def window(services: list[Service], start: float, end: float) -> dict[str, Any]:
    """The calls that overlapped [start, end]: count, failures, the longest."""
    calls = [c for s in services for c in list(s.calls) if c.start < end and c.end > start]
    longest = max(calls, key=lambda c: c.end - c.start, default=None)
    return {
        "calls": len(calls),
        "failed": sum(1 for c in calls if c.error),
        "errors": sorted({c.error for c in calls if c.error}),
        "longest_ms": round((longest.end - longest.start) * 1000, 1) if longest else 0.0,
        "longest_call": longest.name if longest else "",
        "median_ms": round(statistics.median(c.end - c.start for c in calls) * 1000, 2)
        if calls
        else 0.0,
    }


def apply(url: str, version: int, step: str, options: str, text: str, timeouts: Any) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{version}_{step.replace(' ', '_').replace(':', '')}.sql"
        path.write_text(f"-- migrate:up {options}\n{text}\n-- migrate:down\n")
        return migrate.up(url, migrations=Path(folder), timeouts=timeouts, log=print)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a copy of the scale dataset; it is changed")
    parser.add_argument("--threads", type=int, default=3, help="writers, and as many readers")
    parser.add_argument("--lock-timeout", type=float, default=3.0)
    parser.add_argument("--baseline", type=float, default=10.0, help="seconds of quiet load first")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    timeouts = migrate.Timeouts.from_env(lock_timeout=args.lock_timeout)
    migrate.up(args.url)  # this package's own pending migrations: the codezest helpers
    with psycopg.connect(args.url) as conn:
        users = [r[0] for r in conn.execute("select id from auth.users tablesample system (1)")]
        names = [r[0] for r in conn.execute("select distinct name from activity.event_counts")]
        (events,) = conn.execute("select count(*) from activity.analytics_events").fetchone() or (
            0,
        )
    print(f"{len(users)} users sampled, {len(names)} event names, {events} events", flush=True)
    services = [
        Service(args.url, writer, users, names)
        for writer in (True, False)
        for _ in range(args.threads)
    ]
    for service in services:
        service.start()
    results: list[dict[str, Any]] = []
    start = time.perf_counter()
    time.sleep(args.baseline)
    results.append(
        {
            "step": "(baseline: no migration)",
            "seconds": 0.0,
            **window(services, start, time.perf_counter()),
        }
    )
    version = 20300101000000
    for step, options, text in STEPS:
        version += 1
        start = time.perf_counter()
        apply(args.url, version, step, options, text, timeouts)
        end = time.perf_counter()
        time.sleep(0.5)  # calls that started during the step finish
        row = {"step": step, "seconds": round(end - start, 2), **window(services, start, end)}
        results.append(row)
        print(json.dumps(row), flush=True)
    for service in services:
        service.stop.set()
    for service in services:
        service.join(60)
    with psycopg.connect(args.url) as conn:
        (after,) = conn.execute("select count(*) from activity.analytics_events").fetchone() or (0,)
        (key,) = conn.execute(
            "select pg_get_constraintdef(oid) from pg_constraint"
            " where conrelid = 'activity.analytics_events'::regclass and contype = 'p'"
        ).fetchone() or ("",)
    written = sum(1 for s in services for c in s.calls if c.name == "record_events" and not c.error)
    lost = events + 5 * written - after
    print(
        f"events: {events} before, {written} record_events calls of 5, {after} after"
        f" ({lost} lost); primary key now {key}"
    )
    if args.json:
        print(json.dumps(results, indent=2))
    print(
        f"\nlock timeout {args.lock_timeout:g} s, {args.threads} writers + {args.threads} readers"
    )
    print(
        "| step | step's time (s) | calls during it | failed | longest call (ms) | which"
        " | median (ms) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | --- | ---: |")
    for r in results:
        print(
            f"| {r['step']} | {r['seconds']:.1f} | {r['calls']} | {r['failed']} "
            f"| {r['longest_ms']:.0f} | {r['longest_call']} | {r['median_ms']:.1f} |"
        )


if __name__ == "__main__":
    main()
