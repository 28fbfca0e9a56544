-- migrate:up
-- Signing a user out everywhere and marking all of a user's notifications
-- read become one-row writes: a per-user mark ("sessions created before this
-- time are revoked", "notifications created before this time are read") that
-- the reads consult, instead of an update of every row the user owns (24,000
-- sessions or 45,000 notifications of the heavy user: 450-700 ms of row locks
-- in one statement). The rows the mark cannot cover (those created in the
-- same transaction, at or after its time) are still updated, one by one.
-- See docs/scaling.md, "Bulk writes and rollups".

create table auth.session_revocations (
  id             uuid primary key default gen_random_uuid(),
  user_id        uuid not null references auth.users (id) on delete cascade,
  revoked_before timestamptz not null,
  created_at     timestamptz not null default now(),
  updated_at     timestamptz not null default now(),
  constraint session_revocations_user_id_key unique (user_id)
);
create trigger session_revocations_set_updated_at before update on auth.session_revocations
  for each row execute function auth.set_updated_at();
comment on table auth.session_revocations is 'Per-user sign-out-everywhere mark: every session of the user created before revoked_before is revoked, whatever its revoked_at (revoke_user_sessions, soft_delete_user, update_password_hash).';
comment on column auth.session_revocations.revoked_before is 'Sessions created strictly before this time are revoked; it only moves forward.';

create table notifications.notification_read_marks (
  id          uuid primary key default gen_random_uuid(),
  user_id     uuid not null,
  read_before timestamptz not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint notification_read_marks_user_id_key unique (user_id)
);
create trigger notification_read_marks_set_updated_at before update on notifications.notification_read_marks
  for each row execute function notifications.set_updated_at();
comment on table notifications.notification_read_marks is 'Per-user mark-all-read mark: every notification of the user created before read_before is read, whatever its read_at (mark_all_read).';
comment on column notifications.notification_read_marks.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column notifications.notification_read_marks.read_before is 'Notifications created strictly before this time are read; it only moves forward.';

-- Room on every page for the updated version of a row, so that an update
-- that changes no indexed column (touch_session, record_login) stays on its
-- page: a HOT update, which writes no index entry. Applies to the pages
-- written from now on.
alter table auth.sessions set (fillfactor = 90);
alter table auth.users set (fillfactor = 90);

-- migrate:down

alter table auth.users reset (fillfactor);
alter table auth.sessions reset (fillfactor);
drop table notifications.notification_read_marks;
drop table auth.session_revocations;
