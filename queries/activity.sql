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
-- starts right after that row.
-- optional: before, before_id
select id, user_id, type, entity_type, entity_id, metadata, created_at
  from activity.user_activities
 where user_id = :user_id
   and (:before::timestamptz is null
        or created_at < :before
        or (created_at = :before and id < :before_id::uuid))
 order by created_at desc, id desc
 limit :limit;

-- name: list_events_by_name(name, limit, before, before_id)
-- record_class: AnalyticsEvent
-- A page of the events of one name, most recent first (occurred_at desc, id desc).
-- before is exclusive on occurred_at; pass the last row's occurred_at and id as
-- before and before_id to continue after it without skipping equal timestamps.
-- optional: before, before_id
select id, name, user_id, properties, occurred_at, created_at
  from activity.analytics_events
 where name = :name
   and (:before::timestamptz is null
        or occurred_at < :before
        or (occurred_at = :before and id < :before_id::uuid))
 order by occurred_at desc, id desc
 limit :limit;

-- name: count_events_by_day(since, until, name)
-- record_class: EventCountRow
-- How many events of each name occurred per UTC day in [since, until), ordered
-- by day, then name; name narrows the count to one event name.
-- optional: name
-- not null: day
select name, (occurred_at at time zone 'UTC')::date as day, count(*) as count
  from activity.analytics_events
 where occurred_at >= :since
   and occurred_at < :until
   and (:name::text is null or name = :name)
 group by name, day
 order by day, name;

-- name: delete_events_before(cutoff)!
-- Retention: delete the analytics events that occurred before cutoff; returns how many.
delete from activity.analytics_events
 where occurred_at < :cutoff;
