-- Activity: the per-user activity feed and raw analytics events.

-- name: record_activity(user_id, type, entity_type, entity_id)^
-- record_class: UserActivity
-- Append an entry to a user's activity feed.
insert into activity.user_activities (user_id, type, entity_type, entity_id)
values (:user_id, :type, :entity_type, :entity_id)
returning id, user_id, type, entity_type, entity_id, metadata, created_at;
