-- Auth: accounts, profiles, sessions, OAuth links and one-time tokens.
-- Tokens are stored only as hashes: callers hash, then pass token_hash.
-- Signing a user out everywhere writes one row, the user's mark in
-- auth.session_revocations: a session created before revoked_before is
-- revoked whatever its revoked_at, and every read of sessions checks the
-- mark. Sessions the mark cannot cover (created at or after its time: in the
-- same transaction) are revoked one by one. See docs/scaling.md.

-- name: create_user(email, password_hash, name, role)^
-- record_class: User
-- Create an account. Raises AlreadyExists (users_email_key) when a live
-- account has the same email in any case.
insert into auth.users (email, password_hash, name, role)
values (:email, :password_hash, :name, :role)
returning id, email, name, role, email_verified_at, last_login_at, created_at, updated_at, deleted_at;

-- name: get_user_by_id(id)^
-- record_class: User
-- Fetch a live (not soft-deleted) user by id.
select id, email, name, role, email_verified_at, last_login_at, created_at, updated_at, deleted_at
  from auth.users
 where id = :id
   and deleted_at is null;

-- name: get_user_by_email(email)^
-- record_class: User
-- Fetch a live user by email, ignoring case.
select id, email, name, role, email_verified_at, last_login_at, created_at, updated_at, deleted_at
  from auth.users
 where lower(email) = lower(:email)
   and deleted_at is null;

-- name: get_credentials_by_email(email)^
-- record_class: UserCredentials
-- The only query that reads a password hash: for sign-in.
select id, email, password_hash, role
  from auth.users
 where lower(email) = lower(:email)
   and deleted_at is null;

-- name: list_users(limit, after_id)
-- record_class: User
-- Live users, newest first, a page at a time: pass the last id of the
-- previous page as after_id (keyset pagination, no OFFSET).
-- limit defaults to 100 rows, and may be at most 1000.
-- optional: limit, after_id
select id, email, name, role, email_verified_at, last_login_at, created_at, updated_at, deleted_at
  from auth.users
 where deleted_at is null
   and (created_at, id) < (coalesce((select created_at from auth.users where id = :after_id::uuid),
                                    case when :after_id::uuid is null then 'infinity'::timestamptz end),
                           coalesce(:after_id::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: update_user_name(id, name)^
-- record_class: User
-- Rename a live user; None when there is no such user.
update auth.users
   set name = :name
 where id = :id
   and deleted_at is null
returning id, email, name, role, email_verified_at, last_login_at, created_at, updated_at, deleted_at;

-- name: update_user_role(id, role)^
-- record_class: User
-- Change a live user's role; None when there is no such user.
update auth.users
   set role = :role
 where id = :id
   and deleted_at is null
returning id, email, name, role, email_verified_at, last_login_at, created_at, updated_at, deleted_at;

-- name: update_password_hash(id, password_hash)!
-- Store a new password hash and revoke every session of the user, in one
-- statement that writes two rows (the user's and its revocation mark),
-- however many sessions the user has.
with marked as (
  insert into auth.session_revocations as r (user_id, revoked_before)
  select id, now() from auth.users where id = :id
      on conflict (user_id) do update
     set revoked_before = greatest(r.revoked_before, excluded.revoked_before)
), revoked as (
  update auth.sessions
     set revoked_at = now()
   where user_id = :id
     and created_at >= now()
     and revoked_at is null
)
update auth.users
   set password_hash = :password_hash
 where id = :id
   and deleted_at is null;

-- name: record_login(id)!
-- Stamp a successful sign-in.
update auth.users
   set last_login_at = now()
 where id = :id
   and deleted_at is null;

-- name: soft_delete_user(id)!
-- Close an account: mark it deleted and revoke its sessions, in one
-- statement that writes two rows (the user's and its revocation mark).
-- Returns 1, or 0 when it was already deleted or never existed.
with marked as (
  insert into auth.session_revocations as r (user_id, revoked_before)
  select id, now() from auth.users where id = :id
      on conflict (user_id) do update
     set revoked_before = greatest(r.revoked_before, excluded.revoked_before)
), revoked as (
  update auth.sessions
     set revoked_at = now()
   where user_id = :id
     and created_at >= now()
     and revoked_at is null
)
update auth.users
   set deleted_at = now()
 where id = :id
   and deleted_at is null;

-- name: upsert_user_profile(user_id, bio, avatar_url)^
-- record_class: UserProfile
-- Create or replace the profile of a user.
insert into auth.user_profiles (user_id, bio, avatar_url)
values (:user_id, :bio, :avatar_url)
    on conflict (user_id) do update
   set bio = excluded.bio,
       avatar_url = excluded.avatar_url
returning id, user_id, bio, avatar_url, created_at, updated_at;

-- name: get_user_profile(user_id)^
-- record_class: UserProfile
-- The profile of a user, or None.
select id, user_id, bio, avatar_url, created_at, updated_at
  from auth.user_profiles
 where user_id = :user_id;

-- name: create_session(user_id, token_hash, expires_at, user_agent, ip_address)^
-- record_class: Session
-- Open a session for a sign-in.
-- optional: user_agent, ip_address
insert into auth.sessions (user_id, token_hash, expires_at, user_agent, ip_address)
values (:user_id, :token_hash, :expires_at, :user_agent, :ip_address)
returning id, user_id, token_hash, user_agent, ip_address, expires_at, revoked_at, last_used_at,
          created_at, updated_at;

-- name: get_active_session(token_hash)^
-- record_class: Session
-- A session that is neither expired nor revoked, and belongs to a live user.
select s.id, s.user_id, s.token_hash, s.user_agent, s.ip_address, s.expires_at, s.revoked_at,
       s.last_used_at, s.created_at, s.updated_at
  from auth.sessions s
  join auth.users u on u.id = s.user_id
  left join auth.session_revocations r on r.user_id = s.user_id
 where s.token_hash = :token_hash
   and s.revoked_at is null
   and s.expires_at > now()
   and u.deleted_at is null
   and s.created_at >= coalesce(r.revoked_before, '-infinity');

-- name: touch_session(token_hash)!
-- Record that an active session authenticated a request.
update auth.sessions s
   set last_used_at = now()
 where token_hash = :token_hash
   and revoked_at is null
   and expires_at > now()
   and not exists (select from auth.session_revocations r
                    where r.user_id = s.user_id and s.created_at < r.revoked_before);

-- name: list_user_sessions(user_id, limit, after_id)
-- record_class: Session
-- A user's active sessions, newest first (the "signed-in devices" screen).
-- A page at a time: at most limit rows (default 100, at most 1000), after the
-- row whose id is after_id (the last of the previous page).
-- optional: limit, after_id
-- plan: custom
select id, user_id, token_hash, user_agent, ip_address, expires_at, revoked_at, last_used_at,
       created_at, updated_at
  from auth.sessions
 where user_id = :user_id
   and revoked_at is null
   and expires_at > now()
   and created_at >= coalesce((select r.revoked_before from auth.session_revocations r where r.user_id = :user_id),
                              '-infinity')
   and (:after_id::uuid is null
        or (created_at, id) < (select k.created_at, k.id from auth.sessions k where k.id = :after_id::uuid))
 order by created_at desc, id desc
 limit coalesce(:limit::integer, 100);

-- name: revoke_session(token_hash)!
-- Sign out one session. Returns 1, or 0 when it was unknown or already revoked.
update auth.sessions s
   set revoked_at = now()
 where token_hash = :token_hash
   and revoked_at is null
   and not exists (select from auth.session_revocations r
                    where r.user_id = s.user_id and s.created_at < r.revoked_before);

-- name: revoke_user_sessions(user_id)$
-- Sign a user out everywhere; returns how many sessions were revoked (those
-- not revoked before, expired ones included). One statement that writes the
-- user's revocation mark, not every session: its cost is counting them.
-- not null: revoked
with marked as (
  insert into auth.session_revocations as r (user_id, revoked_before)
  select id, now() from auth.users where id = :user_id
      on conflict (user_id) do update
     set revoked_before = greatest(r.revoked_before, excluded.revoked_before)
), own as (
  update auth.sessions
     set revoked_at = now()
   where user_id = :user_id
     and created_at >= now()
     and revoked_at is null
)
select count(*) as revoked
  from auth.sessions
 where user_id = :user_id
   and revoked_at is null
   and created_at >= coalesce((select r.revoked_before from auth.session_revocations r where r.user_id = :user_id),
                              '-infinity');

-- name: create_password_reset(user_id, token_hash, expires_at)^
-- record_class: PasswordReset
-- Issue a password reset token.
insert into auth.password_resets (user_id, token_hash, expires_at)
values (:user_id, :token_hash, :expires_at)
returning id, user_id, token_hash, expires_at, used_at, created_at, updated_at;

-- name: consume_password_reset(token_hash)^
-- record_class: PasswordReset
-- Use a reset token, atomically: the first caller gets the row with used_at
-- set; an expired, used or unknown token gives None, also under concurrency.
update auth.password_resets
   set used_at = now()
 where token_hash = :token_hash
   and used_at is null
   and expires_at > now()
returning id, user_id, token_hash, expires_at, used_at, created_at, updated_at;

-- name: create_email_verification(user_id, email, token_hash, expires_at)^
-- record_class: EmailVerification
-- Issue a token proving ownership of email.
insert into auth.email_verifications (user_id, email, token_hash, expires_at)
values (:user_id, :email, :token_hash, :expires_at)
returning id, user_id, email, token_hash, expires_at, verified_at, created_at, updated_at;

-- name: consume_email_verification(token_hash)^
-- record_class: EmailVerification
-- Use a verification token once and mark the user's email verified, in one
-- statement. An expired, used or unknown token gives None.
with consumed as (
  update auth.email_verifications
     set verified_at = now()
   where token_hash = :token_hash
     and verified_at is null
     and expires_at > now()
  returning id, user_id, email, token_hash, expires_at, verified_at, created_at, updated_at
), verified as (
  update auth.users u
     set email_verified_at = c.verified_at
    from consumed c
   where u.id = c.user_id
     and lower(u.email) = lower(c.email)
     and u.deleted_at is null
)
select id, user_id, email, token_hash, expires_at, verified_at, created_at, updated_at
  from consumed;

-- name: link_oauth_account(user_id, provider, provider_account_id)^
-- record_class: OAuthAccount
-- Link an external identity to a user. Raises AlreadyExists
-- (oauth_accounts_provider_provider_account_id_key) if it is linked already.
insert into auth.oauth_accounts (user_id, provider, provider_account_id)
values (:user_id, :provider, :provider_account_id)
returning id, user_id, provider, provider_account_id, created_at, updated_at;

-- name: get_user_by_oauth(provider, provider_account_id)^
-- record_class: User
-- The live user behind an external identity.
select u.id, u.email, u.name, u.role, u.email_verified_at, u.last_login_at, u.created_at,
       u.updated_at, u.deleted_at
  from auth.oauth_accounts o
  join auth.users u on u.id = o.user_id
 where o.provider = :provider
   and o.provider_account_id = :provider_account_id
   and u.deleted_at is null;

-- name: delete_expired_tokens(batch_size)$
-- Housekeeping: delete the sessions that expired or were revoked, and the
-- reset and verification tokens that expired or were used, oldest first and
-- about batch_size (default 10,000) of each per call (every one up to the
-- batch_size-th oldest's time). Returns how many rows went; call it until it
-- returns 0. A session revoked by its user's mark (revoke_user_sessions) goes
-- when it expires.
-- optional: batch_size
-- not null: deleted
with sessions as (
  delete from auth.sessions
   where least(expires_at, revoked_at) <= coalesce(
           (select least(expires_at, revoked_at)
              from auth.sessions
             where least(expires_at, revoked_at) <= now()
             order by 1
            offset coalesce(:batch_size::integer, 10000) - 1
             limit 1),
           now())
  returning 1
), resets as (
  delete from auth.password_resets
   where least(expires_at, used_at) <= coalesce(
           (select least(expires_at, used_at)
              from auth.password_resets
             where least(expires_at, used_at) <= now()
             order by 1
            offset coalesce(:batch_size::integer, 10000) - 1
             limit 1),
           now())
  returning 1
), verifications as (
  delete from auth.email_verifications
   where least(expires_at, verified_at) <= coalesce(
           (select least(expires_at, verified_at)
              from auth.email_verifications
             where least(expires_at, verified_at) <= now()
             order by 1
            offset coalesce(:batch_size::integer, 10000) - 1
             limit 1),
           now())
  returning 1
)
select (select count(*) from sessions)
     + (select count(*) from resets)
     + (select count(*) from verifications) as deleted;
