-- migrate:up

create schema auth;
comment on schema auth is 'Identity: accounts, profiles, sessions, OAuth links and one-time tokens. Owned by the auth service.';

create type auth."Role" as enum ('STUDENT', 'INSTRUCTOR', 'ADMIN');
comment on type auth."Role" is 'What a user may do on the platform.';

-- Each schema owns its own copy so a service never needs usage on another schema.
create function auth.set_updated_at() returns trigger
language plpgsql as $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;
comment on function auth.set_updated_at() is 'Trigger function: keeps updated_at current on every update.';

create table auth.users (
  id                uuid primary key default gen_random_uuid(),
  email             text not null,
  password_hash     text,
  name              text not null,
  role              auth."Role" not null default 'STUDENT',
  email_verified_at timestamptz,
  last_login_at     timestamptz,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  deleted_at        timestamptz,
  constraint users_email_check check (char_length(email) <= 254 and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'),
  constraint users_password_hash_check check (password_hash <> ''),
  constraint users_name_check check (char_length(name) <= 200)
);
create unique index users_email_key on auth.users (lower(email)) where deleted_at is null;
create index users_created_at_idx on auth.users (created_at desc, id desc);
create trigger users_set_updated_at before update on auth.users
  for each row execute function auth.set_updated_at();
comment on table auth.users is 'One row per account. Soft-deleted rows (deleted_at set) are invisible to ordinary queries.';
comment on column auth.users.email is 'Login email as entered; unique case-insensitively among non-deleted users (index users_email_key).';
comment on column auth.users.password_hash is 'Password hash computed by the auth service; null for accounts that only sign in through OAuth.';
comment on column auth.users.email_verified_at is 'When the user proved ownership of email; null while unverified.';
comment on column auth.users.last_login_at is 'Time of the latest successful sign-in.';
comment on column auth.users.deleted_at is 'Soft delete: set when the account is closed; the email becomes free again.';

create table auth.user_profiles (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null references auth.users (id) on delete cascade,
  bio        text,
  avatar_url text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint user_profiles_user_id_key unique (user_id)
);
create trigger user_profiles_set_updated_at before update on auth.user_profiles
  for each row execute function auth.set_updated_at();
comment on table auth.user_profiles is 'Optional public profile of a user, at most one per user (user_profiles_user_id_key).';
comment on column auth.user_profiles.avatar_url is 'Absolute URL of the avatar image.';

create table auth.sessions (
  id           uuid primary key default gen_random_uuid(),
  user_id      uuid not null references auth.users (id) on delete cascade,
  token_hash   text not null,
  user_agent   text,
  ip_address   inet,
  expires_at   timestamptz not null,
  revoked_at   timestamptz,
  last_used_at timestamptz,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now(),
  constraint sessions_token_hash_key unique (token_hash),
  constraint sessions_token_hash_check check (token_hash <> '')
);
create index sessions_user_id_idx on auth.sessions (user_id);
create index sessions_expires_at_idx on auth.sessions (expires_at);
create trigger sessions_set_updated_at before update on auth.sessions
  for each row execute function auth.set_updated_at();
comment on table auth.sessions is 'Sign-in sessions. A session is active while expires_at is in the future and revoked_at is null.';
comment on column auth.sessions.token_hash is 'Hash of the session token; the token itself is never stored.';
comment on column auth.sessions.ip_address is 'Client address when the session was created.';
comment on column auth.sessions.revoked_at is 'Set on sign-out or forced revocation; a revoked session is never valid again.';
comment on column auth.sessions.last_used_at is 'Latest time the session authenticated a request.';

create table auth.oauth_accounts (
  id                  uuid primary key default gen_random_uuid(),
  user_id             uuid not null references auth.users (id) on delete cascade,
  provider            text not null,
  provider_account_id text not null,
  created_at          timestamptz not null default now(),
  updated_at          timestamptz not null default now(),
  constraint oauth_accounts_provider_provider_account_id_key unique (provider, provider_account_id),
  constraint oauth_accounts_provider_check check (provider <> ''),
  constraint oauth_accounts_provider_account_id_check check (provider_account_id <> '')
);
create index oauth_accounts_user_id_idx on auth.oauth_accounts (user_id);
create trigger oauth_accounts_set_updated_at before update on auth.oauth_accounts
  for each row execute function auth.set_updated_at();
comment on table auth.oauth_accounts is 'External identities (GitHub, Google, ...) linked to a user; each external account links to one user.';
comment on column auth.oauth_accounts.provider is 'Identity provider key, e.g. github or google.';
comment on column auth.oauth_accounts.provider_account_id is 'The user''s stable id at the provider.';

create table auth.password_resets (
  id         uuid primary key default gen_random_uuid(),
  user_id    uuid not null references auth.users (id) on delete cascade,
  token_hash text not null,
  expires_at timestamptz not null,
  used_at    timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  constraint password_resets_token_hash_key unique (token_hash),
  constraint password_resets_token_hash_check check (token_hash <> '')
);
create index password_resets_user_id_idx on auth.password_resets (user_id);
create index password_resets_expires_at_idx on auth.password_resets (expires_at);
create trigger password_resets_set_updated_at before update on auth.password_resets
  for each row execute function auth.set_updated_at();
comment on table auth.password_resets is 'One-time password reset tokens; valid while unused and unexpired.';
comment on column auth.password_resets.token_hash is 'Hash of the reset token; the token itself is never stored.';
comment on column auth.password_resets.used_at is 'When the token was consumed; a token is used at most once.';

create table auth.email_verifications (
  id          uuid primary key default gen_random_uuid(),
  user_id     uuid not null references auth.users (id) on delete cascade,
  email       text not null,
  token_hash  text not null,
  expires_at  timestamptz not null,
  verified_at timestamptz,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  constraint email_verifications_token_hash_key unique (token_hash),
  constraint email_verifications_token_hash_check check (token_hash <> ''),
  constraint email_verifications_email_check check (char_length(email) <= 254 and email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$')
);
create index email_verifications_user_id_idx on auth.email_verifications (user_id);
create index email_verifications_expires_at_idx on auth.email_verifications (expires_at);
create trigger email_verifications_set_updated_at before update on auth.email_verifications
  for each row execute function auth.set_updated_at();
comment on table auth.email_verifications is 'One-time tokens proving that a user owns an email address.';
comment on column auth.email_verifications.email is 'The address being verified (may differ from the user''s current email during a change).';
comment on column auth.email_verifications.token_hash is 'Hash of the verification token; the token itself is never stored.';
comment on column auth.email_verifications.verified_at is 'When the token was consumed; a token is used at most once.';

-- Roles are cluster-wide: another database on the server may have created it already.
do $$
begin
  if not exists (select from pg_roles where rolname = 'codezest_auth') then
    create role codezest_auth nologin;
  end if;
exception when duplicate_object or unique_violation then
  null;  -- created concurrently by a migration in another database
end
$$;

grant usage on schema auth to codezest_auth;
grant select, insert, update, delete on all tables in schema auth to codezest_auth;
grant usage on all sequences in schema auth to codezest_auth;
grant usage on type auth."Role" to codezest_auth;
alter default privileges in schema auth grant select, insert, update, delete on tables to codezest_auth;
alter default privileges in schema auth grant usage on sequences to codezest_auth;
alter default privileges in schema auth grant usage on types to codezest_auth;

-- migrate:down

alter default privileges in schema auth revoke all on tables from codezest_auth;
alter default privileges in schema auth revoke all on sequences from codezest_auth;
alter default privileges in schema auth revoke all on types from codezest_auth;
revoke all on all tables in schema auth from codezest_auth;
revoke all on all sequences in schema auth from codezest_auth;
revoke all on type auth."Role" from codezest_auth;
revoke all on schema auth from codezest_auth;

drop schema auth cascade;

-- Another database on the same server may still grant to the role: keep it then.
do $$
begin
  drop role if exists codezest_auth;
exception when dependent_objects_still_exist then
  raise notice 'role codezest_auth kept: still used in another database';
end
$$;
