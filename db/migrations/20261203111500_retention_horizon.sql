-- migrate:up
-- Retention no longer counts the per-user rollup down event by event. A batch
-- of delete_events_before made the delete trigger write one negative delta
-- per deleted event's (user, day, name) into activity.user_event_counts:
-- 66-103 ms for 1,000 old events on the scale dataset, against 1.5 ms for the
-- delete itself (docs/scaling.md). Instead, activity.event_retention keeps a
-- retention horizon, kept_from: delete_events_before advances it to its
-- cutoff in the statement that deletes, the triggers write no per-user delta
-- for an event that occurred before it, and count_user_events_by_day counts
-- nothing before it: the rollup for the whole UTC days from the horizon on,
-- the user's own events for the rest of the day the horizon falls in. The
-- rollup rows of days before the horizon are left unread until
-- drop_event_partitions drops their month (as it drops the events').
--
-- A table of its own, not a column of user_event_rollup: a retention batch
-- holds the horizon's row lock until it commits and its trigger then waits
-- for the rollup's advisory lock; roll_up_user_events holds that lock and
-- updates the rollup's row. Sharing a row, the two would deadlock.
create table activity.event_retention (
  id         uuid primary key default gen_random_uuid(),
  kept_from  timestamptz not null default '-infinity',
  created_at timestamptz not null default now()
);
create unique index event_retention_one_row on activity.event_retention ((true));
insert into activity.event_retention default values;
comment on table activity.event_retention is 'One row: the retention horizon of analytics_events (delete_events_before advances it).';
comment on column activity.event_retention.kept_from is 'Events that occurred before it are deleted or being deleted; the per-user rollup does not count them.';

create or replace function activity.count_inserted_events() returns trigger
language plpgsql as $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, count(*)
    from new_events
   group by 1, 2;
  perform pg_advisory_xact_lock_shared(activity.user_event_rollup_lock());
  insert into activity.user_event_counts (user_id, day, name, count)
  select e.user_id, (e.occurred_at at time zone 'UTC')::date, e.name, count(*)
    from new_events e, activity.user_event_rollup r, activity.event_retention k
   where e.user_id is not null
     and e.occurred_at < r.rolled_before
     and e.occurred_at >= k.kept_from
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
  select e.user_id, (e.occurred_at at time zone 'UTC')::date, e.name, -count(*)
    from old_events e, activity.user_event_rollup r, activity.event_retention k
   where e.user_id is not null
     and e.occurred_at < r.rolled_before
     and e.occurred_at >= k.kept_from
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
    from (select e.user_id, (e.occurred_at at time zone 'UTC')::date as day, e.name, -1 as n
            from old_events e, activity.user_event_rollup r, activity.event_retention k
           where e.occurred_at < r.rolled_before
             and e.occurred_at >= k.kept_from
          union all
          select e.user_id, (e.occurred_at at time zone 'UTC')::date, e.name, 1
            from new_events e, activity.user_event_rollup r, activity.event_retention k
           where e.occurred_at < r.rolled_before
             and e.occurred_at >= k.kept_from) as changes
   where user_id is not null
   group by 1, 2, 3
  having sum(n) <> 0;
  return null;
end
$$;

-- migrate:down
-- The versions of 20261202174036 (a per-user delta for every deleted event).
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

drop table activity.event_retention;
