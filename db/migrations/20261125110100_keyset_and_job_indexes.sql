-- migrate:up

-- Keyset pages: every list query bounds its page with a row comparison,
-- (created_at, id) < (:before, :before_id), so the index must hold both
-- columns after the equality columns; the scan then starts at the bound and
-- reads one page's rows at any depth. These replace the indexes without id.

-- list_user_sessions: a user's sessions in order, without a sort.
drop index auth.sessions_user_id_idx;
create index sessions_user_id_created_at_id_idx on auth.sessions (user_id, created_at, id);

drop index activity.user_activities_user_id_created_at_idx;
create index user_activities_user_id_created_at_id_idx on activity.user_activities (user_id, created_at, id);

drop index learning.assignment_submissions_user_id_created_at_idx;
create index assignment_submissions_user_id_assignment_id_submitted_at_idx on learning.assignment_submissions (user_id, assignment_id, submitted_at, id);

drop index learning.mcq_attempts_user_id_created_at_idx;
create index mcq_attempts_user_id_quiz_id_started_at_idx on learning.mcq_attempts (user_id, quiz_id, started_at, id);

drop index payments.transactions_user_id_created_at_idx;
create index transactions_user_id_created_at_id_idx on payments.transactions (user_id, created_at, id);

drop index payments.invoices_user_id_created_at_idx;
create index invoices_user_id_created_at_id_idx on payments.invoices (user_id, created_at, id);

drop index notifications.notifications_user_id_created_at_idx;
create index notifications_user_id_created_at_id_idx on notifications.notifications (user_id, created_at, id);
drop index notifications.notifications_unread_idx;
create index notifications_unread_idx on notifications.notifications (user_id, created_at, id) where read_at is null;

drop index notifications.email_logs_user_id_created_at_idx;
create index email_logs_user_id_created_at_id_idx on notifications.email_logs (user_id, created_at, id);

-- Jobs and retention: each statement takes a bounded batch found through an
-- index, so it never scans a whole table nor holds its locks for long.

-- delete_expired_tokens: a row is done once it expired or was revoked / used;
-- least() ignores NULL, so one expression says when that happened.
drop index auth.sessions_expires_at_idx;
create index sessions_done_at_idx on auth.sessions (least(expires_at, revoked_at));
drop index auth.password_resets_expires_at_idx;
create index password_resets_done_at_idx on auth.password_resets (least(expires_at, used_at));
drop index auth.email_verifications_expires_at_idx;
create index email_verifications_done_at_idx on auth.email_verifications (least(expires_at, verified_at));

-- expire_subscriptions: when a live subscription's trial or period ends.
create index subscriptions_live_ends_at_idx on payments.subscriptions
  ((coalesce(case when status = 'TRIALING' then trial_ends_at end, current_period_end)))
  where status in ('TRIALING', 'ACTIVE', 'PAST_DUE');

-- delete_old_notifications: oldest first.
create index notifications_created_at_idx on notifications.notifications (created_at);

-- migrate:down

drop index notifications.notifications_created_at_idx;
drop index payments.subscriptions_live_ends_at_idx;

drop index auth.email_verifications_done_at_idx;
create index email_verifications_expires_at_idx on auth.email_verifications (expires_at);
drop index auth.password_resets_done_at_idx;
create index password_resets_expires_at_idx on auth.password_resets (expires_at);
drop index auth.sessions_done_at_idx;
create index sessions_expires_at_idx on auth.sessions (expires_at);

drop index notifications.email_logs_user_id_created_at_id_idx;
create index email_logs_user_id_created_at_idx on notifications.email_logs (user_id, created_at desc);

drop index notifications.notifications_unread_idx;
create index notifications_unread_idx on notifications.notifications (user_id, created_at desc) where read_at is null;
drop index notifications.notifications_user_id_created_at_id_idx;
create index notifications_user_id_created_at_idx on notifications.notifications (user_id, created_at desc);

drop index payments.invoices_user_id_created_at_id_idx;
create index invoices_user_id_created_at_idx on payments.invoices (user_id, created_at desc);

drop index payments.transactions_user_id_created_at_id_idx;
create index transactions_user_id_created_at_idx on payments.transactions (user_id, created_at desc);

drop index learning.mcq_attempts_user_id_quiz_id_started_at_idx;
create index mcq_attempts_user_id_created_at_idx on learning.mcq_attempts (user_id, created_at desc);

drop index learning.assignment_submissions_user_id_assignment_id_submitted_at_idx;
create index assignment_submissions_user_id_created_at_idx on learning.assignment_submissions (user_id, created_at desc);

drop index activity.user_activities_user_id_created_at_id_idx;
create index user_activities_user_id_created_at_idx on activity.user_activities (user_id, created_at desc);

drop index auth.sessions_user_id_created_at_id_idx;
create index sessions_user_id_idx on auth.sessions (user_id);
