-- Notifications: in-app notifications, preferences per channel, the email log.
-- Lists that grow page by keyset: pass the last id of the previous page as before_id.
-- Preferences: a row per user, channel (email, in_app, push) and type; type
-- null is the channel-wide setting, a type row overrides it, and without any
-- row a channel is enabled.
-- Email status: queued, sent (accepted by the provider), delivered, bounced, failed.
-- Read: read_at is set, or the notification was created before the user's
-- mark in notifications.notification_read_marks (mark_all_read writes that
-- one row, not every notification; reads report the mark as its read_at).

-- name: create_notification(user_id, type, title, body)^
-- record_class: Notification
-- Notify a user in the app; type is the dotted event key, e.g. submission.graded.
insert into notifications.notifications (user_id, type, title, body)
values (:user_id, :type, :title, :body)
returning id, user_id, type, title, body, data, read_at, created_at, updated_at;

-- name: create_notification_with_data(user_id, type, title, body, data)^
-- record_class: Notification
-- create_notification with the JSON object the client needs to render or link
-- it (a dict), e.g. {"submission_id": ...}.
insert into notifications.notifications (user_id, type, title, body, data)
values (:user_id, :type, :title, :body, :data)
returning id, user_id, type, title, body, data, read_at, created_at, updated_at;

-- name: list_unread_notifications(user_id, limit, before_id)
-- record_class: Notification
-- A user's unread notifications, newest first, at most limit, a page at a
-- time (keyset on before_id: the id of the last one of the previous page).
-- limit is required (the contract pins it) and may be at most 1000.
-- optional: before_id
select id, user_id, type, title, body, data, read_at, created_at, updated_at
  from notifications.notifications
 where user_id = :user_id
   and read_at is null
   and created_at >= coalesce((select m.read_before from notifications.notification_read_marks m where m.user_id = :user_id),
                              '-infinity')
   and (created_at, id) < (coalesce((select created_at from notifications.notifications where id = :before_id::uuid),
                                    case when :before_id::uuid is null then 'infinity'::timestamptz end),
                           coalesce(:before_id::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: list_notifications(user_id, limit, before_id)
-- record_class: Notification
-- All of a user's notifications, read or not, newest first, a page at a time
-- (keyset on before_id).
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, before_id
select n.id, n.user_id, n.type, n.title, n.body, n.data,
       coalesce(n.read_at, case when n.created_at < m.read_before then m.read_before end) as read_at,
       n.created_at, n.updated_at
  from notifications.notifications n
  left join notifications.notification_read_marks m on m.user_id = :user_id
 where n.user_id = :user_id
   and (n.created_at, n.id) < (coalesce((select k.created_at from notifications.notifications k where k.id = :before_id::uuid),
                                        case when :before_id::uuid is null then 'infinity'::timestamptz end),
                               coalesce(:before_id::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
 order by n.created_at desc, n.id desc
 limit coalesce(:limit::integer, 100);

-- name: count_unread_notifications(user_id)$
-- How many unread notifications a user has (the badge).
select count(*)
  from notifications.notifications
 where user_id = :user_id
   and read_at is null
   and created_at >= coalesce((select m.read_before from notifications.notification_read_marks m where m.user_id = :user_id),
                              '-infinity');

-- name: mark_notification_read(user_id, id)!
-- Mark one of the user's notifications read. Returns 1, or 0 when it was read
-- already or is not the user's.
-- plan: custom
update notifications.notifications
   set read_at = now()
 where id = :id
   and user_id = :user_id
   and read_at is null
   and created_at >= coalesce((select m.read_before from notifications.notification_read_marks m where m.user_id = :user_id),
                              '-infinity');

-- name: mark_all_read(user_id)$
-- Mark every unread notification of a user read; returns how many. One
-- statement that writes the user's read mark, not every notification: its
-- cost is counting them (an index-only count of the unread index).
-- not null: marked
with marked as (
  insert into notifications.notification_read_marks as m (user_id, read_before)
  values (:user_id, now())
      on conflict (user_id) do update
     set read_before = greatest(m.read_before, excluded.read_before)
), own as (
  update notifications.notifications
     set read_at = now()
   where user_id = :user_id
     and created_at >= now()
     and read_at is null
)
select count(*) as marked
  from notifications.notifications
 where user_id = :user_id
   and read_at is null
   and created_at >= coalesce((select m.read_before from notifications.notification_read_marks m where m.user_id = :user_id),
                              '-infinity');

-- name: delete_notification(user_id, id)!
-- Dismiss one of the user's notifications. Returns 1, or 0 when it is not the user's.
delete from notifications.notifications
 where id = :id
   and user_id = :user_id;

-- name: delete_old_notifications(older_than, batch_size)!
-- Housekeeping: delete the oldest notifications, read or not, created before
-- older_than, about batch_size (default 10,000) of them (every one up to the
-- batch_size-th oldest's time). Returns how many; call it until it returns 0.
-- optional: batch_size
delete from notifications.notifications
 where created_at < :older_than::timestamptz
   and created_at <= coalesce((select created_at
                                 from notifications.notifications
                                where created_at < :older_than::timestamptz
                                order by created_at
                               offset coalesce(:batch_size::integer, 10000) - 1
                                limit 1),
                              'infinity');

-- name: upsert_notification_preference(user_id, channel, enabled, type)^
-- record_class: NotificationPreference
-- Turn a channel on or off for a user: for every type (type None) or one type.
-- channel is email, in_app or push (ConstraintViolation otherwise).
-- optional: type
insert into notifications.notification_preferences (user_id, channel, type, enabled)
values (:user_id, :channel, :type, :enabled)
    on conflict (user_id, channel, type) do update
   set enabled = excluded.enabled
returning id, user_id, channel, type, enabled, created_at, updated_at;

-- name: list_notification_preferences(user_id, limit, after_id)
-- record_class: NotificationPreference
-- The preferences a user has stored (channels without a row are enabled; see
-- get_notification_channels for the effective settings).
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, user_id, channel, type, enabled, created_at, updated_at
  from notifications.notification_preferences
 where user_id = :user_id
   and (:after_id::uuid is null
        or (channel, type is not null, type, id) > (select k.channel, k.type is not null, k.type, k.id from notifications.notification_preferences k where k.id = :after_id::uuid))
 order by channel, type nulls first, id
 limit coalesce(:limit::integer, 100);

-- name: get_notification_channels(user_id, type)$
-- The effective settings as a dict of every channel to enabled, e.g.
-- {"email": True, "in_app": True, "push": False}: the type's row if type is
-- given and stored, else the channel-wide row, else True.
-- optional: type
select jsonb_object_agg(c.channel, coalesce(t.enabled, d.enabled, true))
  from (values ('email'), ('in_app'), ('push')) as c (channel)
  left join notifications.notification_preferences d
    on d.user_id = :user_id and d.channel = c.channel and d.type is null
  left join notifications.notification_preferences t
    on t.user_id = :user_id and t.channel = c.channel and t.type = :type::text;

-- name: delete_notification_preference(user_id, channel, type)!
-- Forget a stored preference (channel-wide when type is None), so the default
-- applies again. Returns 1, or 0 when none was stored.
-- optional: type
delete from notifications.notification_preferences
 where user_id = :user_id
   and channel = :channel
   and type is not distinct from :type::text;

-- name: create_email_log(to_email, template, subject, user_id)^
-- record_class: EmailLog
-- Log an email about to be sent, status queued. user_id None is an address
-- without an account.
-- optional: user_id
insert into notifications.email_logs (user_id, to_email, template, subject)
values (:user_id, :to_email, :template, :subject)
returning id, user_id, to_email, template, subject, status, provider_message_id, error, sent_at,
          created_at, updated_at;

-- name: update_email_status(id, status, provider_message_id, error)^
-- record_class: EmailLog
-- Record a delivery step: status sent with the provider's message id, or
-- failed with its error. sent_at is stamped when it first becomes sent or
-- delivered; provider_message_id None keeps the stored one; error is replaced.
-- ConstraintViolation for an unknown status. None for an unknown id.
-- optional: provider_message_id, error
update notifications.email_logs
   set status = :status::text,
       provider_message_id = coalesce(:provider_message_id, provider_message_id),
       error = :error,
       sent_at = case when :status::text in ('sent', 'delivered')
                      then coalesce(sent_at, now())
                      else sent_at
                 end
 where id = :id
returning id, user_id, to_email, template, subject, status, provider_message_id, error, sent_at,
          created_at, updated_at;

-- name: update_email_status_by_provider_id(provider_message_id, status, error)^
-- record_class: EmailLog
-- update_email_status for the provider's delivery webhooks (delivered,
-- bounced, failed), found by the provider's message id. None when unknown.
-- optional: error
update notifications.email_logs
   set status = :status::text,
       error = :error,
       sent_at = case when :status::text in ('sent', 'delivered')
                      then coalesce(sent_at, now())
                      else sent_at
                 end
 where provider_message_id = :provider_message_id
returning id, user_id, to_email, template, subject, status, provider_message_id, error, sent_at,
          created_at, updated_at;

-- name: list_queued_emails(limit)
-- record_class: EmailLog
-- The oldest queued emails for a sender worker, locked for this transaction
-- and skipping those another worker holds: call it in db.transaction() and
-- update each one's status before the transaction ends. A queue, so no
-- keyset: the next call takes the next rows no other worker holds.
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit
select id, user_id, to_email, template, subject, status, provider_message_id, error, sent_at,
       created_at, updated_at
  from notifications.email_logs
 where status = 'queued'
 order by created_at, id
 limit coalesce(:limit::integer, 100)
   for update skip locked;

-- name: list_user_email_logs(user_id, limit, before_id)
-- record_class: EmailLog
-- The emails sent to a user, newest first, a page at a time (keyset on before_id).
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, before_id
select id, user_id, to_email, template, subject, status, provider_message_id, error, sent_at,
       created_at, updated_at
  from notifications.email_logs
 where user_id = :user_id
   and (created_at, id) < (coalesce((select created_at from notifications.email_logs where id = :before_id::uuid),
                                    case when :before_id::uuid is null then 'infinity'::timestamptz end),
                           coalesce(:before_id::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);
