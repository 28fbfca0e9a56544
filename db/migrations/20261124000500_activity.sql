-- migrate:up

create schema activity;
comment on schema activity is 'The user activity feed and raw analytics events; append-only. Owned by the activity service.';

create table activity.user_activities (
  id          uuid primary key default gen_random_uuid(),
  user_id     uuid not null,
  type        text not null,
  entity_type text,
  entity_id   uuid,
  metadata    jsonb not null default '{}',
  created_at  timestamptz not null default now(),
  constraint user_activities_type_check check (type <> ''),
  constraint user_activities_entity_check check (entity_id is null or entity_type is not null),
  constraint user_activities_metadata_check check (jsonb_typeof(metadata) = 'object')
);
create index user_activities_user_id_created_at_idx on activity.user_activities (user_id, created_at desc);
create index user_activities_entity_idx on activity.user_activities (entity_type, entity_id) where entity_id is not null;
comment on table activity.user_activities is 'What a user did, newest first per user (index user_activities_user_id_created_at_idx). Append-only.';
comment on column activity.user_activities.user_id is 'auth.users.id (no foreign key: another service''s schema).';
comment on column activity.user_activities.type is 'Dotted action key, e.g. module.completed or submission.created.';
comment on column activity.user_activities.entity_type is 'Kind of the thing acted on, e.g. module or assignment; required when entity_id is set.';
comment on column activity.user_activities.entity_id is 'Id of the thing acted on, in the schema of its owning service (no foreign key).';
comment on column activity.user_activities.metadata is 'Extra details of the action (JSON object).';

create table activity.analytics_events (
  id          uuid primary key default gen_random_uuid(),
  name        text not null,
  user_id     uuid,
  properties  jsonb not null default '{}',
  occurred_at timestamptz not null default now(),
  created_at  timestamptz not null default now(),
  constraint analytics_events_name_check check (name <> ''),
  constraint analytics_events_properties_check check (jsonb_typeof(properties) = 'object')
);
create index analytics_events_name_occurred_at_idx on activity.analytics_events (name, occurred_at);
create index analytics_events_user_id_occurred_at_idx on activity.analytics_events (user_id, occurred_at desc) where user_id is not null;
comment on table activity.analytics_events is 'Raw product analytics events, bulk-ingested with COPY. Append-only.';
comment on column activity.analytics_events.name is 'Event name, e.g. page_view or quiz_started.';
comment on column activity.analytics_events.user_id is 'auth.users.id of the actor, null for anonymous events (no foreign key: another service''s schema).';
comment on column activity.analytics_events.properties is 'Event properties (JSON object).';
comment on column activity.analytics_events.occurred_at is 'When the event happened at the client; created_at is when it was stored.';

-- Roles are cluster-wide: another database on the server may have created it already.
do $$
begin
  if not exists (select from pg_roles where rolname = 'codezest_activity') then
    create role codezest_activity nologin;
  end if;
exception when duplicate_object or unique_violation then
  null;  -- created concurrently by a migration in another database
end
$$;

grant usage on schema activity to codezest_activity;
grant select, insert, update, delete on all tables in schema activity to codezest_activity;
grant usage on all sequences in schema activity to codezest_activity;
alter default privileges in schema activity grant select, insert, update, delete on tables to codezest_activity;
alter default privileges in schema activity grant usage on sequences to codezest_activity;
alter default privileges in schema activity grant usage on types to codezest_activity;

-- migrate:down

alter default privileges in schema activity revoke all on tables from codezest_activity;
alter default privileges in schema activity revoke all on sequences from codezest_activity;
alter default privileges in schema activity revoke all on types from codezest_activity;
revoke all on all tables in schema activity from codezest_activity;
revoke all on all sequences in schema activity from codezest_activity;
revoke all on schema activity from codezest_activity;

drop schema activity cascade;

-- Another database on the same server may still grant to the role: keep it then.
do $$
begin
  drop role if exists codezest_activity;
exception when dependent_objects_still_exist then
  raise notice 'role codezest_activity kept: still used in another database';
end
$$;
