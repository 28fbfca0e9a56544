-- migrate:up

-- analytics_events becomes a table partitioned by month of occurred_at, so that
-- retention drops whole partitions and day ranges prune to the months they
-- touch. A partitioned table's primary key must contain the partition key:
-- the key is (id, occurred_at). Ids are still unique in practice (UUIDv7 from
-- record_events, gen_random_uuid() otherwise); the database no longer checks
-- id alone across months.

alter table activity.analytics_events rename to analytics_events_unpartitioned;
alter table activity.analytics_events_unpartitioned rename constraint analytics_events_pkey to analytics_events_unpartitioned_pkey;
-- PostgreSQL 18 names NOT NULL constraints after their table: name them after
-- the table's current name, so that the table created next gets the plain names
-- (a dump then reads the same on every server).
do $$
declare
  c record;
begin
  for c in
    select con.conname, a.attname
      from pg_constraint con
      join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
     where con.conrelid = 'activity.analytics_events_unpartitioned'::regclass and con.contype = 'n'
  loop
    execute format('alter table activity.analytics_events_unpartitioned rename constraint %I to %I',
                   c.conname, 'analytics_events_unpartitioned_' || c.attname || '_not_null');
  end loop;
end
$$;
drop index activity.analytics_events_name_occurred_at_idx;
drop index activity.analytics_events_user_id_occurred_at_idx;

create table activity.analytics_events (
  id          uuid not null default gen_random_uuid(),
  name        text not null,
  user_id     uuid,
  properties  jsonb not null default '{}',
  occurred_at timestamptz not null default now(),
  created_at  timestamptz not null default now(),
  constraint analytics_events_pkey primary key (id, occurred_at),
  constraint analytics_events_name_check check (name <> ''),
  constraint analytics_events_properties_check check (jsonb_typeof(properties) = 'object')
) partition by range (occurred_at);
-- Keyset pages of one event name (list_events_by_name): (occurred_at, id) < (before, before_id).
create index analytics_events_name_occurred_at_id_idx on activity.analytics_events (name, occurred_at, id);
-- A user's events (count_user_events_by_day): index-only with name included.
create index analytics_events_user_id_occurred_at_idx on activity.analytics_events (user_id, occurred_at) include (name) where user_id is not null;
-- Time ranges: delete_events_before finds its batch's bound by reading this
-- index in order, then deletes one range. Events arrive roughly in time order,
-- so inserts land at the right edge. (A BRIN index is far smaller but cannot
-- return rows in order: bench/bench_event_indexes.py measures both.)
create index analytics_events_occurred_at_idx on activity.analytics_events (occurred_at);
-- Per-day groups of (day, name): without these statistics PostgreSQL guesses
-- millions of groups where there are a few thousand, and sorts (on disk)
-- instead of hashing (count_user_events_by_day for a heavy user).
create statistics activity.analytics_events_day_name (ndistinct)
  on ((occurred_at at time zone 'UTC')::date), name from activity.analytics_events;
comment on table activity.analytics_events is 'Raw product analytics events, bulk-ingested with COPY. Append-only. Partitioned by month of occurred_at (analytics_events_pYYYY_MM, plus analytics_events_default for months without a partition); primary key (id, occurred_at) because a partitioned table''s key must hold its partition key.';
comment on column activity.analytics_events.name is 'Event name, e.g. page_view or quiz_started.';
comment on column activity.analytics_events.user_id is 'auth.users.id of the actor, null for anonymous events (no foreign key: another service''s schema).';
comment on column activity.analytics_events.properties is 'Event properties (JSON object).';
comment on column activity.analytics_events.occurred_at is 'When the event happened at the client; created_at is when it was stored. The partition key.';

create table activity.analytics_events_default partition of activity.analytics_events default;
comment on table activity.analytics_events_default is 'Events of months without their own partition; create_event_partitions moves them out.';

-- Per-day counts kept as append-only deltas by statement triggers: an insert
-- (COPY included) adds one row per (day, name) it touched, a delete subtracts.
-- Concurrent writers never update the same row, so they never wait on each
-- other; compact_event_counts folds the deltas of past days into one row each.
create table activity.event_counts (
  id         uuid primary key default gen_random_uuid(),
  day        date not null,
  name       text not null,
  count      bigint not null,
  created_at timestamptz not null default now()
);
create index event_counts_day_name_idx on activity.event_counts (day, name) include (count);
comment on table activity.event_counts is 'Rollup of analytics_events: events per UTC day and name, as deltas summed by count_events_by_day. Kept by triggers; dropping partitions (drop_event_partitions) removes their days.';
comment on column activity.event_counts.day is 'The UTC day of occurred_at.';
comment on column activity.event_counts.count is 'Events added (or, negative, deleted) for that day and name by one statement, or the sum after compaction.';

create function activity.count_inserted_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, count(*)
    from new_events
   group by 1, 2;
  return null;
end
$$;

create function activity.count_deleted_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, -count(*)
    from old_events
   group by 1, 2;
  return null;
end
$$;

create function activity.count_updated_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select day, name, sum(n)
    from (select (occurred_at at time zone 'UTC')::date as day, name, -1 as n from old_events
          union all
          select (occurred_at at time zone 'UTC')::date, name, 1 from new_events) as changes
   group by 1, 2
  having sum(n) <> 0;
  return null;
end
$$;

create trigger analytics_events_count_insert after insert on activity.analytics_events
  referencing new table as new_events for each statement execute function activity.count_inserted_events();
create trigger analytics_events_count_delete after delete on activity.analytics_events
  referencing old table as old_events for each statement execute function activity.count_deleted_events();
create trigger analytics_events_count_update after update on activity.analytics_events
  referencing old table as old_events new table as new_events for each statement execute function activity.count_updated_events();

-- Partition maintenance runs as the table's owner (security definer), so the
-- activity service's role can call it without owning DDL rights.
create function activity.create_event_partitions(first_month date, months integer) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  created integer := 0;
  lo timestamptz;
  hi timestamptz;
  part text;
begin
  if months is null or months < 0 or months > 120 then
    raise exception 'months must be between 0 and 120, got %', months using errcode = '22023';
  end if;
  for i in 0 .. months - 1 loop
    lo := (date_trunc('month', first_month) + make_interval(months => i))::timestamp at time zone 'UTC';
    hi := (date_trunc('month', first_month) + make_interval(months => i + 1))::timestamp at time zone 'UTC';
    part := 'analytics_events_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
    continue when to_regclass('activity.' || part) is not null;
    -- Rows of that month that landed in the default partition move to the new one.
    execute format('create table activity.%I (like activity.analytics_events including defaults including constraints)', part);
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', part) using lo, hi;
    execute format('alter table activity.analytics_events attach partition activity.%I for values from (%L) to (%L)',
                   part, lo, hi);
    created := created + 1;
  end loop;
  return created;
end
$$;
comment on function activity.create_event_partitions(date, integer) is 'Create the monthly partitions of analytics_events for months first_month .. first_month + months - 1 that do not exist yet (moving their rows out of the default partition); returns how many were created.';

create function activity.drop_event_partitions(before timestamptz) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  dropped integer := 0;
  part record;
begin
  for part in
    select c.oid::regclass as rel, b[1]::timestamptz as lower_bound, b[2]::timestamptz as upper_bound
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
     cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                     'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') as b
     where i.inhparent = 'activity.analytics_events'::regclass
     order by 2
  loop
    exit when part.upper_bound > before;
    -- The rollup counts stored events: forget the dropped days' counts too.
    delete from activity.event_counts
     where day >= (part.lower_bound at time zone 'UTC')::date
       and day < (part.upper_bound at time zone 'UTC')::date;
    execute format('drop table %s', part.rel);
    dropped := dropped + 1;
  end loop;
  return dropped;
end
$$;
comment on function activity.drop_event_partitions(timestamptz) is 'Retention: drop every monthly partition of analytics_events that ends at or before before; returns how many were dropped.';

revoke all on function activity.create_event_partitions(date, integer) from public;
revoke all on function activity.drop_event_partitions(timestamptz) from public;

-- Partitions for the rows already stored (up to ten years back), this month and the next.
do $$
declare
  first date := least(current_date, coalesce(
    (select min(occurred_at at time zone 'UTC')::date from activity.analytics_events_unpartitioned),
    current_date));
  months integer := (extract(year from current_date) - extract(year from first)) * 12
                    + extract(month from current_date) - extract(month from first) + 2;
begin
  perform activity.create_event_partitions(
    greatest(first, (date_trunc('month', current_date) - interval '118 months')::date), least(months, 120));
end
$$;
insert into activity.analytics_events (id, name, user_id, properties, occurred_at, created_at)
select id, name, user_id, properties, occurred_at, created_at
  from activity.analytics_events_unpartitioned;
drop table activity.analytics_events_unpartitioned;

grant select, insert, update, delete on activity.analytics_events, activity.analytics_events_default, activity.event_counts to codezest_activity;
grant execute on function activity.create_event_partitions(date, integer), activity.drop_event_partitions(timestamptz) to codezest_activity;

-- migrate:down

create table activity.analytics_events_unpartitioned (
  id          uuid primary key default gen_random_uuid(),
  name        text not null,
  user_id     uuid,
  properties  jsonb not null default '{}',
  occurred_at timestamptz not null default now(),
  created_at  timestamptz not null default now(),
  constraint analytics_events_unpartitioned_name_check check (name <> ''),
  constraint analytics_events_unpartitioned_properties_check check (jsonb_typeof(properties) = 'object')
);
insert into activity.analytics_events_unpartitioned (id, name, user_id, properties, occurred_at, created_at)
select id, name, user_id, properties, occurred_at, created_at
  from activity.analytics_events;
drop table activity.analytics_events;
drop table activity.event_counts;
drop function activity.create_event_partitions(date, integer);
drop function activity.drop_event_partitions(timestamptz);
drop function activity.count_inserted_events();
drop function activity.count_deleted_events();
drop function activity.count_updated_events();
alter table activity.analytics_events_unpartitioned rename to analytics_events;
alter table activity.analytics_events rename constraint analytics_events_unpartitioned_pkey to analytics_events_pkey;
alter table activity.analytics_events rename constraint analytics_events_unpartitioned_name_check to analytics_events_name_check;
alter table activity.analytics_events rename constraint analytics_events_unpartitioned_properties_check to analytics_events_properties_check;
-- PostgreSQL 18 names NOT NULL constraints after their table: name them after
-- the table's current name, so that the table created next gets the plain names
-- (a dump then reads the same on every server).
do $$
declare
  c record;
begin
  for c in
    select con.conname, a.attname
      from pg_constraint con
      join pg_attribute a on a.attrelid = con.conrelid and a.attnum = con.conkey[1]
     where con.conrelid = 'activity.analytics_events'::regclass and con.contype = 'n'
  loop
    execute format('alter table activity.analytics_events rename constraint %I to %I',
                   c.conname, 'analytics_events_' || c.attname || '_not_null');
  end loop;
end
$$;
create index analytics_events_name_occurred_at_idx on activity.analytics_events (name, occurred_at);
create index analytics_events_user_id_occurred_at_idx on activity.analytics_events (user_id, occurred_at desc) where user_id is not null;
comment on table activity.analytics_events is 'Raw product analytics events, bulk-ingested with COPY. Append-only.';
comment on column activity.analytics_events.name is 'Event name, e.g. page_view or quiz_started.';
comment on column activity.analytics_events.user_id is 'auth.users.id of the actor, null for anonymous events (no foreign key: another service''s schema).';
comment on column activity.analytics_events.properties is 'Event properties (JSON object).';
comment on column activity.analytics_events.occurred_at is 'When the event happened at the client; created_at is when it was stored.';
grant select, insert, update, delete on activity.analytics_events to codezest_activity;
