-- Activity: the per-user activity feed and raw analytics events.
-- record_events (bulk COPY ingest) is written in Python: codezest_db/ingest.py.

-- name: record_activity(user_id, type, entity_type, entity_id, metadata)^
-- record_class: UserActivity
-- Append an entry to a user's activity feed; metadata (a JSON object) defaults to {}.
-- optional: metadata
insert into activity.user_activities (user_id, type, entity_type, entity_id, metadata)
values (:user_id, :type, :entity_type, :entity_id, coalesce(:metadata::jsonb, '{}'))
returning id, user_id, type, entity_type, entity_id, metadata, created_at;

-- name: list_user_activity(user_id, limit, before, before_id)
-- record_class: UserActivity
-- A page of a user's feed, newest first (created_at desc, id desc).
-- before is exclusive: only entries created strictly before it. Entries made in
-- one transaction share created_at, so to page without skipping ties pass the
-- last row's created_at as before and its id as before_id: the next page then
-- starts right after that row. Any page costs the same: the bound is where
-- the index scan starts.
-- limit is required (the contract pins it) and may be at most 1000.
-- optional: before, before_id
select id, user_id, type, entity_type, entity_id, metadata, created_at
  from activity.user_activities
 where user_id = :user_id
   and (created_at, id) < (coalesce(:before::timestamptz, 'infinity'),
                           coalesce(:before_id::uuid, '00000000-0000-0000-0000-000000000000'))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: list_events_by_name(name, limit, before, before_id)
-- record_class: AnalyticsEvent
-- A page of the events of one name, most recent first (occurred_at desc, id desc).
-- before is exclusive on occurred_at; pass the last row's occurred_at and id as
-- before and before_id to continue after it without skipping equal timestamps.
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, before, before_id
select id, name, user_id, properties, occurred_at, created_at
  from activity.analytics_events
 where name = :name
   and (occurred_at, id) < (coalesce(:before::timestamptz, 'infinity'),
                            coalesce(:before_id::uuid, '00000000-0000-0000-0000-000000000000'))
 order by occurred_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: count_events_by_day(since, until, name)
-- record_class: EventCountRow
-- How many events of each name occurred per UTC day, for the days since ..
-- until - 1 (dates), ordered by day, then name; name narrows the count to one
-- event name. Read from the activity.event_counts rollup (kept by triggers as
-- events are stored or deleted), never from the events themselves.
-- optional: name
-- plan: custom
-- not null: day, count
select name, day, sum(count)::bigint as count
  from activity.event_counts
 where day >= :since::date
   and day < :until::date
   and (:name::text is null or name = :name)
 group by day, name
having sum(count) <> 0
 order by day, name;

-- name: count_user_events_by_day(user_id, since, until)
-- record_class: EventCountRow
-- How many events of each name one user had per UTC day, for the days since ..
-- until - 1 (dates), ordered by day, then name. Read from the per-user rollup
-- activity.user_event_counts for the events roll_up_user_events has taken
-- (those before its rolled_before), and from the user's events for the rest.
-- Nothing before the retention horizon (activity.event_retention.kept_from,
-- which delete_events_before advances) is counted, even while a retention run
-- is still deleting it; the day the horizon falls in is counted from the
-- events left.
-- plan: custom
-- not null: name, day, count
with bounds as (
  select r.rolled_before, k.kept_from,
         greatest((:since::date)::timestamp at time zone 'UTC', k.kept_from) as since_at,
         (:until::date)::timestamp at time zone 'UTC' as until_at,
         -- the first UTC day wholly at or after the horizon
         ((k.kept_from at time zone 'UTC') + interval '1 day' - interval '1 microsecond')::date as whole_from
    from activity.user_event_rollup r, activity.event_retention k
), counts as (
  select name, day, count
    from activity.user_event_counts
   where user_id = :user_id
     and folded
     and day >= greatest(:since::date, (select whole_from from bounds))
     and day < :until::date
  union all
  select name, day, count
    from activity.user_event_counts
   where user_id = :user_id
     and not folded
     and day >= greatest(:since::date, (select whole_from from bounds))
     and day < :until::date
  union all
  -- the day of the horizon, as far as the rollup has it
  select name, (occurred_at at time zone 'UTC')::date, count(*)
    from activity.analytics_events
   where user_id = :user_id
     and occurred_at >= (select since_at from bounds)
     and occurred_at < (select least(until_at, rolled_before,
                                     whole_from::timestamp at time zone 'UTC') from bounds)
   group by 1, 2
  union all
  -- what the rollup has not taken yet
  select name, (occurred_at at time zone 'UTC')::date, count(*)
    from activity.analytics_events
   where user_id = :user_id
     and occurred_at >= (select greatest(since_at, rolled_before) from bounds)
     and occurred_at < (select until_at from bounds)
   group by 1, 2
)
select name, day, sum(count)::bigint as count
  from counts
 group by day, name
having sum(count) <> 0
 order by day, name;

-- name: roll_up_user_events(before, batch_size)$
-- Job: add the next batch_size events that occurred before before (a
-- timestamp: now less an hour, say) to the per-user rollup that
-- count_user_events_by_day reads, and fold as many of the rollup's deltas
-- (events that arrived late, were deleted or changed). A batch takes every
-- event up to the batch_size-th one's time, so it overshoots only by the
-- events that share that time; the fold likewise by the rest of its last
-- (user, day, name). Returns how many events and deltas it took; call it
-- until it returns 0. It returns 0 too when ingesting transactions held the
-- rollup's lock for half a second: call again at the next run. Call it
-- without conn (or commit soon): ingest waits for it while it holds the lock.
-- batch_size defaults to 1,000 (a call of about 20 ms on the scale dataset:
-- docs/scaling.md) and may be at most 100,000.
-- optional: batch_size
-- not null: taken
select activity.roll_up_user_events(:before::timestamptz, coalesce(:batch_size::integer, 1000)) as taken;

-- name: compact_event_counts(before, batch_size)$
-- Job: fold the per-statement deltas of count_events_by_day's rollup into one
-- row per day and name, for the days before before (a date: pass today),
-- batch_size deltas (default 10,000) per call in (day, name) order: every
-- delta up to the batch_size-th one's (day, name), so a batch overshoots only
-- by the rest of that one key's deltas. Returns how many deltas were folded;
-- call it until it returns 0.
-- not null: count
-- optional: batch_size
with last as (
  select day, name
    from activity.event_counts
   where day < :before::date
     and not folded
   order by day, name
  offset coalesce(:batch_size::integer, 10000) - 1
   limit 1
), gone as (
  delete from activity.event_counts c
   where c.day < :before::date
     and (not exists (select from last) or (c.day, c.name) <= (select l.day, l.name from last l))
     and (not c.folded
          or exists (select from activity.event_counts d
                      where d.day = c.day and d.name = c.name and not d.folded))
  returning c.day, c.name, c.count, c.folded
), summed as (
  insert into activity.event_counts (day, name, count, folded)
  select day, name, sum(count), true
    from gone
   group by day, name
  having sum(count) <> 0
)
select count(*) from gone where not folded;

-- name: create_event_partitions(first_month, months)$
-- Job: create the monthly partitions of analytics_events for months
-- first_month (a date in it) .. first_month + months - 1 that do not exist
-- yet; returns how many it created. Run it daily with today and 3 so the
-- coming months exist before their events arrive (events of a month without a
-- partition land in analytics_events_default and move when it is created).
select activity.create_event_partitions(:first_month::date, :months::integer);

-- name: drop_event_partitions(before)$
-- Retention: drop every monthly partition of analytics_events that ends at or
-- before before, with its days in the count_events_by_day rollup; returns how
-- many. Dropping a partition is instant, whatever its size. Then
-- delete_events_before removes the rest (the default partition, a partial month).
select activity.drop_event_partitions(:before::timestamptz);

-- name: delete_events_before(cutoff, batch_size)!
-- Retention: delete the oldest analytics events that occurred before cutoff,
-- about batch_size (default 10,000) of them: every event up to the
-- batch_size-th oldest one's time, so a few more when events share it. Returns
-- how many; call it until it returns 0. After drop_event_partitions only the
-- events of a partly expired month are left; one statement reads one time range
-- of the occurred_at index and touches only the partitions it spans. It first
-- moves the retention horizon (activity.event_retention) up to cutoff, so the
-- per-user rollup stops counting those events at once and is not counted down
-- event by event.
-- optional: batch_size
with horizon as (
  update activity.event_retention
     set kept_from = :cutoff
   where kept_from < :cutoff
)
delete from activity.analytics_events
 where occurred_at < :cutoff
   and occurred_at <= coalesce((select occurred_at
                                  from activity.analytics_events
                                 where occurred_at < :cutoff
                                 order by occurred_at
                                offset coalesce(:batch_size::integer, 10000) - 1
                                 limit 1),
                               'infinity');
