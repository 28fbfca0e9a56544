-- migrate:up transaction:false
-- revoke_user_sessions counts the sessions its mark revokes: index-only on
-- this index (the heavy user's sessions sit on nearly as many heap pages
-- as they are rows: 1,235 pages for 3,750 sessions at --scale 0.05). It
-- names revoked_at, so revoke_session is not a HOT update; it was not one
-- before either (sessions_done_at_idx holds least(expires_at, revoked_at)).
create index concurrently if not exists sessions_unrevoked_idx on auth.sessions (user_id, created_at) where revoked_at is null;

-- migrate:down transaction:false
drop index concurrently if exists auth.sessions_unrevoked_idx;
