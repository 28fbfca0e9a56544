-- migrate:up

create schema notifications;
comment on schema notifications is 'In-app notifications, delivery preferences and the email audit log. Owned by the notifications service.';

-- Each schema owns its own copy so a service never needs usage on another schema.
create function notifications.set_updated_at() returns trigger
language plpgsql as $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;
comment on function notifications.set_updated_at() is 'Trigger function: keeps updated_at current on every update.';

create table notifications.notifications (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null,
  type       text not null,
  title      text not null,
  body       text not null,
  data       jsonb not null default '{}',
  read_at    timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint notifications_type_check check (type <> ''),
  constraint notifications_data_check check (jsonb_typeof(data) = 'object')
);
create index notifications_user_id_created_at_idx on notifications.notifications (user_id, created_at desc);
create index notifications_unread_idx on notifications.notifications (user_id, created_at desc) where read_at is null;
create trigger notifications_set_updated_at before update on notifications.notifications
  for each row execute function notifications.set_updated_at();
comment on table notifications.notifications is 'In-app notifications of a user; unread while read_at is null (index notifications_unread_idx).';
comment on column notifications.notifications.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column notifications.notifications.type is 'Dotted event key that produced it, e.g. submission.graded or payment.failed.';
comment on column notifications.notifications.data is 'JSON object the client needs to render or link it, e.g. {"submission_id": ...}.';
comment on column notifications.notifications.read_at is 'When the user read it; null while unread.';

create table notifications.notification_preferences (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null,
  channel    text not null,
  type       text,
  enabled    boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint notification_preferences_user_id_channel_type_key unique nulls not distinct (user_id, channel, type),
  constraint notification_preferences_channel_check check (channel in ('email', 'in_app', 'push')),
  constraint notification_preferences_type_check check (type <> '')
);
create trigger notification_preferences_set_updated_at before update on notifications.notification_preferences
  for each row execute function notifications.set_updated_at();
comment on table notifications.notification_preferences is 'Whether a user wants notifications on a channel, for all types (type null) or one type; one row per user, channel and type.';
comment on column notifications.notification_preferences.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column notifications.notification_preferences.channel is 'Delivery channel: email, in_app or push.';
comment on column notifications.notification_preferences.type is 'Notification type the row applies to; null for the channel-wide default. A type row overrides the default.';

create table notifications.email_logs (
  id                  uuid primary key default gen_random_uuid(),
  user_id             uuid,
  to_email            text not null,
  template            text not null,
  subject             text not null,
  status              text not null default 'queued',
  provider_message_id text,
  error               text,
  sent_at             timestamptz,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  constraint email_logs_provider_message_id_key unique (provider_message_id),
  constraint email_logs_to_email_check check (char_length(to_email) <= 254 and to_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  constraint email_logs_template_check check (template <> ''),
  constraint email_logs_status_check check (status in ('queued', 'sent', 'delivered', 'bounced', 'failed'))
);
create index email_logs_user_id_created_at_idx on notifications.email_logs (user_id, created_at desc);
create index email_logs_queued_idx on notifications.email_logs (created_at) where status = 'queued';
create trigger email_logs_set_updated_at before update on notifications.email_logs
  for each row execute function notifications.set_updated_at();
comment on table notifications.email_logs is 'Audit log of every email the platform sends, and its delivery state.';
comment on column notifications.email_logs.user_id is 'auth.users.id of the recipient, null for addresses without an account (no foreign key: another service''s schema).';
comment on column notifications.email_logs.template is 'Key of the email template rendered, e.g. password_reset.';
comment on column notifications.email_logs.status is 'queued, sent (accepted by the provider), delivered, bounced or failed.';
comment on column notifications.email_logs.provider_message_id is 'The message id at the email provider, for delivery webhooks; unique.';
comment on column notifications.email_logs.error is 'Provider error of a failed or bounced email.';
comment on column notifications.email_logs.sent_at is 'When the provider accepted the email.';

-- Roles are cluster-wide: another database on the server may have created it already.
do $$
begin
  if not exists (select from pg_roles where rolname = 'codezest_notifications') then
    create role codezest_notifications nologin;
  end if;
exception when duplicate_object or unique_violation then
  null;  -- created concurrently by a migration in another database
end
$$;

grant usage on schema notifications to codezest_notifications;
grant select, insert, update, delete on all tables in schema notifications to codezest_notifications;
grant usage on all sequences in schema notifications to codezest_notifications;
alter default privileges in schema notifications grant select, insert, update, delete on tables to codezest_notifications;
alter default privileges in schema notifications grant usage on sequences to codezest_notifications;
alter default privileges in schema notifications grant usage on types to codezest_notifications;

-- migrate:down

alter default privileges in schema notifications revoke all on tables from codezest_notifications;
alter default privileges in schema notifications revoke all on sequences from codezest_notifications;
alter default privileges in schema notifications revoke all on types from codezest_notifications;
revoke all on all tables in schema notifications from codezest_notifications;
revoke all on all sequences in schema notifications from codezest_notifications;
revoke all on schema notifications from codezest_notifications;

drop schema notifications cascade;

-- Another database on the same server may still grant to the role: keep it then.
do $$
begin
  drop role if exists codezest_notifications;
exception when dependent_objects_still_exist then
  raise notice 'role codezest_notifications kept: still used in another database';
end
$$;
