-- Notifications: in-app notifications, preferences per channel, the email log.

-- name: mark_all_read(user_id)!
-- Mark every unread notification of a user read; returns how many.
update notifications.notifications
   set read_at = now()
 where user_id = :user_id
   and read_at is null;
