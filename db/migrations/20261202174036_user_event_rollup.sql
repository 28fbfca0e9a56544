-- migrate:up
-- count_user_events_by_day reads a per-user rollup instead of aggregating the
-- user's events (the heavy user's 500,000 for 90 days: 110-127 ms), and
-- compact_event_counts folds a bounded batch of deltas per statement.
--
-- activity.user_event_counts holds, per user, UTC day and name, the events
-- that occurred before activity.user_event_rollup.rolled_before: rows that
-- are folded (one per key, written by roll_up_user_events) and deltas (added
-- by the event triggers when events before that time arrive late, are
-- deleted or change). Events at or after rolled_before are counted from
-- analytics_events itself. roll_up_user_events advances rolled_before by one
-- bounded batch of events per call. It is partitioned by month like
-- analytics_events, so that drop_event_partitions drops the rollup's month
-- with the events'.
--
-- The triggers and roll_up_user_events agree on rolled_before through an
-- advisory lock: an ingesting transaction holds it shared from its trigger
-- to its commit, the roll-up exclusive; so every event is either below the
-- time a trigger read (and counted as a delta), or committed before a
-- roll-up took its snapshot, or above the time that roll-up wrote.

create table activity.user_event_rollup (
  id            uuid primary key default gen_random_uuid(),
  rolled_before timestamptz not null default '-infinity',
  created_at    timestamptz not null default now()
);
create unique index user_event_rollup_one_row on activity.user_event_rollup ((true));
insert into activity.user_event_rollup default values;
comment on table activity.user_event_rollup is 'One row: activity.user_event_counts counts every event that occurred before rolled_before (roll_up_user_events advances it).';

create table activity.user_event_counts (
  id         uuid not null default gen_random_uuid(),
  user_id    uuid not null,
  day        date not null,
  name       text not null,
  count      bigint not null,
  folded     boolean not null default false,
  created_at timestamptz not null default now(),
  constraint user_event_counts_pkey primary key (id, day)
) partition by range (day);
create unique index user_event_counts_folded_key on activity.user_event_counts (user_id, day, name) include (count) where folded;
create index user_event_counts_deltas_idx on activity.user_event_counts (user_id, day, name) where not folded;
comment on table activity.user_event_counts is 'Per-user rollup of analytics_events before user_event_rollup.rolled_before: events per user, UTC day and name, as one folded row per key plus deltas; summed by count_user_events_by_day. Partitioned by month of day like analytics_events.';
comment on column activity.user_event_counts.folded is 'true: the one row per key that roll_up_user_events writes and folds deltas into; false: a delta written by a trigger.';
create table activity.user_event_counts_default partition of activity.user_event_counts default;

-- One month partition of the rollup per month partition of the events.
do $$
declare
  part record;
begin
  for part in
    select c.relname, b[1]::timestamptz as lo, b[2]::timestamptz as hi
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
     cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                     'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') as b
     where i.inhparent = 'activity.analytics_events'::regclass
       and b is not null  -- not the default partition
  loop
    execute format('create table activity.%I partition of activity.user_event_counts for values from (%L) to (%L)',
                   replace(part.relname, 'analytics_events_', 'user_event_counts_'),
                   (part.lo at time zone 'UTC')::date, (part.hi at time zone 'UTC')::date);
  end loop;
end
$$;

-- compact_event_counts folds deltas into one folded row per (day, name).
alter table activity.event_counts add column folded boolean not null default false;
comment on column activity.event_counts.folded is 'true: a row compact_event_counts wrote (the sum of the deltas it folded); false: a delta written by a trigger.';

-- The key of the advisory lock the triggers share and roll_up_user_events takes alone.
create function activity.user_event_rollup_lock() returns bigint
language sql immutable as $$ select 7232021174036 $$;

create or replace function activity.count_inserted_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, count(*)
    from new_events
   group by 1, 2;
  perform pg_advisory_xact_lock_shared(activity.user_event_rollup_lock());
  insert into activity.user_event_counts (user_id, day, name, count)
  select user_id, (occurred_at at time zone 'UTC')::date, name, count(*)
    from new_events
   where user_id is not null
     and occurred_at < (select rolled_before from activity.user_event_rollup)
   group by 1, 2, 3;
  return null;
end
$$;

create or replace function activity.count_deleted_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, -count(*)
    from old_events
   group by 1, 2;
  perform pg_advisory_xact_lock_shared(activity.user_event_rollup_lock());
  insert into activity.user_event_counts (user_id, day, name, count)
  select user_id, (occurred_at at time zone 'UTC')::date, name, -count(*)
    from old_events
   where user_id is not null
     and occurred_at < (select rolled_before from activity.user_event_rollup)
   group by 1, 2, 3;
  return null;
end
$$;

create or replace function activity.count_updated_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select day, name, sum(n)
    from (select (occurred_at at time zone 'UTC')::date as day, name, -1 as n from old_events
          union all
          select (occurred_at at time zone 'UTC')::date, name, 1 from new_events) as changes
   group by 1, 2
  having sum(n) <> 0;
  perform pg_advisory_xact_lock_shared(activity.user_event_rollup_lock());
  insert into activity.user_event_counts (user_id, day, name, count)
  select user_id, day, name, sum(n)
    from (select user_id, (occurred_at at time zone 'UTC')::date as day, name, -1 as n
            from old_events
           where occurred_at < (select rolled_before from activity.user_event_rollup)
          union all
          select user_id, (occurred_at at time zone 'UTC')::date, name, 1
            from new_events
           where occurred_at < (select rolled_before from activity.user_event_rollup)) as changes
   where user_id is not null
   group by 1, 2, 3
  having sum(n) <> 0;
  return null;
end
$$;

-- Job: fold up to batch_size deltas (and the rest of the last key's) into
-- the folded rows, then add the next batch_size events at or after
-- rolled_before (and the rest of those at the last one's time), up to
-- before. Returns how many deltas and events it took; 0 when there were none,
-- or when ingesting transactions held the lock for half a second (call again later).
create function activity.roll_up_user_events(before timestamptz, batch_size integer) returns bigint
language plpgsql set search_path = pg_catalog, pg_temp set plan_cache_mode = force_custom_plan as $$
declare
  lo timestamptz;
  hi timestamptz;
  deltas bigint;
  events bigint;
begin
  if batch_size is null or batch_size < 1 or batch_size > 100000 then
    raise exception 'batch_size must be between 1 and 100000, got %', batch_size using errcode = '22023';
  end if;
  if before is null then
    raise exception 'before must not be null' using errcode = '22004';
  end if;
  for attempt in 1 .. 50 loop
    exit when pg_try_advisory_xact_lock(activity.user_event_rollup_lock());
    if attempt = 50 then
      return 0;
    end if;
    perform pg_sleep(0.01);
  end loop;
  -- Each statement below takes its snapshot after the lock: every transaction
  -- whose trigger read the old rolled_before has committed by now.
  with last as (
    select user_id, day, name
      from activity.user_event_counts
     where not folded
     order by user_id, day, name
    offset batch_size - 1
     limit 1
  ), gone as (
    delete from activity.user_event_counts c
     where not c.folded
       and (not exists (select from last) or (c.user_id, c.day, c.name) <= (select l.user_id, l.day, l.name from last l))
    returning c.user_id, c.day, c.name, c.count
  ), summed as (
    insert into activity.user_event_counts as t (user_id, day, name, count, folded)
    select user_id, day, name, sum(count), true
      from gone
     group by 1, 2, 3
        on conflict (user_id, day, name) where folded do update
       set count = t.count + excluded.count
  )
  select count(*) into deltas from gone;

  select rolled_before into lo from activity.user_event_rollup for update;
  select occurred_at + interval '1 microsecond' into hi
    from activity.analytics_events
   where occurred_at >= lo
     and occurred_at < before
   order by occurred_at
  offset batch_size - 1
   limit 1;
  hi := least(coalesce(hi, before), before);
  if hi <= lo then
    return deltas;
  end if;
  with batch as (
    select user_id, (occurred_at at time zone 'UTC')::date as day, name, count(*) as n
      from activity.analytics_events
     where occurred_at >= lo
       and occurred_at < hi
     group by 1, 2, 3
  ), added as (
    insert into activity.user_event_counts as t (user_id, day, name, count, folded)
    select user_id, day, name, n, true
      from batch
     where user_id is not null
        on conflict (user_id, day, name) where folded do update
       set count = t.count + excluded.count
  )
  select coalesce(sum(n), 0) into events from batch;
  update activity.user_event_rollup set rolled_before = hi;
  return deltas + events;
end
$$;
comment on function activity.roll_up_user_events(timestamptz, integer) is 'Job: fold a batch of user_event_counts deltas and add the next batch of events before before to the per-user rollup; returns how many deltas and events it took.';

-- Partition maintenance keeps the rollup's months with the events', and takes
-- its blocking locks through codezest.lock_tables as the online helpers'
-- versions do (20261202171421): moving a month's rows out of a default
-- partition runs under locks no service waits for; the attach (ACCESS
-- EXCLUSIVE on both default partitions, in one request) and the drop (ACCESS
-- EXCLUSIVE on both parents and the months, in one request) are asked for
-- briefly and retried, then held only for the attach or drop itself.
create or replace function activity.create_event_partitions(first_month date, months integer) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  lo timestamptz;
  hi timestamptz;
  part text;
  rollup text;
  todo text[] := '{}';
  los timestamptz[] := '{}';
  his timestamptz[] := '{}';
  rtodo text[] := '{}';
  rlos date[] := '{}';
  rhis date[] := '{}';
begin
  if months is null or months < 0 or months > 120 then
    raise exception 'months must be between 0 and 120, got %', months using errcode = '22023';
  end if;
  for i in 0 .. months - 1 loop
    lo := (date_trunc('month', first_month) + make_interval(months => i))::timestamp at time zone 'UTC';
    hi := (date_trunc('month', first_month) + make_interval(months => i + 1))::timestamp at time zone 'UTC';
    part := 'analytics_events_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
    rollup := 'user_event_counts_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
    if to_regclass('activity.' || rollup) is null then
      execute format('create table activity.%I (like activity.user_event_counts including defaults including constraints)', rollup);
      -- The month's rollup rows leave the default partition under ROW EXCLUSIVE: services go on.
      execute format(
        'with moved as (delete from activity.user_event_counts_default where day >= $1 and day < $2 returning *)'
        ' insert into activity.%I select * from moved', rollup)
        using (lo at time zone 'UTC')::date, (hi at time zone 'UTC')::date;
      rtodo := rtodo || rollup;
      rlos := rlos || (lo at time zone 'UTC')::date;
      rhis := rhis || (hi at time zone 'UTC')::date;
    end if;
    continue when to_regclass('activity.' || part) is not null;
    execute format('create table activity.%I (like activity.analytics_events including defaults including constraints)', part);
    -- The month's rows leave the default partition under ROW EXCLUSIVE: services go on.
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', part) using lo, hi;
    todo := todo || part;
    los := los || lo;
    his := his || hi;
  end loop;
  if cardinality(todo) + cardinality(rtodo) = 0 then
    return 0;
  end if;
  -- Attaching scans a default partition under ACCESS EXCLUSIVE (readers of the
  -- parent wait): ask for it briefly, retrying; then move the rows that arrived
  -- meanwhile and attach.
  perform codezest.lock_tables(array['activity.analytics_events'::regclass,
                                     'activity.user_event_counts'::regclass], 'share update exclusive');
  perform codezest.lock_tables(array['activity.analytics_events_default'::regclass,
                                     'activity.user_event_counts_default'::regclass], 'access exclusive');
  for i in 1 .. cardinality(rtodo) loop
    execute format(
      'with moved as (delete from activity.user_event_counts_default where day >= $1 and day < $2 returning *)'
      ' insert into activity.%I select * from moved', rtodo[i]) using rlos[i], rhis[i];
    execute format('alter table activity.user_event_counts attach partition activity.%I for values from (%L) to (%L)',
                   rtodo[i], rlos[i], rhis[i]);
  end loop;
  for i in 1 .. cardinality(todo) loop
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', todo[i]) using los[i], his[i];
    execute format('alter table activity.analytics_events attach partition activity.%I for values from (%L) to (%L)',
                   todo[i], los[i], his[i]);
  end loop;
  return cardinality(todo);
end
$$;

create or replace function activity.drop_event_partitions(before timestamptz) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  rels regclass[];
  names text[];
  los timestamptz[];
  his timestamptz[];
  rollups regclass[] := '{}';
  found regclass;
begin
  -- The monthly partitions that end at or before before; never the default one
  -- (no bounds, so upper_bound is null).
  select coalesce(array_agg(rel order by lower_bound), '{}'), array_agg(relname::text order by lower_bound),
         array_agg(lower_bound order by lower_bound), array_agg(upper_bound order by lower_bound)
    into rels, names, los, his
    from (select c.oid::regclass as rel, c.relname, b[1]::timestamptz as lower_bound, b[2]::timestamptz as upper_bound
            from pg_inherits i
            join pg_class c on c.oid = i.inhrelid
           cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                           'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') as b
           where i.inhparent = 'activity.analytics_events'::regclass) as parts
   where upper_bound <= before;
  if cardinality(rels) = 0 then
    return 0;
  end if;
  for i in 1 .. cardinality(names) loop
    found := to_regclass('activity.' || replace(names[i], 'analytics_events_', 'user_event_counts_'));
    if found is not null then
      rollups := rollups || found;
    end if;
  end loop;
  -- Dropping a partition takes ACCESS EXCLUSIVE on its parent: every reader and
  -- writer of the events (and of the rollup) waits for it, so ask briefly, for
  -- all of them in one request, and retry (55P03 at the end).
  perform codezest.lock_tables(array['activity.analytics_events'::regclass] || rels
                               || case when cardinality(rollups) > 0
                                       then array['activity.user_event_counts'::regclass] || rollups
                                       else '{}'::regclass[] end,
                               'access exclusive');
  for i in 1 .. cardinality(rels) loop
    -- The rollups count stored events: forget the dropped days' counts too.
    delete from activity.event_counts
     where day >= (los[i] at time zone 'UTC')::date
       and day < (his[i] at time zone 'UTC')::date;
    execute format('drop table %s', rels[i]);
  end loop;
  foreach found in array rollups loop
    execute format('drop table %s', found);
  end loop;
  return cardinality(rels);
end
$$;


-- migrate:down

-- The online helpers' versions (20261202171421).
create or replace function activity.create_event_partitions(first_month date, months integer) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  lo timestamptz;
  hi timestamptz;
  part text;
  todo text[] := '{}';
  los timestamptz[] := '{}';
  his timestamptz[] := '{}';
begin
  if months is null or months < 0 or months > 120 then
    raise exception 'months must be between 0 and 120, got %', months using errcode = '22023';
  end if;
  for i in 0 .. months - 1 loop
    lo := (date_trunc('month', first_month) + make_interval(months => i))::timestamp at time zone 'UTC';
    hi := (date_trunc('month', first_month) + make_interval(months => i + 1))::timestamp at time zone 'UTC';
    part := 'analytics_events_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
    continue when to_regclass('activity.' || part) is not null;
    execute format('create table activity.%I (like activity.analytics_events including defaults including constraints)', part);
    -- The month's rows leave the default partition under ROW EXCLUSIVE: services go on.
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', part) using lo, hi;
    todo := todo || part;
    los := los || lo;
    his := his || hi;
  end loop;
  if cardinality(todo) = 0 then
    return 0;
  end if;
  -- Attaching scans the default partition under ACCESS EXCLUSIVE (readers of
  -- the parent wait): ask for it briefly, retrying; then move the rows that
  -- arrived meanwhile and attach.
  perform codezest.lock_tables(array['activity.analytics_events'::regclass], 'share update exclusive');
  perform codezest.lock_tables(array['activity.analytics_events_default'::regclass], 'access exclusive');
  for i in 1 .. cardinality(todo) loop
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', todo[i]) using los[i], his[i];
    execute format('alter table activity.analytics_events attach partition activity.%I for values from (%L) to (%L)',
                   todo[i], los[i], his[i]);
  end loop;
  return cardinality(todo);
end
$$;

create or replace function activity.drop_event_partitions(before timestamptz) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  rels regclass[];
  los timestamptz[];
  his timestamptz[];
begin
  select coalesce(array_agg(rel order by lower_bound), '{}'), array_agg(lower_bound order by lower_bound),
         array_agg(upper_bound order by lower_bound)
    into rels, los, his
    from (select c.oid::regclass as rel, b[1]::timestamptz as lower_bound, b[2]::timestamptz as upper_bound
            from pg_inherits i
            join pg_class c on c.oid = i.inhrelid
           cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                           'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') as b
           where i.inhparent = 'activity.analytics_events'::regclass) as parts
   where upper_bound <= before;
  if cardinality(rels) = 0 then
    return 0;
  end if;
  -- Dropping a partition takes ACCESS EXCLUSIVE on the parent: every reader and
  -- writer of the events waits for it, so ask briefly and retry (55P03 at the end).
  perform codezest.lock_tables(array['activity.analytics_events'::regclass] || rels, 'access exclusive');
  for i in 1 .. cardinality(rels) loop
    -- The rollup counts stored events: forget the dropped days' counts too.
    delete from activity.event_counts
     where day >= (los[i] at time zone 'UTC')::date
       and day < (his[i] at time zone 'UTC')::date;
    execute format('drop table %s', rels[i]);
  end loop;
  return cardinality(rels);
end
$$;

create or replace function activity.count_inserted_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, count(*)
    from new_events
   group by 1, 2;
  return null;
end
$$;

create or replace function activity.count_deleted_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, -count(*)
    from old_events
   group by 1, 2;
  return null;
end
$$;

create or replace function activity.count_updated_events() returns trigger
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

drop function activity.roll_up_user_events(timestamptz, integer);
drop function activity.user_event_rollup_lock();
alter table activity.event_counts drop column folded;
drop table activity.user_event_counts;
drop table activity.user_event_rollup;
