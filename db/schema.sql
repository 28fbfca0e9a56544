\restrict dbmate

-- Dumped from database version 18.6
-- Dumped by pg_dump version 18.6

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SELECT pg_catalog.set_config('transaction_timeout', '0', false) WHERE pg_catalog.current_setting('transaction_timeout', true) IS NOT NULL;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: activity; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA activity;


--
-- Name: SCHEMA activity; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA activity IS 'The user activity feed and raw analytics events; append-only. Owned by the activity service.';


--
-- Name: auth; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA auth;


--
-- Name: SCHEMA auth; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA auth IS 'Identity: accounts, profiles, sessions, OAuth links and one-time tokens. Owned by the auth service.';


--
-- Name: codezest; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA codezest;


--
-- Name: SCHEMA codezest; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA codezest IS 'Helpers for online schema changes, called by migrations and the partition jobs (docs/migrations.md, "Moving a big table online"). No service reads or writes it.';


--
-- Name: learning; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA learning;


--
-- Name: SCHEMA learning; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA learning IS 'The course catalogue, enrollments, progress, submissions, quizzes and their analyses. Owned by the learning service.';


--
-- Name: notifications; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA notifications;


--
-- Name: SCHEMA notifications; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA notifications IS 'In-app notifications, delivery preferences and the email audit log. Owned by the notifications service.';


--
-- Name: payments; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA payments;


--
-- Name: SCHEMA payments; Type: COMMENT; Schema: -; Owner: -
--

COMMENT ON SCHEMA payments IS 'Subscriptions, transactions, invoices and saved payment methods. Owned by the payments service.';


--
-- Name: Role; Type: TYPE; Schema: auth; Owner: -
--

CREATE TYPE auth."Role" AS ENUM (
    'STUDENT',
    'INSTRUCTOR',
    'ADMIN'
);


--
-- Name: TYPE "Role"; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TYPE auth."Role" IS 'What a user may do on the platform.';


--
-- Name: AnalysisType; Type: TYPE; Schema: learning; Owner: -
--

CREATE TYPE learning."AnalysisType" AS ENUM (
    'AI',
    'MANUAL',
    'HYBRID'
);


--
-- Name: TYPE "AnalysisType"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TYPE learning."AnalysisType" IS 'Who produced an analysis: an AI model, a human reviewer, or both.';


--
-- Name: Difficulty; Type: TYPE; Schema: learning; Owner: -
--

CREATE TYPE learning."Difficulty" AS ENUM (
    'BEGINNER',
    'INTERMEDIATE',
    'ADVANCED'
);


--
-- Name: TYPE "Difficulty"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TYPE learning."Difficulty" IS 'How hard a module or assignment is.';


--
-- Name: EnrollmentStatus; Type: TYPE; Schema: learning; Owner: -
--

CREATE TYPE learning."EnrollmentStatus" AS ENUM (
    'ACTIVE',
    'COMPLETED',
    'DROPPED'
);


--
-- Name: TYPE "EnrollmentStatus"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TYPE learning."EnrollmentStatus" IS 'State of a learner''s enrollment in a language track.';


--
-- Name: MaterialType; Type: TYPE; Schema: learning; Owner: -
--

CREATE TYPE learning."MaterialType" AS ENUM (
    'VIDEO',
    'ARTICLE',
    'CODE_EXAMPLE',
    'DOCUMENTATION'
);


--
-- Name: TYPE "MaterialType"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TYPE learning."MaterialType" IS 'The kind of a learning material.';


--
-- Name: ProgressStatus; Type: TYPE; Schema: learning; Owner: -
--

CREATE TYPE learning."ProgressStatus" AS ENUM (
    'NOT_STARTED',
    'IN_PROGRESS',
    'COMPLETED'
);


--
-- Name: TYPE "ProgressStatus"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TYPE learning."ProgressStatus" IS 'A learner''s progress through a module or material.';


--
-- Name: SubmissionStatus; Type: TYPE; Schema: learning; Owner: -
--

CREATE TYPE learning."SubmissionStatus" AS ENUM (
    'PENDING',
    'RUNNING',
    'PASSED',
    'FAILED',
    'ERROR'
);


--
-- Name: TYPE "SubmissionStatus"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TYPE learning."SubmissionStatus" IS 'Grading state of a submission: PENDING (queued), RUNNING, then PASSED, FAILED or ERROR (the grader itself failed).';


--
-- Name: InvoiceStatus; Type: TYPE; Schema: payments; Owner: -
--

CREATE TYPE payments."InvoiceStatus" AS ENUM (
    'DRAFT',
    'OPEN',
    'PAID',
    'VOID',
    'UNCOLLECTIBLE'
);


--
-- Name: TYPE "InvoiceStatus"; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TYPE payments."InvoiceStatus" IS 'Lifecycle of an invoice: DRAFT, OPEN (issued), then PAID, VOID or UNCOLLECTIBLE.';


--
-- Name: PaymentMethodType; Type: TYPE; Schema: payments; Owner: -
--

CREATE TYPE payments."PaymentMethodType" AS ENUM (
    'CARD',
    'UPI',
    'BANK_ACCOUNT',
    'WALLET'
);


--
-- Name: TYPE "PaymentMethodType"; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TYPE payments."PaymentMethodType" IS 'The kind of a saved payment method.';


--
-- Name: SubscriptionPlan; Type: TYPE; Schema: payments; Owner: -
--

CREATE TYPE payments."SubscriptionPlan" AS ENUM (
    'FREE',
    'PRO',
    'ENTERPRISE'
);


--
-- Name: TYPE "SubscriptionPlan"; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TYPE payments."SubscriptionPlan" IS 'The plan a subscription is on.';


--
-- Name: SubscriptionStatus; Type: TYPE; Schema: payments; Owner: -
--

CREATE TYPE payments."SubscriptionStatus" AS ENUM (
    'TRIALING',
    'ACTIVE',
    'PAST_DUE',
    'CANCELED',
    'EXPIRED'
);


--
-- Name: TYPE "SubscriptionStatus"; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TYPE payments."SubscriptionStatus" IS 'Billing state of a subscription; TRIALING and ACTIVE grant access.';


--
-- Name: TransactionStatus; Type: TYPE; Schema: payments; Owner: -
--

CREATE TYPE payments."TransactionStatus" AS ENUM (
    'PENDING',
    'SUCCEEDED',
    'FAILED',
    'REFUNDED'
);


--
-- Name: TYPE "TransactionStatus"; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TYPE payments."TransactionStatus" IS 'Outcome of a charge at the payment provider.';


--
-- Name: count_deleted_events(); Type: FUNCTION; Schema: activity; Owner: -
--

CREATE FUNCTION activity.count_deleted_events() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, -count(*)
    from old_events
   group by 1, 2;
  perform pg_advisory_xact_lock_shared(activity.user_event_rollup_lock());
  insert into activity.user_event_counts (user_id, day, name, count)
  select e.user_id, (e.occurred_at at time zone 'UTC')::date, e.name, -count(*)
    from old_events e, activity.user_event_rollup r, activity.event_retention k
   where e.user_id is not null
     and e.occurred_at < r.rolled_before
     and e.occurred_at >= k.kept_from
   group by 1, 2, 3;
  return null;
end
$$;


--
-- Name: count_inserted_events(); Type: FUNCTION; Schema: activity; Owner: -
--

CREATE FUNCTION activity.count_inserted_events() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  insert into activity.event_counts (day, name, count)
  select (occurred_at at time zone 'UTC')::date, name, count(*)
    from new_events
   group by 1, 2;
  perform pg_advisory_xact_lock_shared(activity.user_event_rollup_lock());
  insert into activity.user_event_counts (user_id, day, name, count)
  select e.user_id, (e.occurred_at at time zone 'UTC')::date, e.name, count(*)
    from new_events e, activity.user_event_rollup r, activity.event_retention k
   where e.user_id is not null
     and e.occurred_at < r.rolled_before
     and e.occurred_at >= k.kept_from
   group by 1, 2, 3;
  return null;
end
$$;


--
-- Name: count_updated_events(); Type: FUNCTION; Schema: activity; Owner: -
--

CREATE FUNCTION activity.count_updated_events() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  insert into activity.event_counts (day, name, count)
  select day, name, sum(n)
    from (select (occurred_at at time zone 'UTC')::date as day, name, -1 as n from old_events
          union all
          select (occurred_at at time zone 'UTC')::date, name, 1 from new_events) as changes
   group by 1, 2
  having sum(n) <> 0;
  perform pg_advisory_xact_lock_shared(activity.user_event_rollup_lock());
  insert into activity.user_event_counts (user_id, day, name, count)
  select user_id, day, name, sum(n)
    from (select e.user_id, (e.occurred_at at time zone 'UTC')::date as day, e.name, -1 as n
            from old_events e, activity.user_event_rollup r, activity.event_retention k
           where e.occurred_at < r.rolled_before
             and e.occurred_at >= k.kept_from
          union all
          select e.user_id, (e.occurred_at at time zone 'UTC')::date, e.name, 1
            from new_events e, activity.user_event_rollup r, activity.event_retention k
           where e.occurred_at < r.rolled_before
             and e.occurred_at >= k.kept_from) as changes
   where user_id is not null
   group by 1, 2, 3
  having sum(n) <> 0;
  return null;
end
$$;


--
-- Name: create_event_partitions(date, integer); Type: FUNCTION; Schema: activity; Owner: -
--

CREATE FUNCTION activity.create_event_partitions(first_month date, months integer) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
declare
  lo timestamptz;
  hi timestamptz;
  part text;
  rollup text;
  todo text[] := '{}';
  los timestamptz[] := '{}';
  his timestamptz[] := '{}';
  rtodo text[] := '{}';
  rlos date[] := '{}';
  rhis date[] := '{}';
begin
  if months is null or months < 0 or months > 120 then
    raise exception 'months must be between 0 and 120, got %', months using errcode = '22023';
  end if;
  for i in 0 .. months - 1 loop
    lo := (date_trunc('month', first_month) + make_interval(months => i))::timestamp at time zone 'UTC';
    hi := (date_trunc('month', first_month) + make_interval(months => i + 1))::timestamp at time zone 'UTC';
    part := 'analytics_events_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
    rollup := 'user_event_counts_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
    if to_regclass('activity.' || rollup) is null then
      execute format('create table activity.%I (like activity.user_event_counts including defaults including constraints)', rollup);
      -- The month's rollup rows leave the default partition under ROW EXCLUSIVE: services go on.
      execute format(
        'with moved as (delete from activity.user_event_counts_default where day >= $1 and day < $2 returning *)'
        ' insert into activity.%I select * from moved', rollup)
        using (lo at time zone 'UTC')::date, (hi at time zone 'UTC')::date;
      rtodo := rtodo || rollup;
      rlos := rlos || (lo at time zone 'UTC')::date;
      rhis := rhis || (hi at time zone 'UTC')::date;
    end if;
    continue when to_regclass('activity.' || part) is not null;
    execute format('create table activity.%I (like activity.analytics_events including defaults including constraints)', part);
    -- The month's rows leave the default partition under ROW EXCLUSIVE: services go on.
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', part) using lo, hi;
    todo := todo || part;
    los := los || lo;
    his := his || hi;
  end loop;
  if cardinality(todo) + cardinality(rtodo) = 0 then
    return 0;
  end if;
  -- Attaching scans a default partition under ACCESS EXCLUSIVE (readers of the
  -- parent wait): ask for it briefly, retrying; then move the rows that arrived
  -- meanwhile and attach.
  perform codezest.lock_tables(array['activity.analytics_events'::regclass,
                                     'activity.user_event_counts'::regclass], 'share update exclusive');
  perform codezest.lock_tables(array['activity.analytics_events_default'::regclass,
                                     'activity.user_event_counts_default'::regclass], 'access exclusive');
  for i in 1 .. cardinality(rtodo) loop
    execute format(
      'with moved as (delete from activity.user_event_counts_default where day >= $1 and day < $2 returning *)'
      ' insert into activity.%I select * from moved', rtodo[i]) using rlos[i], rhis[i];
    execute format('alter table activity.user_event_counts attach partition activity.%I for values from (%L) to (%L)',
                   rtodo[i], rlos[i], rhis[i]);
  end loop;
  for i in 1 .. cardinality(todo) loop
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', todo[i]) using los[i], his[i];
    execute format('alter table activity.analytics_events attach partition activity.%I for values from (%L) to (%L)',
                   todo[i], los[i], his[i]);
  end loop;
  return cardinality(todo);
end
$_$;


--
-- Name: FUNCTION create_event_partitions(first_month date, months integer); Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON FUNCTION activity.create_event_partitions(first_month date, months integer) IS 'Create the monthly partitions of analytics_events for months first_month .. first_month + months - 1 that do not exist yet (moving their rows out of the default partition); returns how many were created.';


--
-- Name: drop_event_partitions(timestamp with time zone); Type: FUNCTION; Schema: activity; Owner: -
--

CREATE FUNCTION activity.drop_event_partitions(before timestamp with time zone) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
declare
  rels regclass[];
  names text[];
  los timestamptz[];
  his timestamptz[];
  rollups regclass[] := '{}';
  found regclass;
begin
  -- The monthly partitions that end at or before before; never the default one
  -- (no bounds, so upper_bound is null).
  select coalesce(array_agg(rel order by lower_bound), '{}'), array_agg(relname::text order by lower_bound),
         array_agg(lower_bound order by lower_bound), array_agg(upper_bound order by lower_bound)
    into rels, names, los, his
    from (select c.oid::regclass as rel, c.relname, b[1]::timestamptz as lower_bound, b[2]::timestamptz as upper_bound
            from pg_inherits i
            join pg_class c on c.oid = i.inhrelid
           cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                           'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') as b
           where i.inhparent = 'activity.analytics_events'::regclass) as parts
   where upper_bound <= before;
  if cardinality(rels) = 0 then
    return 0;
  end if;
  for i in 1 .. cardinality(names) loop
    found := to_regclass('activity.' || replace(names[i], 'analytics_events_', 'user_event_counts_'));
    if found is not null then
      rollups := rollups || found;
    end if;
  end loop;
  -- Dropping a partition takes ACCESS EXCLUSIVE on its parent: every reader and
  -- writer of the events (and of the rollup) waits for it, so ask briefly, for
  -- all of them in one request, and retry (55P03 at the end).
  perform codezest.lock_tables(array['activity.analytics_events'::regclass] || rels
                               || case when cardinality(rollups) > 0
                                       then array['activity.user_event_counts'::regclass] || rollups
                                       else '{}'::regclass[] end,
                               'access exclusive');
  for i in 1 .. cardinality(rels) loop
    -- The rollups count stored events: forget the dropped days' counts too.
    delete from activity.event_counts
     where day >= (los[i] at time zone 'UTC')::date
       and day < (his[i] at time zone 'UTC')::date;
    execute format('drop table %s', rels[i]);
  end loop;
  foreach found in array rollups loop
    execute format('drop table %s', found);
  end loop;
  return cardinality(rels);
end
$$;


--
-- Name: FUNCTION drop_event_partitions(before timestamp with time zone); Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON FUNCTION activity.drop_event_partitions(before timestamp with time zone) IS 'Retention: drop every monthly partition of analytics_events that ends at or before before; returns how many were dropped.';


--
-- Name: roll_up_user_events(timestamp with time zone, integer); Type: FUNCTION; Schema: activity; Owner: -
--

CREATE FUNCTION activity.roll_up_user_events(before timestamp with time zone, batch_size integer) RETURNS bigint
    LANGUAGE plpgsql
    SET search_path TO 'pg_catalog', 'pg_temp'
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
declare
  lo timestamptz;
  hi timestamptz;
  deltas bigint;
  events bigint;
begin
  if batch_size is null or batch_size < 1 or batch_size > 100000 then
    raise exception 'batch_size must be between 1 and 100000, got %', batch_size using errcode = '22023';
  end if;
  if before is null then
    raise exception 'before must not be null' using errcode = '22004';
  end if;
  for attempt in 1 .. 50 loop
    exit when pg_try_advisory_xact_lock(activity.user_event_rollup_lock());
    if attempt = 50 then
      return 0;
    end if;
    perform pg_sleep(0.01);
  end loop;
  -- Each statement below takes its snapshot after the lock: every transaction
  -- whose trigger read the old rolled_before has committed by now.
  with last as (
    select user_id, day, name
      from activity.user_event_counts
     where not folded
     order by user_id, day, name
    offset batch_size - 1
     limit 1
  ), gone as (
    delete from activity.user_event_counts c
     where not c.folded
       and (not exists (select from last) or (c.user_id, c.day, c.name) <= (select l.user_id, l.day, l.name from last l))
    returning c.user_id, c.day, c.name, c.count
  ), summed as (
    insert into activity.user_event_counts as t (user_id, day, name, count, folded)
    select user_id, day, name, sum(count), true
      from gone
     group by 1, 2, 3
        on conflict (user_id, day, name) where folded do update
       set count = t.count + excluded.count
  )
  select count(*) into deltas from gone;

  select rolled_before into lo from activity.user_event_rollup for update;
  select occurred_at + interval '1 microsecond' into hi
    from activity.analytics_events
   where occurred_at >= lo
     and occurred_at < before
   order by occurred_at
  offset batch_size - 1
   limit 1;
  hi := least(coalesce(hi, before), before);
  if hi <= lo then
    return deltas;
  end if;
  with batch as (
    select user_id, (occurred_at at time zone 'UTC')::date as day, name, count(*) as n
      from activity.analytics_events
     where occurred_at >= lo
       and occurred_at < hi
     group by 1, 2, 3
  ), added as (
    insert into activity.user_event_counts as t (user_id, day, name, count, folded)
    select user_id, day, name, n, true
      from batch
     where user_id is not null
        on conflict (user_id, day, name) where folded do update
       set count = t.count + excluded.count
  )
  select coalesce(sum(n), 0) into events from batch;
  update activity.user_event_rollup set rolled_before = hi;
  return deltas + events;
end
$$;


--
-- Name: FUNCTION roll_up_user_events(before timestamp with time zone, batch_size integer); Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON FUNCTION activity.roll_up_user_events(before timestamp with time zone, batch_size integer) IS 'Job: fold a batch of user_event_counts deltas and add the next batch of events before before to the per-user rollup; returns how many deltas and events it took.';


--
-- Name: user_event_rollup_lock(); Type: FUNCTION; Schema: activity; Owner: -
--

CREATE FUNCTION activity.user_event_rollup_lock() RETURNS bigint
    LANGUAGE sql IMMUTABLE
    AS $$ select 7232021174036 $$;


--
-- Name: set_updated_at(); Type: FUNCTION; Schema: auth; Owner: -
--

CREATE FUNCTION auth.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;


--
-- Name: FUNCTION set_updated_at(); Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON FUNCTION auth.set_updated_at() IS 'Trigger function: keeps updated_at current on every update.';


--
-- Name: copy_changes(); Type: FUNCTION; Schema: codezest; Owner: -
--

CREATE FUNCTION codezest.copy_changes() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  target text := tg_argv[0];
  keys text := tg_argv[1];
  cols text := tg_argv[2];
  sets text := tg_argv[3];
begin
  if tg_op in ('DELETE', 'UPDATE') then
    execute format('delete from %s t using old_rows o where (%s) = (%s)', target,
                   (select string_agg('t.' || k, ', ') from unnest(string_to_array(keys, ',')) as k),
                   (select string_agg('o.' || k, ', ') from unnest(string_to_array(keys, ',')) as k));
  end if;
  if tg_op in ('INSERT', 'UPDATE') then
    execute format('insert into %s (%s) select %s from new_rows on conflict (%s) do update set %s',
                   target, cols, cols, keys, sets);
  end if;
  return null;
end
$$;


--
-- Name: FUNCTION copy_changes(); Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON FUNCTION codezest.copy_changes() IS 'Statement trigger of an online table move: applies the statement''s rows to the target (arguments: target, key columns, columns, set list).';


--
-- Name: copy_table_batch(uuid, integer); Type: FUNCTION; Schema: codezest; Owner: -
--

CREATE FUNCTION codezest.copy_table_batch(move uuid, batch_size integer) RETURNS bigint
    LANGUAGE plpgsql
    AS $_$
declare
  m codezest.table_moves;
  keys text;
  after text := '';
  n bigint;
  last jsonb;
begin
  select * into m from codezest.table_moves where id = move for update;
  keys := array_to_string(m.key_columns, ', ');
  if m.last_key is not null then
    -- (k1, k2) > ($1->>'k1')::type1, ...): a row comparison the key's index can start from.
    select format('where (%s) > (%s)', keys,
                  string_agg(format('($1->>%L)::%s', a.attname, format_type(a.atttypid, a.atttypmod)), ', '
                             order by k.ord))
      into after
      from unnest(m.key_columns) with ordinality as k(name, ord)
      join pg_attribute a on a.attrelid = m.source and quote_ident(a.attname) = k.name;
  end if;
  execute format(
    'with batch as (select %s from %s %s order by %s limit $2 for key share),'
    ' copied as (insert into %s (%s) select %s from batch on conflict (%s) do nothing)'
    ' select count(*), (select to_jsonb(codezest_last) from (select %s from batch order by %s limit 1) codezest_last) from batch',
    array_to_string(m.columns, ', '), m.source, after, keys,
    m.target, array_to_string(m.columns, ', '), array_to_string(m.columns, ', '), keys,
    keys, (select string_agg(k || ' desc', ', ') from unnest(m.key_columns) as k))
    into n, last using m.last_key, batch_size;
  update codezest.table_moves
     set last_key = coalesce(last, last_key), copied = copied + n,
         copied_at = case when n < batch_size then now() end
   where id = move;
  return n;
end
$_$;


--
-- Name: FUNCTION copy_table_batch(move uuid, batch_size integer); Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON FUNCTION codezest.copy_table_batch(move uuid, batch_size integer) IS 'One batch of codezest.copy_table_rows; returns how many rows it copied.';


--
-- Name: copy_table_rows(regclass, integer, interval); Type: PROCEDURE; Schema: codezest; Owner: -
--

CREATE PROCEDURE codezest.copy_table_rows(IN source regclass, IN batch_size integer DEFAULT 5000, IN pause interval DEFAULT '00:00:00'::interval)
    LANGUAGE plpgsql
    AS $$
declare
  move uuid;
  n bigint;
begin
  if batch_size is null or batch_size < 1 then
    raise exception 'codezest.copy_table_rows: batch_size must be at least 1, got %', batch_size using errcode = '22023';
  end if;
  select id into move from codezest.table_moves where table_moves.source = copy_table_rows.source and finished_at is null;
  if move is null then
    raise exception 'codezest.copy_table_rows: no move of % started (codezest.start_table_move)', source
      using errcode = '22023';
  end if;
  loop
    n := codezest.copy_table_batch(move, batch_size);
    commit;
    exit when n < batch_size;
    perform pg_sleep(extract(epoch from pause));
  end loop;
end
$$;


--
-- Name: PROCEDURE copy_table_rows(IN source regclass, IN batch_size integer, IN pause interval); Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON PROCEDURE codezest.copy_table_rows(IN source regclass, IN batch_size integer, IN pause interval) IS 'Step 2 of an online move: copy the rows of source into the target in batches of batch_size, one transaction each (run it with CALL outside a transaction block: a transaction:false migration), resuming after the last batch copied.';


--
-- Name: finish_table_move(regclass, text); Type: FUNCTION; Schema: codezest; Owner: -
--

CREATE FUNCTION codezest.finish_table_move(source regclass, old_name text DEFAULT NULL::text) RETURNS regclass
    LANGUAGE plpgsql
    AS $$
declare
  m codezest.table_moves;
  source_name text;
  target_name text;
  old text;
begin
  select * into m from codezest.table_moves
   where table_moves.source = finish_table_move.source and finished_at is null for update;
  if m.id is null then
    raise exception 'codezest.finish_table_move: no move of % started', source using errcode = '22023';
  end if;
  if m.copied_at is null then
    raise exception 'codezest.finish_table_move: the rows of % are not all copied yet (call codezest.copy_table_rows)',
      source using errcode = '55000';
  end if;
  select c.relname into source_name from pg_class c where c.oid = m.source;
  select c.relname into target_name from pg_class c where c.oid = m.target;
  if (select relnamespace from pg_class where oid = m.source) <> (select relnamespace from pg_class where oid = m.target) then
    raise exception 'codezest.finish_table_move: % and % are in different schemas', m.source, m.target
      using errcode = '22023';
  end if;
  old := coalesce(old_name, source_name || '_old');
  -- The only lock any service waits for: held from here to the commit, a few milliseconds.
  perform codezest.lock_tables(array[m.source, m.target], 'access exclusive');
  execute format('drop trigger codezest_move_insert on %s', m.source);
  execute format('drop trigger codezest_move_update on %s', m.source);
  execute format('drop trigger codezest_move_delete on %s', m.source);
  execute format('alter table %s rename to %I', m.source, old);
  execute format('alter table %s rename to %I', m.target, source_name);
  update codezest.table_moves set finished_at = now() where id = m.id;
  return m.target;
end
$$;


--
-- Name: FUNCTION finish_table_move(source regclass, old_name text); Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON FUNCTION codezest.finish_table_move(source regclass, old_name text) IS 'Step 3 of an online move: under a short ACCESS EXCLUSIVE lock on both (codezest.lock_tables), stop copying changes, rename source to old_name (default <name>_old) and the target to source''s name. Returns the moved table. Statements after it in the same transaction (triggers, grants, dropping the old table) run under the same lock.';


--
-- Name: lock_tables(regclass[], text, interval, integer, boolean); Type: FUNCTION; Schema: codezest; Owner: -
--

CREATE FUNCTION codezest.lock_tables(tables regclass[], mode text DEFAULT 'access exclusive'::text, lock_timeout interval DEFAULT NULL::interval, attempts integer DEFAULT NULL::integer, with_partitions boolean DEFAULT false) RETURNS void
    LANGUAGE plpgsql
    SET lock_timeout TO '1s'
    AS $$
declare
  wait interval := coalesce(lock_timeout,
                            nullif(current_setting('codezest.lock_timeout', true), '')::interval,
                            interval '1 second');
  tries integer := coalesce(attempts,
                            nullif(current_setting('codezest.lock_attempts', true), '')::integer, 5);
  names text;
  holder text;
  waited text;
begin
  if lower(mode) not in ('access share', 'row share', 'row exclusive', 'share update exclusive',
                         'share', 'share row exclusive', 'exclusive', 'access exclusive') then
    raise exception 'codezest.lock_tables: % is not a lock mode', mode using errcode = '22023';
  end if;
  if wait <= interval '0' or tries < 1 or tries > 100 then
    raise exception 'codezest.lock_tables: lock_timeout must be above 0 and attempts 1 to 100, got % and %',
      wait, tries using errcode = '22023';
  end if;
  if coalesce(cardinality(tables), 0) = 0 then
    return;
  end if;
  select string_agg(case when with_partitions then '' else 'only ' end || t::text, ', ')
    into names from unnest(tables) as t;
  waited := (ceil(extract(epoch from wait) * 1000))::bigint || 'ms';
  perform set_config('lock_timeout', waited, true);
  for attempt in 1 .. tries loop
    begin
      execute format('lock table %s in %s mode', names, lower(mode));
      return;
    exception when lock_not_available then
      -- The failed request is gone (its subtransaction rolled back): nobody waits on us while we pause.
      -- The oldest transactions first: a long report, rather than a writer that was passing by.
      select string_agg(format('pid %s (%s, user %s, %s for %ss: %s)', a.pid,
                               coalesce(nullif(a.application_name, ''), 'no application_name'),
                               a.usename, a.state, extract(epoch from now() - a.started)::int,
                               left(regexp_replace(a.query, '\s+', ' ', 'g'), 60)), '; ' order by a.started)
        into holder
        from (select s.pid, s.application_name, s.usename, s.state, s.query,
                     coalesce(s.xact_start, s.query_start) as started
                from pg_stat_activity s
               where s.pid in (select l.pid from pg_locks l
                                where l.granted and l.pid <> pg_backend_pid() and l.relation = any(tables::oid[]))
               order by started
               limit 2) as a;
      if attempt = tries then
        raise exception 'gave up after % attempts of % to lock %, held by %',
          tries, waited, array_to_string(tables::text[], ', '), coalesce(holder, 'a session that has let go since')
          using errcode = '55P03', detail = format('Lock mode: %s.', lower(mode)),
                hint = 'Try again later, or end the session that holds the lock.';
      end if;
      raise notice 'waited % for % mode on %, held by %; attempt % of %',
        waited, lower(mode), array_to_string(tables::text[], ', '), coalesce(holder, 'a session that has let go since'),
        attempt + 1, tries;
      perform pg_sleep(least(0.1 * 2 ^ (attempt - 1), 5));
    end;
  end loop;
end
$$;


--
-- Name: FUNCTION lock_tables(tables regclass[], mode text, lock_timeout interval, attempts integer, with_partitions boolean); Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON FUNCTION codezest.lock_tables(tables regclass[], mode text, lock_timeout interval, attempts integer, with_partitions boolean) IS 'Lock tables (only the named ones unless with_partitions) in mode, waiting at most lock_timeout (else $codezest.lock_timeout, else 1 s) per attempt, up to attempts (else $codezest.lock_attempts, else 5) attempts with a pause of 0.1 s, 0.2 s, 0.4 s, ... between; then raises 55P03 (lock_not_available) naming the holders.';


--
-- Name: start_table_move(regclass, regclass); Type: FUNCTION; Schema: codezest; Owner: -
--

CREATE FUNCTION codezest.start_table_move(source regclass, target regclass) RETURNS uuid
    LANGUAGE plpgsql
    AS $$
declare
  keys text[];
  cols text[];
  move uuid;
  args text;
begin
  -- The key: the source's primary key, which the target must hold unique too (ON CONFLICT).
  select array_agg(quote_ident(a.attname) order by k.ord)
    into keys
    from pg_constraint c
   cross join lateral unnest(c.conkey) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
   where c.conrelid = source and c.contype = 'p';
  if keys is null then
    raise exception 'codezest.start_table_move: % has no primary key to copy by', source using errcode = '22023';
  end if;
  if not exists (
    select from pg_index i
     where i.indrelid = target and i.indisunique and i.indpred is null and i.indexprs is null
       and (select array_agg(quote_ident(a.attname) order by a.attname)
              from pg_attribute a where a.attrelid = target and a.attnum = any(i.indkey))
           = (select array_agg(k order by k) from unnest(keys) as k)
       and cardinality(i.indkey::int2[]) = cardinality(keys)) then
    raise exception 'codezest.start_table_move: % needs a unique key on (%), the primary key of %',
      target, array_to_string(keys, ', '), source using errcode = '22023';
  end if;
  -- The columns both have (by name); the target's others take their defaults.
  select array_agg(quote_ident(t.attname) order by t.attnum)
    into cols
    from pg_attribute t
    join pg_attribute s on s.attrelid = source and s.attname = t.attname and s.attnum > 0 and not s.attisdropped
   where t.attrelid = target and t.attnum > 0 and not t.attisdropped and t.attgenerated = '';
  insert into codezest.table_moves (source, target, key_columns, columns)
  values (source, target, keys, cols)
  returning id into move;
  args := format('%L, %L, %L, %L', target::text, array_to_string(keys, ','), array_to_string(cols, ', '),
                 (select string_agg(format('%s = excluded.%s', c, c), ', ') from unnest(cols) as c));
  -- Creating the triggers takes SHARE ROW EXCLUSIVE (writers wait): ask for it briefly.
  perform codezest.lock_tables(array[source], 'share row exclusive', with_partitions => true);
  execute format('create trigger codezest_move_insert after insert on %s referencing new table as new_rows'
                 ' for each statement execute function codezest.copy_changes(%s)', source, args);
  execute format('create trigger codezest_move_update after update on %s referencing old table as old_rows'
                 ' new table as new_rows for each statement execute function codezest.copy_changes(%s)', source, args);
  execute format('create trigger codezest_move_delete after delete on %s referencing old table as old_rows'
                 ' for each statement execute function codezest.copy_changes(%s)', source, args);
  return move;
end
$$;


--
-- Name: FUNCTION start_table_move(source regclass, target regclass); Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON FUNCTION codezest.start_table_move(source regclass, target regclass) IS 'Step 1 of an online move of source into target (created empty beforehand, with a unique key on source''s primary key): from now on every change to source is copied to target in the same transaction. Returns the move''s id in codezest.table_moves.';


--
-- Name: set_updated_at(); Type: FUNCTION; Schema: learning; Owner: -
--

CREATE FUNCTION learning.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;


--
-- Name: FUNCTION set_updated_at(); Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON FUNCTION learning.set_updated_at() IS 'Trigger function: keeps updated_at current on every update.';


--
-- Name: set_updated_at(); Type: FUNCTION; Schema: notifications; Owner: -
--

CREATE FUNCTION notifications.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;


--
-- Name: FUNCTION set_updated_at(); Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON FUNCTION notifications.set_updated_at() IS 'Trigger function: keeps updated_at current on every update.';


--
-- Name: set_updated_at(); Type: FUNCTION; Schema: payments; Owner: -
--

CREATE FUNCTION payments.set_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
begin
  -- A no-op update (a replayed webhook, an idempotent upsert) keeps its timestamp.
  if new is distinct from old then
    new.updated_at := now();
  end if;
  return new;
end;
$$;


--
-- Name: FUNCTION set_updated_at(); Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON FUNCTION payments.set_updated_at() IS 'Trigger function: keeps updated_at current on every update.';


SET default_tablespace = '';

--
-- Name: analytics_events; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.analytics_events (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    name text NOT NULL,
    user_id uuid,
    properties jsonb DEFAULT '{}'::jsonb NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT analytics_events_name_check CHECK ((name <> ''::text)),
    CONSTRAINT analytics_events_properties_check CHECK ((jsonb_typeof(properties) = 'object'::text))
)
PARTITION BY RANGE (occurred_at);


--
-- Name: TABLE analytics_events; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON TABLE activity.analytics_events IS 'Raw product analytics events, bulk-ingested with COPY. Append-only. Partitioned by month of occurred_at (analytics_events_pYYYY_MM, plus analytics_events_default for months without a partition); primary key (id, occurred_at) because a partitioned table''s key must hold its partition key.';


--
-- Name: COLUMN analytics_events.name; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.analytics_events.name IS 'Event name, e.g. page_view or quiz_started.';


--
-- Name: COLUMN analytics_events.user_id; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.analytics_events.user_id IS 'auth.users.id of the actor, null for anonymous events (no foreign key: another service''s schema).';


--
-- Name: COLUMN analytics_events.properties; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.analytics_events.properties IS 'Event properties (JSON object).';


--
-- Name: COLUMN analytics_events.occurred_at; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.analytics_events.occurred_at IS 'When the event happened at the client; created_at is when it was stored. The partition key.';


SET default_table_access_method = heap;

--
-- Name: analytics_events_default; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.analytics_events_default (
    id uuid DEFAULT gen_random_uuid() CONSTRAINT analytics_events_id_not_null NOT NULL,
    name text CONSTRAINT analytics_events_name_not_null NOT NULL,
    user_id uuid,
    properties jsonb DEFAULT '{}'::jsonb CONSTRAINT analytics_events_properties_not_null NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() CONSTRAINT analytics_events_occurred_at_not_null NOT NULL,
    created_at timestamp with time zone DEFAULT now() CONSTRAINT analytics_events_created_at_not_null NOT NULL,
    CONSTRAINT analytics_events_name_check CHECK ((name <> ''::text)),
    CONSTRAINT analytics_events_properties_check CHECK ((jsonb_typeof(properties) = 'object'::text))
);


--
-- Name: TABLE analytics_events_default; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON TABLE activity.analytics_events_default IS 'Events of months without their own partition; create_event_partitions moves them out.';


--
-- Name: analytics_events_p2026_12; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.analytics_events_p2026_12 (
    id uuid DEFAULT gen_random_uuid() CONSTRAINT analytics_events_id_not_null NOT NULL,
    name text CONSTRAINT analytics_events_name_not_null NOT NULL,
    user_id uuid,
    properties jsonb DEFAULT '{}'::jsonb CONSTRAINT analytics_events_properties_not_null NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() CONSTRAINT analytics_events_occurred_at_not_null NOT NULL,
    created_at timestamp with time zone DEFAULT now() CONSTRAINT analytics_events_created_at_not_null NOT NULL,
    CONSTRAINT analytics_events_name_check CHECK ((name <> ''::text)),
    CONSTRAINT analytics_events_properties_check CHECK ((jsonb_typeof(properties) = 'object'::text))
);


--
-- Name: analytics_events_p2027_01; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.analytics_events_p2027_01 (
    id uuid DEFAULT gen_random_uuid() CONSTRAINT analytics_events_id_not_null NOT NULL,
    name text CONSTRAINT analytics_events_name_not_null NOT NULL,
    user_id uuid,
    properties jsonb DEFAULT '{}'::jsonb CONSTRAINT analytics_events_properties_not_null NOT NULL,
    occurred_at timestamp with time zone DEFAULT now() CONSTRAINT analytics_events_occurred_at_not_null NOT NULL,
    created_at timestamp with time zone DEFAULT now() CONSTRAINT analytics_events_created_at_not_null NOT NULL,
    CONSTRAINT analytics_events_name_check CHECK ((name <> ''::text)),
    CONSTRAINT analytics_events_properties_check CHECK ((jsonb_typeof(properties) = 'object'::text))
);


--
-- Name: event_counts; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.event_counts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    day date NOT NULL,
    name text NOT NULL,
    count bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    folded boolean DEFAULT false NOT NULL
);


--
-- Name: TABLE event_counts; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON TABLE activity.event_counts IS 'Rollup of analytics_events: events per UTC day and name, as deltas summed by count_events_by_day. Kept by triggers; dropping partitions (drop_event_partitions) removes their days.';


--
-- Name: COLUMN event_counts.day; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.event_counts.day IS 'The UTC day of occurred_at.';


--
-- Name: COLUMN event_counts.count; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.event_counts.count IS 'Events added (or, negative, deleted) for that day and name by one statement, or the sum after compaction.';


--
-- Name: COLUMN event_counts.folded; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.event_counts.folded IS 'true: a row compact_event_counts wrote (the sum of the deltas it folded); false: a delta written by a trigger.';


--
-- Name: event_retention; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.event_retention (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    kept_from timestamp with time zone DEFAULT '-infinity'::timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE event_retention; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON TABLE activity.event_retention IS 'One row: the retention horizon of analytics_events (delete_events_before advances it).';


--
-- Name: COLUMN event_retention.kept_from; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.event_retention.kept_from IS 'Events that occurred before it are deleted or being deleted; the per-user rollup does not count them.';


--
-- Name: user_activities; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.user_activities (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    type text NOT NULL,
    entity_type text,
    entity_id uuid,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT user_activities_entity_check CHECK (((entity_id IS NULL) OR (entity_type IS NOT NULL))),
    CONSTRAINT user_activities_metadata_check CHECK ((jsonb_typeof(metadata) = 'object'::text)),
    CONSTRAINT user_activities_type_check CHECK ((type <> ''::text))
);


--
-- Name: TABLE user_activities; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON TABLE activity.user_activities IS 'What a user did, newest first per user (index user_activities_user_id_created_at_idx). Append-only.';


--
-- Name: COLUMN user_activities.user_id; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.user_activities.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN user_activities.type; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.user_activities.type IS 'Dotted action key, e.g. module.completed or submission.created.';


--
-- Name: COLUMN user_activities.entity_type; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.user_activities.entity_type IS 'Kind of the thing acted on, e.g. module or assignment; required when entity_id is set.';


--
-- Name: COLUMN user_activities.entity_id; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.user_activities.entity_id IS 'Id of the thing acted on, in the schema of its owning service (no foreign key).';


--
-- Name: COLUMN user_activities.metadata; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.user_activities.metadata IS 'Extra details of the action (JSON object).';


--
-- Name: user_event_counts; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.user_event_counts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    day date NOT NULL,
    name text NOT NULL,
    count bigint NOT NULL,
    folded boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
)
PARTITION BY RANGE (day);


--
-- Name: TABLE user_event_counts; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON TABLE activity.user_event_counts IS 'Per-user rollup of analytics_events before user_event_rollup.rolled_before: events per user, UTC day and name, as one folded row per key plus deltas; summed by count_user_events_by_day. Partitioned by month of day like analytics_events.';


--
-- Name: COLUMN user_event_counts.folded; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON COLUMN activity.user_event_counts.folded IS 'true: the one row per key that roll_up_user_events writes and folds deltas into; false: a delta written by a trigger.';


--
-- Name: user_event_counts_default; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.user_event_counts_default (
    id uuid DEFAULT gen_random_uuid() CONSTRAINT user_event_counts_id_not_null NOT NULL,
    user_id uuid CONSTRAINT user_event_counts_user_id_not_null NOT NULL,
    day date CONSTRAINT user_event_counts_day_not_null NOT NULL,
    name text CONSTRAINT user_event_counts_name_not_null NOT NULL,
    count bigint CONSTRAINT user_event_counts_count_not_null NOT NULL,
    folded boolean DEFAULT false CONSTRAINT user_event_counts_folded_not_null NOT NULL,
    created_at timestamp with time zone DEFAULT now() CONSTRAINT user_event_counts_created_at_not_null NOT NULL
);


--
-- Name: user_event_counts_p2026_12; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.user_event_counts_p2026_12 (
    id uuid DEFAULT gen_random_uuid() CONSTRAINT user_event_counts_id_not_null NOT NULL,
    user_id uuid CONSTRAINT user_event_counts_user_id_not_null NOT NULL,
    day date CONSTRAINT user_event_counts_day_not_null NOT NULL,
    name text CONSTRAINT user_event_counts_name_not_null NOT NULL,
    count bigint CONSTRAINT user_event_counts_count_not_null NOT NULL,
    folded boolean DEFAULT false CONSTRAINT user_event_counts_folded_not_null NOT NULL,
    created_at timestamp with time zone DEFAULT now() CONSTRAINT user_event_counts_created_at_not_null NOT NULL
);


--
-- Name: user_event_counts_p2027_01; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.user_event_counts_p2027_01 (
    id uuid DEFAULT gen_random_uuid() CONSTRAINT user_event_counts_id_not_null NOT NULL,
    user_id uuid CONSTRAINT user_event_counts_user_id_not_null NOT NULL,
    day date CONSTRAINT user_event_counts_day_not_null NOT NULL,
    name text CONSTRAINT user_event_counts_name_not_null NOT NULL,
    count bigint CONSTRAINT user_event_counts_count_not_null NOT NULL,
    folded boolean DEFAULT false CONSTRAINT user_event_counts_folded_not_null NOT NULL,
    created_at timestamp with time zone DEFAULT now() CONSTRAINT user_event_counts_created_at_not_null NOT NULL
);


--
-- Name: user_event_rollup; Type: TABLE; Schema: activity; Owner: -
--

CREATE TABLE activity.user_event_rollup (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    rolled_before timestamp with time zone DEFAULT '-infinity'::timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE user_event_rollup; Type: COMMENT; Schema: activity; Owner: -
--

COMMENT ON TABLE activity.user_event_rollup IS 'One row: activity.user_event_counts counts every event that occurred before rolled_before (roll_up_user_events advances it).';


--
-- Name: email_verifications; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.email_verifications (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    email text NOT NULL,
    token_hash text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    verified_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT email_verifications_email_check CHECK (((char_length(email) <= 254) AND (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text))),
    CONSTRAINT email_verifications_token_hash_check CHECK ((token_hash <> ''::text))
);


--
-- Name: TABLE email_verifications; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.email_verifications IS 'One-time tokens proving that a user owns an email address.';


--
-- Name: COLUMN email_verifications.email; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.email_verifications.email IS 'The address being verified (may differ from the user''s current email during a change).';


--
-- Name: COLUMN email_verifications.token_hash; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.email_verifications.token_hash IS 'Hash of the verification token; the token itself is never stored.';


--
-- Name: COLUMN email_verifications.verified_at; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.email_verifications.verified_at IS 'When the token was consumed; a token is used at most once.';


--
-- Name: oauth_accounts; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.oauth_accounts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    provider text NOT NULL,
    provider_account_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT oauth_accounts_provider_account_id_check CHECK ((provider_account_id <> ''::text)),
    CONSTRAINT oauth_accounts_provider_check CHECK ((provider <> ''::text))
);


--
-- Name: TABLE oauth_accounts; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.oauth_accounts IS 'External identities (GitHub, Google, ...) linked to a user; each external account links to one user.';


--
-- Name: COLUMN oauth_accounts.provider; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.oauth_accounts.provider IS 'Identity provider key, e.g. github or google.';


--
-- Name: COLUMN oauth_accounts.provider_account_id; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.oauth_accounts.provider_account_id IS 'The user''s stable id at the provider.';


--
-- Name: password_resets; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.password_resets (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    token_hash text NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT password_resets_token_hash_check CHECK ((token_hash <> ''::text))
);


--
-- Name: TABLE password_resets; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.password_resets IS 'One-time password reset tokens; valid while unused and unexpired.';


--
-- Name: COLUMN password_resets.token_hash; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.password_resets.token_hash IS 'Hash of the reset token; the token itself is never stored.';


--
-- Name: COLUMN password_resets.used_at; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.password_resets.used_at IS 'When the token was consumed; a token is used at most once.';


--
-- Name: session_revocations; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.session_revocations (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    revoked_before timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE session_revocations; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.session_revocations IS 'Per-user sign-out-everywhere mark: every session of the user created before revoked_before is revoked, whatever its revoked_at (revoke_user_sessions, soft_delete_user, update_password_hash).';


--
-- Name: COLUMN session_revocations.revoked_before; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.session_revocations.revoked_before IS 'Sessions created strictly before this time are revoked; it only moves forward.';


--
-- Name: sessions; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.sessions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    token_hash text NOT NULL,
    user_agent text,
    ip_address inet,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT sessions_token_hash_check CHECK ((token_hash <> ''::text))
)
WITH (fillfactor='90');


--
-- Name: TABLE sessions; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.sessions IS 'Sign-in sessions. A session is active while expires_at is in the future and revoked_at is null.';


--
-- Name: COLUMN sessions.token_hash; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.sessions.token_hash IS 'Hash of the session token; the token itself is never stored.';


--
-- Name: COLUMN sessions.ip_address; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.sessions.ip_address IS 'Client address when the session was created.';


--
-- Name: COLUMN sessions.revoked_at; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.sessions.revoked_at IS 'Set on sign-out or forced revocation; a revoked session is never valid again.';


--
-- Name: COLUMN sessions.last_used_at; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.sessions.last_used_at IS 'Latest time the session authenticated a request.';


--
-- Name: user_profiles; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.user_profiles (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    bio text,
    avatar_url text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE user_profiles; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.user_profiles IS 'Optional public profile of a user, at most one per user (user_profiles_user_id_key).';


--
-- Name: COLUMN user_profiles.avatar_url; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.user_profiles.avatar_url IS 'Absolute URL of the avatar image.';


--
-- Name: users; Type: TABLE; Schema: auth; Owner: -
--

CREATE TABLE auth.users (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    email text NOT NULL,
    password_hash text,
    name text NOT NULL,
    role auth."Role" DEFAULT 'STUDENT'::auth."Role" NOT NULL,
    email_verified_at timestamp with time zone,
    last_login_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT users_email_check CHECK (((char_length(email) <= 254) AND (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text))),
    CONSTRAINT users_name_check CHECK ((char_length(name) <= 200)),
    CONSTRAINT users_password_hash_check CHECK ((password_hash <> ''::text))
)
WITH (fillfactor='90');


--
-- Name: TABLE users; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON TABLE auth.users IS 'One row per account. Soft-deleted rows (deleted_at set) are invisible to ordinary queries.';


--
-- Name: COLUMN users.email; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.users.email IS 'Login email as entered; unique case-insensitively among non-deleted users (index users_email_key).';


--
-- Name: COLUMN users.password_hash; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.users.password_hash IS 'Password hash computed by the auth service; null for accounts that only sign in through OAuth.';


--
-- Name: COLUMN users.email_verified_at; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.users.email_verified_at IS 'When the user proved ownership of email; null while unverified.';


--
-- Name: COLUMN users.last_login_at; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.users.last_login_at IS 'Time of the latest successful sign-in.';


--
-- Name: COLUMN users.deleted_at; Type: COMMENT; Schema: auth; Owner: -
--

COMMENT ON COLUMN auth.users.deleted_at IS 'Soft delete: set when the account is closed; the email becomes free again.';


--
-- Name: table_moves; Type: TABLE; Schema: codezest; Owner: -
--

CREATE TABLE codezest.table_moves (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    source regclass NOT NULL,
    target regclass NOT NULL,
    key_columns text[] NOT NULL,
    columns text[] NOT NULL,
    last_key jsonb,
    copied bigint DEFAULT 0 NOT NULL,
    copied_at timestamp with time zone,
    finished_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE table_moves; Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON TABLE codezest.table_moves IS 'Online table moves (codezest.start_table_move): which rows are copied so far, so that a copy that stopped resumes where it was.';


--
-- Name: COLUMN table_moves.last_key; Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON COLUMN codezest.table_moves.last_key IS 'The key (key_columns of source, as JSON) of the last row copied; null before the first batch.';


--
-- Name: COLUMN table_moves.copied_at; Type: COMMENT; Schema: codezest; Owner: -
--

COMMENT ON COLUMN codezest.table_moves.copied_at IS 'When copy_table_rows copied the last batch; finish_table_move refuses to swap before.';


--
-- Name: assignment_analyses; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.assignment_analyses (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    submission_id uuid NOT NULL,
    type learning."AnalysisType" NOT NULL,
    summary text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    score numeric(5,2),
    ai_model text,
    reviewer_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT assignment_analyses_details_check CHECK ((jsonb_typeof(details) = 'object'::text)),
    CONSTRAINT assignment_analyses_score_check CHECK (((score >= (0)::numeric) AND (score <= (100)::numeric)))
);


--
-- Name: TABLE assignment_analyses; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.assignment_analyses IS 'Code review of a submission by an AI model, a human reviewer, or both.';


--
-- Name: COLUMN assignment_analyses.summary; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_analyses.summary IS 'Short verdict shown to the learner.';


--
-- Name: COLUMN assignment_analyses.details; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_analyses.details IS 'Structured findings (JSON object), e.g. {"issues": [...], "suggestions": [...]}.';


--
-- Name: COLUMN assignment_analyses.score; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_analyses.score IS 'Code quality score, 0 to 100.';


--
-- Name: COLUMN assignment_analyses.ai_model; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_analyses.ai_model IS 'Name of the AI model that produced an AI or HYBRID analysis.';


--
-- Name: COLUMN assignment_analyses.reviewer_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_analyses.reviewer_id IS 'auth.users.id of the human reviewer of a MANUAL or HYBRID analysis (no foreign key: another service''s schema).';


--
-- Name: assignment_submissions; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.assignment_submissions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    assignment_id uuid NOT NULL,
    code text NOT NULL,
    status learning."SubmissionStatus" DEFAULT 'PENDING'::learning."SubmissionStatus" NOT NULL,
    score integer,
    test_results jsonb,
    feedback text,
    submitted_at timestamp with time zone DEFAULT now() NOT NULL,
    graded_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT assignment_submissions_score_check CHECK ((score >= 0)),
    CONSTRAINT assignment_submissions_test_results_check CHECK ((jsonb_typeof(test_results) = 'object'::text))
);


--
-- Name: TABLE assignment_submissions; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.assignment_submissions IS 'Code a learner submitted for an assignment, and its grading outcome.';


--
-- Name: COLUMN assignment_submissions.user_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_submissions.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN assignment_submissions.score; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_submissions.score IS 'Points earned, 0 to the assignment''s points; null until graded.';


--
-- Name: COLUMN assignment_submissions.test_results; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_submissions.test_results IS 'Grader output (JSON object), e.g. {"passed": 3, "total": 4, "cases": [...]}; null until graded.';


--
-- Name: COLUMN assignment_submissions.feedback; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_submissions.feedback IS 'Human-readable grading feedback.';


--
-- Name: COLUMN assignment_submissions.graded_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignment_submissions.graded_at IS 'When grading finished; null while PENDING or RUNNING.';


--
-- Name: assignments; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.assignments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    module_id uuid NOT NULL,
    title text NOT NULL,
    description text NOT NULL,
    difficulty learning."Difficulty" DEFAULT 'BEGINNER'::learning."Difficulty" NOT NULL,
    starter_code text,
    test_cases jsonb DEFAULT '[]'::jsonb NOT NULL,
    points integer DEFAULT 0 NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT assignments_points_check CHECK ((points >= 0)),
    CONSTRAINT assignments_position_check CHECK (("position" >= 0)),
    CONSTRAINT assignments_test_cases_check CHECK ((jsonb_typeof(test_cases) = 'array'::text)),
    CONSTRAINT assignments_title_check CHECK ((title <> ''::text))
);


--
-- Name: TABLE assignments; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.assignments IS 'Coding exercises of a module, graded against test cases. Soft-deleted rows are hidden.';


--
-- Name: COLUMN assignments.description; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignments.description IS 'The task statement shown to the learner (Markdown).';


--
-- Name: COLUMN assignments.starter_code; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignments.starter_code IS 'Code the editor starts with; null for an empty editor.';


--
-- Name: COLUMN assignments.test_cases; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignments.test_cases IS 'JSON array of test cases the grader runs, e.g. [{"input": ..., "expected": ..., "hidden": false}].';


--
-- Name: COLUMN assignments.points; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignments.points IS 'Points awarded for a fully passing submission.';


--
-- Name: COLUMN assignments."position"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignments."position" IS 'Display order within the module, ascending from 0.';


--
-- Name: COLUMN assignments.deleted_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.assignments.deleted_at IS 'Soft delete: set when the assignment is retired.';


--
-- Name: language_enrollments; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.language_enrollments (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    language_id uuid NOT NULL,
    status learning."EnrollmentStatus" DEFAULT 'ACTIVE'::learning."EnrollmentStatus" NOT NULL,
    enrolled_at timestamp with time zone DEFAULT now() NOT NULL,
    completed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE language_enrollments; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.language_enrollments IS 'A learner''s enrollment in a language track; one per user and language.';


--
-- Name: COLUMN language_enrollments.user_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.language_enrollments.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN language_enrollments.enrolled_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.language_enrollments.enrolled_at IS 'When the learner (re-)enrolled.';


--
-- Name: COLUMN language_enrollments.completed_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.language_enrollments.completed_at IS 'When the track was completed; null until then.';


--
-- Name: material_progress; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.material_progress (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    material_id uuid NOT NULL,
    status learning."ProgressStatus" DEFAULT 'NOT_STARTED'::learning."ProgressStatus" NOT NULL,
    completed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE material_progress; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.material_progress IS 'Whether a learner has gone through a material; one row per user and material.';


--
-- Name: COLUMN material_progress.user_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.material_progress.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: materials; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.materials (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    module_id uuid NOT NULL,
    title text NOT NULL,
    type learning."MaterialType" NOT NULL,
    content text,
    url text,
    "position" integer DEFAULT 0 NOT NULL,
    duration_seconds integer,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT materials_content_or_url_check CHECK (((content IS NOT NULL) OR (url IS NOT NULL))),
    CONSTRAINT materials_duration_seconds_check CHECK ((duration_seconds >= 0)),
    CONSTRAINT materials_position_check CHECK (("position" >= 0)),
    CONSTRAINT materials_title_check CHECK ((title <> ''::text))
);


--
-- Name: TABLE materials; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.materials IS 'Videos, articles, code examples and documentation of a module, shown in position order. Soft-deleted rows are hidden.';


--
-- Name: COLUMN materials.content; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.materials.content IS 'Inline body (Markdown or code); null when the material lives at url.';


--
-- Name: COLUMN materials.url; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.materials.url IS 'External location (video, documentation page); null when content is inline.';


--
-- Name: COLUMN materials."position"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.materials."position" IS 'Display order within the module, ascending from 0.';


--
-- Name: COLUMN materials.duration_seconds; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.materials.duration_seconds IS 'Expected time to watch or read, in seconds.';


--
-- Name: COLUMN materials.deleted_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.materials.deleted_at IS 'Soft delete: set when the material is retired.';


--
-- Name: mcq_answers; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.mcq_answers (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_id uuid NOT NULL,
    question_id uuid NOT NULL,
    option_id uuid NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE mcq_answers; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.mcq_answers IS 'The option a learner chose for a question in an attempt; one per attempt and question.';


--
-- Name: COLUMN mcq_answers.option_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_answers.option_id IS 'The chosen option; it must belong to question_id (composite foreign key).';


--
-- Name: mcq_attempts; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.mcq_attempts (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    quiz_id uuid NOT NULL,
    score integer,
    max_score integer,
    passed boolean,
    started_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mcq_attempts_max_score_check CHECK ((max_score >= 0)),
    CONSTRAINT mcq_attempts_score_check CHECK ((score >= 0)),
    CONSTRAINT mcq_attempts_score_max_score_check CHECK ((score <= max_score))
);


--
-- Name: TABLE mcq_attempts; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.mcq_attempts IS 'One sitting of a quiz by a learner; score, max_score and passed are set when it is finished.';


--
-- Name: COLUMN mcq_attempts.user_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_attempts.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN mcq_attempts.score; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_attempts.score IS 'Points of the correctly answered questions; null until finished.';


--
-- Name: COLUMN mcq_attempts.max_score; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_attempts.max_score IS 'Total points of the quiz''s questions when it was finished.';


--
-- Name: COLUMN mcq_attempts.passed; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_attempts.passed IS 'score >= the quiz''s passing_score; null until finished.';


--
-- Name: COLUMN mcq_attempts.finished_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_attempts.finished_at IS 'When the attempt was submitted; the result never changes afterwards.';


--
-- Name: mcq_options; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.mcq_options (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    question_id uuid NOT NULL,
    text text NOT NULL,
    is_correct boolean DEFAULT false NOT NULL,
    "position" integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mcq_options_position_check CHECK (("position" >= 0)),
    CONSTRAINT mcq_options_text_check CHECK ((text <> ''::text))
);


--
-- Name: TABLE mcq_options; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.mcq_options IS 'Answer choices of a question; is_correct marks the right one(s).';


--
-- Name: COLUMN mcq_options.is_correct; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_options.is_correct IS 'True for a correct choice. Never sent to learners before they answer.';


--
-- Name: COLUMN mcq_options."position"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_options."position" IS 'Display order within the question, ascending from 0.';


--
-- Name: mcq_questions; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.mcq_questions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    quiz_id uuid NOT NULL,
    prompt text NOT NULL,
    explanation text,
    "position" integer DEFAULT 0 NOT NULL,
    points integer DEFAULT 1 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT mcq_questions_points_check CHECK ((points >= 0)),
    CONSTRAINT mcq_questions_position_check CHECK (("position" >= 0)),
    CONSTRAINT mcq_questions_prompt_check CHECK ((prompt <> ''::text))
);


--
-- Name: TABLE mcq_questions; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.mcq_questions IS 'Questions of a quiz, in position order.';


--
-- Name: COLUMN mcq_questions.explanation; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_questions.explanation IS 'Shown after answering: why the correct option is correct.';


--
-- Name: COLUMN mcq_questions."position"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_questions."position" IS 'Display order within the quiz, ascending from 0.';


--
-- Name: COLUMN mcq_questions.points; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_questions.points IS 'Points earned by answering correctly.';


--
-- Name: mcq_quizzes; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.mcq_quizzes (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    module_id uuid NOT NULL,
    title text NOT NULL,
    description text,
    passing_score integer NOT NULL,
    time_limit_seconds integer,
    "position" integer DEFAULT 0 NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT mcq_quizzes_passing_score_check CHECK ((passing_score >= 0)),
    CONSTRAINT mcq_quizzes_position_check CHECK (("position" >= 0)),
    CONSTRAINT mcq_quizzes_time_limit_seconds_check CHECK ((time_limit_seconds > 0)),
    CONSTRAINT mcq_quizzes_title_check CHECK ((title <> ''::text))
);


--
-- Name: TABLE mcq_quizzes; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.mcq_quizzes IS 'Multiple-choice quizzes of a module. Soft-deleted rows are hidden.';


--
-- Name: COLUMN mcq_quizzes.passing_score; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_quizzes.passing_score IS 'Minimum score, in question points, that passes the quiz.';


--
-- Name: COLUMN mcq_quizzes.time_limit_seconds; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_quizzes.time_limit_seconds IS 'Time allowed for one attempt; null for no limit.';


--
-- Name: COLUMN mcq_quizzes."position"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_quizzes."position" IS 'Display order within the module, ascending from 0.';


--
-- Name: COLUMN mcq_quizzes.deleted_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.mcq_quizzes.deleted_at IS 'Soft delete: set when the quiz is retired.';


--
-- Name: module_progress; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.module_progress (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    module_id uuid NOT NULL,
    status learning."ProgressStatus" DEFAULT 'NOT_STARTED'::learning."ProgressStatus" NOT NULL,
    progress_percent numeric(5,2) DEFAULT 0 NOT NULL,
    started_at timestamp with time zone,
    completed_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT module_progress_progress_percent_check CHECK (((progress_percent >= (0)::numeric) AND (progress_percent <= (100)::numeric)))
);


--
-- Name: TABLE module_progress; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.module_progress IS 'A learner''s progress through a module; one row per user and module.';


--
-- Name: COLUMN module_progress.user_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.module_progress.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN module_progress.progress_percent; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.module_progress.progress_percent IS 'Share of the module completed, 0 to 100.';


--
-- Name: modules; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.modules (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    language_id uuid NOT NULL,
    slug text NOT NULL,
    title text NOT NULL,
    description text,
    "position" integer DEFAULT 0 NOT NULL,
    difficulty learning."Difficulty" DEFAULT 'BEGINNER'::learning."Difficulty" NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT modules_position_check CHECK (("position" >= 0)),
    CONSTRAINT modules_slug_check CHECK (((char_length(slug) <= 100) AND (slug ~ '^[a-z0-9][a-z0-9_-]*$'::text))),
    CONSTRAINT modules_title_check CHECK ((title <> ''::text))
);


--
-- Name: TABLE modules; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.modules IS 'Ordered chapters of a language track. Soft-deleted rows are hidden.';


--
-- Name: COLUMN modules.slug; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.modules.slug IS 'URL key, unique within its language among non-deleted modules (index modules_language_id_slug_key).';


--
-- Name: COLUMN modules."position"; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.modules."position" IS 'Display order within the language, ascending from 0.';


--
-- Name: COLUMN modules.deleted_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.modules.deleted_at IS 'Soft delete: set when the module is retired.';


--
-- Name: programming_languages; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.programming_languages (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    slug text NOT NULL,
    name text NOT NULL,
    description text,
    icon_url text,
    is_published boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    deleted_at timestamp with time zone,
    CONSTRAINT programming_languages_name_check CHECK ((name <> ''::text)),
    CONSTRAINT programming_languages_slug_check CHECK (((char_length(slug) <= 100) AND (slug ~ '^[a-z0-9][a-z0-9_-]*$'::text)))
);


--
-- Name: TABLE programming_languages; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.programming_languages IS 'Language tracks of the catalogue (Python, JavaScript, ...). Soft-deleted rows are hidden.';


--
-- Name: COLUMN programming_languages.slug; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.programming_languages.slug IS 'URL key, lower-case; unique among non-deleted languages (index programming_languages_slug_key).';


--
-- Name: COLUMN programming_languages.is_published; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.programming_languages.is_published IS 'False hides the track from learners while it is being prepared.';


--
-- Name: COLUMN programming_languages.deleted_at; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.programming_languages.deleted_at IS 'Soft delete: set when the track is retired.';


--
-- Name: quiz_analyses; Type: TABLE; Schema: learning; Owner: -
--

CREATE TABLE learning.quiz_analyses (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    attempt_id uuid NOT NULL,
    type learning."AnalysisType" NOT NULL,
    summary text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    ai_model text,
    reviewer_id uuid,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT quiz_analyses_details_check CHECK ((jsonb_typeof(details) = 'object'::text))
);


--
-- Name: TABLE quiz_analyses; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON TABLE learning.quiz_analyses IS 'Analysis of a quiz attempt (weak topics, advice) by an AI model, a human reviewer, or both.';


--
-- Name: COLUMN quiz_analyses.summary; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.quiz_analyses.summary IS 'Short verdict shown to the learner.';


--
-- Name: COLUMN quiz_analyses.details; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.quiz_analyses.details IS 'Structured findings (JSON object), e.g. {"weak_topics": [...]}.';


--
-- Name: COLUMN quiz_analyses.ai_model; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.quiz_analyses.ai_model IS 'Name of the AI model that produced an AI or HYBRID analysis.';


--
-- Name: COLUMN quiz_analyses.reviewer_id; Type: COMMENT; Schema: learning; Owner: -
--

COMMENT ON COLUMN learning.quiz_analyses.reviewer_id IS 'auth.users.id of the human reviewer of a MANUAL or HYBRID analysis (no foreign key: another service''s schema).';


--
-- Name: email_logs; Type: TABLE; Schema: notifications; Owner: -
--

CREATE TABLE notifications.email_logs (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid,
    to_email text NOT NULL,
    template text NOT NULL,
    subject text NOT NULL,
    status text DEFAULT 'queued'::text NOT NULL,
    provider_message_id text,
    error text,
    sent_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT email_logs_status_check CHECK ((status = ANY (ARRAY['queued'::text, 'sent'::text, 'delivered'::text, 'bounced'::text, 'failed'::text]))),
    CONSTRAINT email_logs_template_check CHECK ((template <> ''::text)),
    CONSTRAINT email_logs_to_email_check CHECK (((char_length(to_email) <= 254) AND (to_email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$'::text)))
);


--
-- Name: TABLE email_logs; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON TABLE notifications.email_logs IS 'Audit log of every email the platform sends, and its delivery state.';


--
-- Name: COLUMN email_logs.user_id; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.email_logs.user_id IS 'auth.users.id of the recipient, null for addresses without an account (no foreign key: another service''s schema).';


--
-- Name: COLUMN email_logs.template; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.email_logs.template IS 'Key of the email template rendered, e.g. password_reset.';


--
-- Name: COLUMN email_logs.status; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.email_logs.status IS 'queued, sent (accepted by the provider), delivered, bounced or failed.';


--
-- Name: COLUMN email_logs.provider_message_id; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.email_logs.provider_message_id IS 'The message id at the email provider, for delivery webhooks; unique.';


--
-- Name: COLUMN email_logs.error; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.email_logs.error IS 'Provider error of a failed or bounced email.';


--
-- Name: COLUMN email_logs.sent_at; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.email_logs.sent_at IS 'When the provider accepted the email.';


--
-- Name: notification_preferences; Type: TABLE; Schema: notifications; Owner: -
--

CREATE TABLE notifications.notification_preferences (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    channel text NOT NULL,
    type text,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT notification_preferences_channel_check CHECK ((channel = ANY (ARRAY['email'::text, 'in_app'::text, 'push'::text]))),
    CONSTRAINT notification_preferences_type_check CHECK ((type <> ''::text))
);


--
-- Name: TABLE notification_preferences; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON TABLE notifications.notification_preferences IS 'Whether a user wants notifications on a channel, for all types (type null) or one type; one row per user, channel and type.';


--
-- Name: COLUMN notification_preferences.user_id; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notification_preferences.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN notification_preferences.channel; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notification_preferences.channel IS 'Delivery channel: email, in_app or push.';


--
-- Name: COLUMN notification_preferences.type; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notification_preferences.type IS 'Notification type the row applies to; null for the channel-wide default. A type row overrides the default.';


--
-- Name: notification_read_marks; Type: TABLE; Schema: notifications; Owner: -
--

CREATE TABLE notifications.notification_read_marks (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    read_before timestamp with time zone NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: TABLE notification_read_marks; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON TABLE notifications.notification_read_marks IS 'Per-user mark-all-read mark: every notification of the user created before read_before is read, whatever its read_at (mark_all_read).';


--
-- Name: COLUMN notification_read_marks.user_id; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notification_read_marks.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN notification_read_marks.read_before; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notification_read_marks.read_before IS 'Notifications created strictly before this time are read; it only moves forward.';


--
-- Name: notifications; Type: TABLE; Schema: notifications; Owner: -
--

CREATE TABLE notifications.notifications (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    type text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    data jsonb DEFAULT '{}'::jsonb NOT NULL,
    read_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT notifications_data_check CHECK ((jsonb_typeof(data) = 'object'::text)),
    CONSTRAINT notifications_type_check CHECK ((type <> ''::text))
);


--
-- Name: TABLE notifications; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON TABLE notifications.notifications IS 'In-app notifications of a user; unread while read_at is null (index notifications_unread_idx).';


--
-- Name: COLUMN notifications.user_id; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notifications.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN notifications.type; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notifications.type IS 'Dotted event key that produced it, e.g. submission.graded or payment.failed.';


--
-- Name: COLUMN notifications.data; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notifications.data IS 'JSON object the client needs to render or link it, e.g. {"submission_id": ...}.';


--
-- Name: COLUMN notifications.read_at; Type: COMMENT; Schema: notifications; Owner: -
--

COMMENT ON COLUMN notifications.notifications.read_at IS 'When the user read it; null while unread.';


--
-- Name: invoices; Type: TABLE; Schema: payments; Owner: -
--

CREATE TABLE payments.invoices (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    subscription_id uuid,
    transaction_id uuid,
    number text NOT NULL,
    amount_minor bigint NOT NULL,
    currency character(3) NOT NULL,
    status payments."InvoiceStatus" DEFAULT 'DRAFT'::payments."InvoiceStatus" NOT NULL,
    line_items jsonb DEFAULT '[]'::jsonb NOT NULL,
    issued_at timestamp with time zone,
    due_at timestamp with time zone,
    paid_at timestamp with time zone,
    voided_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT invoices_amount_minor_check CHECK ((amount_minor >= 0)),
    CONSTRAINT invoices_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT invoices_line_items_check CHECK ((jsonb_typeof(line_items) = 'array'::text)),
    CONSTRAINT invoices_number_check CHECK ((number <> ''::text))
);


--
-- Name: TABLE invoices; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TABLE payments.invoices IS 'Invoices issued to users; kept as financial records (never cascade-deleted).';


--
-- Name: COLUMN invoices.user_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN invoices.transaction_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.transaction_id IS 'The charge that paid the invoice; null while unpaid.';


--
-- Name: COLUMN invoices.number; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.number IS 'Human-facing invoice number, e.g. CZ-2026-000123; unique.';


--
-- Name: COLUMN invoices.amount_minor; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.amount_minor IS 'Total in minor units of currency, never negative.';


--
-- Name: COLUMN invoices.currency; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.currency IS 'ISO 4217 code, three upper-case letters.';


--
-- Name: COLUMN invoices.line_items; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.line_items IS 'JSON array of lines, e.g. [{"description": ..., "amount_minor": ..., "quantity": ...}].';


--
-- Name: COLUMN invoices.issued_at; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.issued_at IS 'When the invoice left DRAFT.';


--
-- Name: COLUMN invoices.due_at; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.invoices.due_at IS 'Payment deadline.';


--
-- Name: payment_methods; Type: TABLE; Schema: payments; Owner: -
--

CREATE TABLE payments.payment_methods (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    type payments."PaymentMethodType" NOT NULL,
    provider text,
    provider_method_id text NOT NULL,
    brand text,
    last4 text,
    exp_month integer,
    exp_year integer,
    is_default boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT payment_methods_exp_month_check CHECK (((exp_month >= 1) AND (exp_month <= 12))),
    CONSTRAINT payment_methods_exp_year_check CHECK (((exp_year >= 2000) AND (exp_year <= 2200))),
    CONSTRAINT payment_methods_last4_check CHECK ((last4 ~ '^[0-9]{4}$'::text)),
    CONSTRAINT payment_methods_provider_check CHECK ((provider <> ''::text)),
    CONSTRAINT payment_methods_provider_method_id_check CHECK ((provider_method_id <> ''::text))
);


--
-- Name: TABLE payment_methods; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TABLE payments.payment_methods IS 'Payment methods saved at the provider; at most one default per user (index payment_methods_one_default_per_user).';


--
-- Name: COLUMN payment_methods.user_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.payment_methods.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN payment_methods.provider; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.payment_methods.provider IS 'Payment service provider holding the method, e.g. stripe or razorpay.';


--
-- Name: COLUMN payment_methods.provider_method_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.payment_methods.provider_method_id IS 'The method''s id (token) at the provider; unique. Card numbers are never stored.';


--
-- Name: COLUMN payment_methods.brand; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.payment_methods.brand IS 'Card network or wallet name for display, e.g. visa.';


--
-- Name: COLUMN payment_methods.last4; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.payment_methods.last4 IS 'Last four digits of a card or account, for display.';


--
-- Name: COLUMN payment_methods.exp_month; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.payment_methods.exp_month IS 'Card expiry month, 1 to 12.';


--
-- Name: COLUMN payment_methods.exp_year; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.payment_methods.exp_year IS 'Card expiry year, four digits.';


--
-- Name: subscriptions; Type: TABLE; Schema: payments; Owner: -
--

CREATE TABLE payments.subscriptions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    plan payments."SubscriptionPlan" NOT NULL,
    status payments."SubscriptionStatus" NOT NULL,
    current_period_start timestamp with time zone,
    current_period_end timestamp with time zone,
    cancel_at_period_end boolean DEFAULT false NOT NULL,
    canceled_at timestamp with time zone,
    trial_ends_at timestamp with time zone,
    provider text,
    provider_subscription_id text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT subscriptions_period_check CHECK ((current_period_end > current_period_start)),
    CONSTRAINT subscriptions_provider_check CHECK ((provider <> ''::text))
);


--
-- Name: TABLE subscriptions; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TABLE payments.subscriptions IS 'A user''s plan and its billing state. Active means status TRIALING or ACTIVE (index subscriptions_active_idx).';


--
-- Name: COLUMN subscriptions.user_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN subscriptions.current_period_start; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.current_period_start IS 'Start of the paid-for period; null for plans that are not billed.';


--
-- Name: COLUMN subscriptions.current_period_end; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.current_period_end IS 'End of the paid-for period; the next renewal or expiry happens then.';


--
-- Name: COLUMN subscriptions.cancel_at_period_end; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.cancel_at_period_end IS 'True when the user cancelled but keeps access until current_period_end.';


--
-- Name: COLUMN subscriptions.canceled_at; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.canceled_at IS 'When the cancellation was requested.';


--
-- Name: COLUMN subscriptions.trial_ends_at; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.trial_ends_at IS 'End of the free trial, when status is TRIALING.';


--
-- Name: COLUMN subscriptions.provider; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.provider IS 'Payment service provider, e.g. stripe or razorpay; null for subscriptions it does not bill.';


--
-- Name: COLUMN subscriptions.provider_subscription_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.subscriptions.provider_subscription_id IS 'The subscription''s id at the provider; unique.';


--
-- Name: transactions; Type: TABLE; Schema: payments; Owner: -
--

CREATE TABLE payments.transactions (
    id uuid DEFAULT gen_random_uuid() NOT NULL,
    user_id uuid NOT NULL,
    subscription_id uuid,
    amount_minor bigint NOT NULL,
    currency character(3) NOT NULL,
    status payments."TransactionStatus" NOT NULL,
    provider text,
    provider_payment_id text NOT NULL,
    description text,
    failure_reason text,
    refunded_at timestamp with time zone,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT transactions_amount_minor_check CHECK ((amount_minor >= 0)),
    CONSTRAINT transactions_currency_check CHECK ((currency ~ '^[A-Z]{3}$'::text)),
    CONSTRAINT transactions_provider_check CHECK ((provider <> ''::text)),
    CONSTRAINT transactions_provider_payment_id_check CHECK ((provider_payment_id <> ''::text))
);


--
-- Name: TABLE transactions; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON TABLE payments.transactions IS 'Charges and their outcome; kept as financial records (never cascade-deleted).';


--
-- Name: COLUMN transactions.user_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.user_id IS 'auth.users.id (no foreign key: another service''s schema).';


--
-- Name: COLUMN transactions.subscription_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.subscription_id IS 'The subscription charged for; null for one-off payments.';


--
-- Name: COLUMN transactions.amount_minor; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.amount_minor IS 'Amount in minor units of currency (cents, paise), never negative.';


--
-- Name: COLUMN transactions.currency; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.currency IS 'ISO 4217 code, three upper-case letters.';


--
-- Name: COLUMN transactions.provider; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.provider IS 'Payment service provider, e.g. stripe or razorpay.';


--
-- Name: COLUMN transactions.provider_payment_id; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.provider_payment_id IS 'The payment''s id at the provider; unique, so a replayed webhook finds the existing row.';


--
-- Name: COLUMN transactions.failure_reason; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.failure_reason IS 'Provider''s reason for a FAILED charge.';


--
-- Name: COLUMN transactions.refunded_at; Type: COMMENT; Schema: payments; Owner: -
--

COMMENT ON COLUMN payments.transactions.refunded_at IS 'When the charge was refunded (status REFUNDED).';


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    version character varying NOT NULL
);


--
-- Name: analytics_events_default; Type: TABLE ATTACH; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.analytics_events ATTACH PARTITION activity.analytics_events_default DEFAULT;


--
-- Name: analytics_events_p2026_12; Type: TABLE ATTACH; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.analytics_events ATTACH PARTITION activity.analytics_events_p2026_12 FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00');


--
-- Name: analytics_events_p2027_01; Type: TABLE ATTACH; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.analytics_events ATTACH PARTITION activity.analytics_events_p2027_01 FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2027-02-01 00:00:00+00');


--
-- Name: user_event_counts_default; Type: TABLE ATTACH; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_counts ATTACH PARTITION activity.user_event_counts_default DEFAULT;


--
-- Name: user_event_counts_p2026_12; Type: TABLE ATTACH; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_counts ATTACH PARTITION activity.user_event_counts_p2026_12 FOR VALUES FROM ('2026-12-01') TO ('2027-01-01');


--
-- Name: user_event_counts_p2027_01; Type: TABLE ATTACH; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_counts ATTACH PARTITION activity.user_event_counts_p2027_01 FOR VALUES FROM ('2027-01-01') TO ('2027-02-01');


--
-- Name: analytics_events analytics_events_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.analytics_events
    ADD CONSTRAINT analytics_events_pkey PRIMARY KEY (id, occurred_at);


--
-- Name: analytics_events_default analytics_events_default_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.analytics_events_default
    ADD CONSTRAINT analytics_events_default_pkey PRIMARY KEY (id, occurred_at);


--
-- Name: analytics_events_p2026_12 analytics_events_p2026_12_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.analytics_events_p2026_12
    ADD CONSTRAINT analytics_events_p2026_12_pkey PRIMARY KEY (id, occurred_at);


--
-- Name: analytics_events_p2027_01 analytics_events_p2027_01_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.analytics_events_p2027_01
    ADD CONSTRAINT analytics_events_p2027_01_pkey PRIMARY KEY (id, occurred_at);


--
-- Name: event_counts event_counts_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.event_counts
    ADD CONSTRAINT event_counts_pkey PRIMARY KEY (id);


--
-- Name: event_retention event_retention_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.event_retention
    ADD CONSTRAINT event_retention_pkey PRIMARY KEY (id);


--
-- Name: user_activities user_activities_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_activities
    ADD CONSTRAINT user_activities_pkey PRIMARY KEY (id);


--
-- Name: user_event_counts user_event_counts_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_counts
    ADD CONSTRAINT user_event_counts_pkey PRIMARY KEY (id, day);


--
-- Name: user_event_counts_default user_event_counts_default_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_counts_default
    ADD CONSTRAINT user_event_counts_default_pkey PRIMARY KEY (id, day);


--
-- Name: user_event_counts_p2026_12 user_event_counts_p2026_12_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_counts_p2026_12
    ADD CONSTRAINT user_event_counts_p2026_12_pkey PRIMARY KEY (id, day);


--
-- Name: user_event_counts_p2027_01 user_event_counts_p2027_01_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_counts_p2027_01
    ADD CONSTRAINT user_event_counts_p2027_01_pkey PRIMARY KEY (id, day);


--
-- Name: user_event_rollup user_event_rollup_pkey; Type: CONSTRAINT; Schema: activity; Owner: -
--

ALTER TABLE ONLY activity.user_event_rollup
    ADD CONSTRAINT user_event_rollup_pkey PRIMARY KEY (id);


--
-- Name: email_verifications email_verifications_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.email_verifications
    ADD CONSTRAINT email_verifications_pkey PRIMARY KEY (id);


--
-- Name: email_verifications email_verifications_token_hash_key; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.email_verifications
    ADD CONSTRAINT email_verifications_token_hash_key UNIQUE (token_hash);


--
-- Name: oauth_accounts oauth_accounts_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.oauth_accounts
    ADD CONSTRAINT oauth_accounts_pkey PRIMARY KEY (id);


--
-- Name: oauth_accounts oauth_accounts_provider_provider_account_id_key; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.oauth_accounts
    ADD CONSTRAINT oauth_accounts_provider_provider_account_id_key UNIQUE (provider, provider_account_id);


--
-- Name: password_resets password_resets_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.password_resets
    ADD CONSTRAINT password_resets_pkey PRIMARY KEY (id);


--
-- Name: password_resets password_resets_token_hash_key; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.password_resets
    ADD CONSTRAINT password_resets_token_hash_key UNIQUE (token_hash);


--
-- Name: session_revocations session_revocations_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.session_revocations
    ADD CONSTRAINT session_revocations_pkey PRIMARY KEY (id);


--
-- Name: session_revocations session_revocations_user_id_key; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.session_revocations
    ADD CONSTRAINT session_revocations_user_id_key UNIQUE (user_id);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: sessions sessions_token_hash_key; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.sessions
    ADD CONSTRAINT sessions_token_hash_key UNIQUE (token_hash);


--
-- Name: user_profiles user_profiles_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.user_profiles
    ADD CONSTRAINT user_profiles_pkey PRIMARY KEY (id);


--
-- Name: user_profiles user_profiles_user_id_key; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.user_profiles
    ADD CONSTRAINT user_profiles_user_id_key UNIQUE (user_id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: table_moves table_moves_pkey; Type: CONSTRAINT; Schema: codezest; Owner: -
--

ALTER TABLE ONLY codezest.table_moves
    ADD CONSTRAINT table_moves_pkey PRIMARY KEY (id);


--
-- Name: assignment_analyses assignment_analyses_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.assignment_analyses
    ADD CONSTRAINT assignment_analyses_pkey PRIMARY KEY (id);


--
-- Name: assignment_submissions assignment_submissions_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.assignment_submissions
    ADD CONSTRAINT assignment_submissions_pkey PRIMARY KEY (id);


--
-- Name: assignments assignments_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.assignments
    ADD CONSTRAINT assignments_pkey PRIMARY KEY (id);


--
-- Name: language_enrollments language_enrollments_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.language_enrollments
    ADD CONSTRAINT language_enrollments_pkey PRIMARY KEY (id);


--
-- Name: language_enrollments language_enrollments_user_id_language_id_key; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.language_enrollments
    ADD CONSTRAINT language_enrollments_user_id_language_id_key UNIQUE (user_id, language_id);


--
-- Name: material_progress material_progress_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.material_progress
    ADD CONSTRAINT material_progress_pkey PRIMARY KEY (id);


--
-- Name: material_progress material_progress_user_id_material_id_key; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.material_progress
    ADD CONSTRAINT material_progress_user_id_material_id_key UNIQUE (user_id, material_id);


--
-- Name: materials materials_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.materials
    ADD CONSTRAINT materials_pkey PRIMARY KEY (id);


--
-- Name: mcq_answers mcq_answers_attempt_id_question_id_key; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_answers
    ADD CONSTRAINT mcq_answers_attempt_id_question_id_key UNIQUE (attempt_id, question_id);


--
-- Name: mcq_answers mcq_answers_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_answers
    ADD CONSTRAINT mcq_answers_pkey PRIMARY KEY (id);


--
-- Name: mcq_attempts mcq_attempts_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_attempts
    ADD CONSTRAINT mcq_attempts_pkey PRIMARY KEY (id);


--
-- Name: mcq_options mcq_options_id_question_id_key; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_options
    ADD CONSTRAINT mcq_options_id_question_id_key UNIQUE (id, question_id);


--
-- Name: mcq_options mcq_options_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_options
    ADD CONSTRAINT mcq_options_pkey PRIMARY KEY (id);


--
-- Name: mcq_questions mcq_questions_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_questions
    ADD CONSTRAINT mcq_questions_pkey PRIMARY KEY (id);


--
-- Name: mcq_quizzes mcq_quizzes_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_quizzes
    ADD CONSTRAINT mcq_quizzes_pkey PRIMARY KEY (id);


--
-- Name: module_progress module_progress_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.module_progress
    ADD CONSTRAINT module_progress_pkey PRIMARY KEY (id);


--
-- Name: module_progress module_progress_user_id_module_id_key; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.module_progress
    ADD CONSTRAINT module_progress_user_id_module_id_key UNIQUE (user_id, module_id);


--
-- Name: modules modules_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.modules
    ADD CONSTRAINT modules_pkey PRIMARY KEY (id);


--
-- Name: programming_languages programming_languages_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.programming_languages
    ADD CONSTRAINT programming_languages_pkey PRIMARY KEY (id);


--
-- Name: quiz_analyses quiz_analyses_pkey; Type: CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.quiz_analyses
    ADD CONSTRAINT quiz_analyses_pkey PRIMARY KEY (id);


--
-- Name: email_logs email_logs_pkey; Type: CONSTRAINT; Schema: notifications; Owner: -
--

ALTER TABLE ONLY notifications.email_logs
    ADD CONSTRAINT email_logs_pkey PRIMARY KEY (id);


--
-- Name: email_logs email_logs_provider_message_id_key; Type: CONSTRAINT; Schema: notifications; Owner: -
--

ALTER TABLE ONLY notifications.email_logs
    ADD CONSTRAINT email_logs_provider_message_id_key UNIQUE (provider_message_id);


--
-- Name: notification_preferences notification_preferences_pkey; Type: CONSTRAINT; Schema: notifications; Owner: -
--

ALTER TABLE ONLY notifications.notification_preferences
    ADD CONSTRAINT notification_preferences_pkey PRIMARY KEY (id);


--
-- Name: notification_preferences notification_preferences_user_id_channel_type_key; Type: CONSTRAINT; Schema: notifications; Owner: -
--

ALTER TABLE ONLY notifications.notification_preferences
    ADD CONSTRAINT notification_preferences_user_id_channel_type_key UNIQUE NULLS NOT DISTINCT (user_id, channel, type);


--
-- Name: notification_read_marks notification_read_marks_pkey; Type: CONSTRAINT; Schema: notifications; Owner: -
--

ALTER TABLE ONLY notifications.notification_read_marks
    ADD CONSTRAINT notification_read_marks_pkey PRIMARY KEY (id);


--
-- Name: notification_read_marks notification_read_marks_user_id_key; Type: CONSTRAINT; Schema: notifications; Owner: -
--

ALTER TABLE ONLY notifications.notification_read_marks
    ADD CONSTRAINT notification_read_marks_user_id_key UNIQUE (user_id);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: notifications; Owner: -
--

ALTER TABLE ONLY notifications.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);


--
-- Name: invoices invoices_number_key; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.invoices
    ADD CONSTRAINT invoices_number_key UNIQUE (number);


--
-- Name: invoices invoices_pkey; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.invoices
    ADD CONSTRAINT invoices_pkey PRIMARY KEY (id);


--
-- Name: payment_methods payment_methods_pkey; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.payment_methods
    ADD CONSTRAINT payment_methods_pkey PRIMARY KEY (id);


--
-- Name: payment_methods payment_methods_provider_method_id_key; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.payment_methods
    ADD CONSTRAINT payment_methods_provider_method_id_key UNIQUE (provider_method_id);


--
-- Name: subscriptions subscriptions_pkey; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.subscriptions
    ADD CONSTRAINT subscriptions_pkey PRIMARY KEY (id);


--
-- Name: subscriptions subscriptions_provider_subscription_id_key; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.subscriptions
    ADD CONSTRAINT subscriptions_provider_subscription_id_key UNIQUE (provider_subscription_id);


--
-- Name: transactions transactions_pkey; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.transactions
    ADD CONSTRAINT transactions_pkey PRIMARY KEY (id);


--
-- Name: transactions transactions_provider_payment_id_key; Type: CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.transactions
    ADD CONSTRAINT transactions_provider_payment_id_key UNIQUE (provider_payment_id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: analytics_events_name_occurred_at_id_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_name_occurred_at_id_idx ON ONLY activity.analytics_events USING btree (name, occurred_at, id);


--
-- Name: analytics_events_default_name_occurred_at_id_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_default_name_occurred_at_id_idx ON activity.analytics_events_default USING btree (name, occurred_at, id);


--
-- Name: analytics_events_occurred_at_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_occurred_at_idx ON ONLY activity.analytics_events USING btree (occurred_at);


--
-- Name: analytics_events_default_occurred_at_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_default_occurred_at_idx ON activity.analytics_events_default USING btree (occurred_at);


--
-- Name: analytics_events_user_id_occurred_at_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_user_id_occurred_at_idx ON ONLY activity.analytics_events USING btree (user_id, occurred_at) INCLUDE (name) WHERE (user_id IS NOT NULL);


--
-- Name: analytics_events_default_user_id_occurred_at_name_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_default_user_id_occurred_at_name_idx ON activity.analytics_events_default USING btree (user_id, occurred_at) INCLUDE (name) WHERE (user_id IS NOT NULL);


--
-- Name: analytics_events_p2026_12_name_occurred_at_id_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_p2026_12_name_occurred_at_id_idx ON activity.analytics_events_p2026_12 USING btree (name, occurred_at, id);


--
-- Name: analytics_events_p2026_12_occurred_at_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_p2026_12_occurred_at_idx ON activity.analytics_events_p2026_12 USING btree (occurred_at);


--
-- Name: analytics_events_p2026_12_user_id_occurred_at_name_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_p2026_12_user_id_occurred_at_name_idx ON activity.analytics_events_p2026_12 USING btree (user_id, occurred_at) INCLUDE (name) WHERE (user_id IS NOT NULL);


--
-- Name: analytics_events_p2027_01_name_occurred_at_id_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_p2027_01_name_occurred_at_id_idx ON activity.analytics_events_p2027_01 USING btree (name, occurred_at, id);


--
-- Name: analytics_events_p2027_01_occurred_at_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_p2027_01_occurred_at_idx ON activity.analytics_events_p2027_01 USING btree (occurred_at);


--
-- Name: analytics_events_p2027_01_user_id_occurred_at_name_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX analytics_events_p2027_01_user_id_occurred_at_name_idx ON activity.analytics_events_p2027_01 USING btree (user_id, occurred_at) INCLUDE (name) WHERE (user_id IS NOT NULL);


--
-- Name: event_counts_day_name_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX event_counts_day_name_idx ON activity.event_counts USING btree (day, name) INCLUDE (count);


--
-- Name: event_retention_one_row; Type: INDEX; Schema: activity; Owner: -
--

CREATE UNIQUE INDEX event_retention_one_row ON activity.event_retention USING btree ((true));


--
-- Name: user_activities_entity_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX user_activities_entity_idx ON activity.user_activities USING btree (entity_type, entity_id) WHERE (entity_id IS NOT NULL);


--
-- Name: user_activities_user_id_created_at_id_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX user_activities_user_id_created_at_id_idx ON activity.user_activities USING btree (user_id, created_at, id);


--
-- Name: user_event_counts_folded_key; Type: INDEX; Schema: activity; Owner: -
--

CREATE UNIQUE INDEX user_event_counts_folded_key ON ONLY activity.user_event_counts USING btree (user_id, day, name) INCLUDE (count) WHERE folded;


--
-- Name: user_event_counts_default_user_id_day_name_count_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE UNIQUE INDEX user_event_counts_default_user_id_day_name_count_idx ON activity.user_event_counts_default USING btree (user_id, day, name) INCLUDE (count) WHERE folded;


--
-- Name: user_event_counts_deltas_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX user_event_counts_deltas_idx ON ONLY activity.user_event_counts USING btree (user_id, day, name) WHERE (NOT folded);


--
-- Name: user_event_counts_default_user_id_day_name_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX user_event_counts_default_user_id_day_name_idx ON activity.user_event_counts_default USING btree (user_id, day, name) WHERE (NOT folded);


--
-- Name: user_event_counts_p2026_12_user_id_day_name_count_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE UNIQUE INDEX user_event_counts_p2026_12_user_id_day_name_count_idx ON activity.user_event_counts_p2026_12 USING btree (user_id, day, name) INCLUDE (count) WHERE folded;


--
-- Name: user_event_counts_p2026_12_user_id_day_name_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX user_event_counts_p2026_12_user_id_day_name_idx ON activity.user_event_counts_p2026_12 USING btree (user_id, day, name) WHERE (NOT folded);


--
-- Name: user_event_counts_p2027_01_user_id_day_name_count_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE UNIQUE INDEX user_event_counts_p2027_01_user_id_day_name_count_idx ON activity.user_event_counts_p2027_01 USING btree (user_id, day, name) INCLUDE (count) WHERE folded;


--
-- Name: user_event_counts_p2027_01_user_id_day_name_idx; Type: INDEX; Schema: activity; Owner: -
--

CREATE INDEX user_event_counts_p2027_01_user_id_day_name_idx ON activity.user_event_counts_p2027_01 USING btree (user_id, day, name) WHERE (NOT folded);


--
-- Name: user_event_rollup_one_row; Type: INDEX; Schema: activity; Owner: -
--

CREATE UNIQUE INDEX user_event_rollup_one_row ON activity.user_event_rollup USING btree ((true));


--
-- Name: email_verifications_done_at_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX email_verifications_done_at_idx ON auth.email_verifications USING btree (LEAST(expires_at, verified_at));


--
-- Name: email_verifications_user_id_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX email_verifications_user_id_idx ON auth.email_verifications USING btree (user_id);


--
-- Name: oauth_accounts_user_id_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX oauth_accounts_user_id_idx ON auth.oauth_accounts USING btree (user_id);


--
-- Name: password_resets_done_at_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX password_resets_done_at_idx ON auth.password_resets USING btree (LEAST(expires_at, used_at));


--
-- Name: password_resets_user_id_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX password_resets_user_id_idx ON auth.password_resets USING btree (user_id);


--
-- Name: sessions_done_at_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX sessions_done_at_idx ON auth.sessions USING btree (LEAST(expires_at, revoked_at));


--
-- Name: sessions_unrevoked_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX sessions_unrevoked_idx ON auth.sessions USING btree (user_id, created_at) WHERE (revoked_at IS NULL);


--
-- Name: sessions_user_id_created_at_id_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX sessions_user_id_created_at_id_idx ON auth.sessions USING btree (user_id, created_at, id);


--
-- Name: users_created_at_idx; Type: INDEX; Schema: auth; Owner: -
--

CREATE INDEX users_created_at_idx ON auth.users USING btree (created_at DESC, id DESC);


--
-- Name: users_email_key; Type: INDEX; Schema: auth; Owner: -
--

CREATE UNIQUE INDEX users_email_key ON auth.users USING btree (lower(email)) WHERE (deleted_at IS NULL);


--
-- Name: table_moves_source_open_idx; Type: INDEX; Schema: codezest; Owner: -
--

CREATE UNIQUE INDEX table_moves_source_open_idx ON codezest.table_moves USING btree (source) WHERE (finished_at IS NULL);


--
-- Name: assignment_analyses_reviewer_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX assignment_analyses_reviewer_id_idx ON learning.assignment_analyses USING btree (reviewer_id) WHERE (reviewer_id IS NOT NULL);


--
-- Name: assignment_analyses_submission_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX assignment_analyses_submission_id_idx ON learning.assignment_analyses USING btree (submission_id);


--
-- Name: assignment_submissions_assignment_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX assignment_submissions_assignment_id_idx ON learning.assignment_submissions USING btree (assignment_id);


--
-- Name: assignment_submissions_best_score_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX assignment_submissions_best_score_idx ON learning.assignment_submissions USING btree (user_id, assignment_id, score DESC, submitted_at, id) WHERE (score IS NOT NULL);


--
-- Name: assignment_submissions_pending_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX assignment_submissions_pending_idx ON learning.assignment_submissions USING btree (submitted_at) WHERE (status = 'PENDING'::learning."SubmissionStatus");


--
-- Name: assignment_submissions_user_id_assignment_id_submitted_at_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX assignment_submissions_user_id_assignment_id_submitted_at_idx ON learning.assignment_submissions USING btree (user_id, assignment_id, submitted_at, id);


--
-- Name: assignments_module_id_position_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX assignments_module_id_position_idx ON learning.assignments USING btree (module_id, "position");


--
-- Name: language_enrollments_language_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX language_enrollments_language_id_idx ON learning.language_enrollments USING btree (language_id);


--
-- Name: material_progress_material_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX material_progress_material_id_idx ON learning.material_progress USING btree (material_id);


--
-- Name: materials_module_id_position_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX materials_module_id_position_idx ON learning.materials USING btree (module_id, "position");


--
-- Name: mcq_answers_option_id_question_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX mcq_answers_option_id_question_id_idx ON learning.mcq_answers USING btree (option_id, question_id);


--
-- Name: mcq_answers_question_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX mcq_answers_question_id_idx ON learning.mcq_answers USING btree (question_id);


--
-- Name: mcq_attempts_quiz_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX mcq_attempts_quiz_id_idx ON learning.mcq_attempts USING btree (quiz_id);


--
-- Name: mcq_attempts_user_id_quiz_id_started_at_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX mcq_attempts_user_id_quiz_id_started_at_idx ON learning.mcq_attempts USING btree (user_id, quiz_id, started_at, id);


--
-- Name: mcq_options_question_id_position_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX mcq_options_question_id_position_idx ON learning.mcq_options USING btree (question_id, "position");


--
-- Name: mcq_questions_quiz_id_position_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX mcq_questions_quiz_id_position_idx ON learning.mcq_questions USING btree (quiz_id, "position");


--
-- Name: mcq_quizzes_module_id_position_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX mcq_quizzes_module_id_position_idx ON learning.mcq_quizzes USING btree (module_id, "position");


--
-- Name: module_progress_module_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX module_progress_module_id_idx ON learning.module_progress USING btree (module_id);


--
-- Name: modules_language_id_position_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX modules_language_id_position_idx ON learning.modules USING btree (language_id, "position");


--
-- Name: modules_language_id_slug_key; Type: INDEX; Schema: learning; Owner: -
--

CREATE UNIQUE INDEX modules_language_id_slug_key ON learning.modules USING btree (language_id, slug) WHERE (deleted_at IS NULL);


--
-- Name: programming_languages_slug_key; Type: INDEX; Schema: learning; Owner: -
--

CREATE UNIQUE INDEX programming_languages_slug_key ON learning.programming_languages USING btree (slug) WHERE (deleted_at IS NULL);


--
-- Name: quiz_analyses_attempt_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX quiz_analyses_attempt_id_idx ON learning.quiz_analyses USING btree (attempt_id);


--
-- Name: quiz_analyses_reviewer_id_idx; Type: INDEX; Schema: learning; Owner: -
--

CREATE INDEX quiz_analyses_reviewer_id_idx ON learning.quiz_analyses USING btree (reviewer_id) WHERE (reviewer_id IS NOT NULL);


--
-- Name: email_logs_queued_idx; Type: INDEX; Schema: notifications; Owner: -
--

CREATE INDEX email_logs_queued_idx ON notifications.email_logs USING btree (created_at) WHERE (status = 'queued'::text);


--
-- Name: email_logs_user_id_created_at_id_idx; Type: INDEX; Schema: notifications; Owner: -
--

CREATE INDEX email_logs_user_id_created_at_id_idx ON notifications.email_logs USING btree (user_id, created_at, id);


--
-- Name: notifications_created_at_idx; Type: INDEX; Schema: notifications; Owner: -
--

CREATE INDEX notifications_created_at_idx ON notifications.notifications USING btree (created_at);


--
-- Name: notifications_unread_idx; Type: INDEX; Schema: notifications; Owner: -
--

CREATE INDEX notifications_unread_idx ON notifications.notifications USING btree (user_id, created_at, id) WHERE (read_at IS NULL);


--
-- Name: notifications_user_id_created_at_id_idx; Type: INDEX; Schema: notifications; Owner: -
--

CREATE INDEX notifications_user_id_created_at_id_idx ON notifications.notifications USING btree (user_id, created_at, id);


--
-- Name: invoices_subscription_id_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX invoices_subscription_id_idx ON payments.invoices USING btree (subscription_id);


--
-- Name: invoices_transaction_id_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX invoices_transaction_id_idx ON payments.invoices USING btree (transaction_id);


--
-- Name: invoices_user_id_created_at_id_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX invoices_user_id_created_at_id_idx ON payments.invoices USING btree (user_id, created_at, id);


--
-- Name: payment_methods_one_default_per_user; Type: INDEX; Schema: payments; Owner: -
--

CREATE UNIQUE INDEX payment_methods_one_default_per_user ON payments.payment_methods USING btree (user_id) WHERE is_default;


--
-- Name: payment_methods_user_id_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX payment_methods_user_id_idx ON payments.payment_methods USING btree (user_id);


--
-- Name: subscriptions_active_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX subscriptions_active_idx ON payments.subscriptions USING btree (user_id) WHERE (status = ANY (ARRAY['TRIALING'::payments."SubscriptionStatus", 'ACTIVE'::payments."SubscriptionStatus"]));


--
-- Name: subscriptions_live_ends_at_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX subscriptions_live_ends_at_idx ON payments.subscriptions USING btree (COALESCE(
CASE
    WHEN (status = 'TRIALING'::payments."SubscriptionStatus") THEN trial_ends_at
    ELSE NULL::timestamp with time zone
END, current_period_end)) WHERE (status = ANY (ARRAY['TRIALING'::payments."SubscriptionStatus", 'ACTIVE'::payments."SubscriptionStatus", 'PAST_DUE'::payments."SubscriptionStatus"]));


--
-- Name: subscriptions_user_id_created_at_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX subscriptions_user_id_created_at_idx ON payments.subscriptions USING btree (user_id, created_at DESC);


--
-- Name: transactions_subscription_id_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX transactions_subscription_id_idx ON payments.transactions USING btree (subscription_id);


--
-- Name: transactions_user_id_created_at_id_idx; Type: INDEX; Schema: payments; Owner: -
--

CREATE INDEX transactions_user_id_created_at_id_idx ON payments.transactions USING btree (user_id, created_at, id);


--
-- Name: analytics_events_default_name_occurred_at_id_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_name_occurred_at_id_idx ATTACH PARTITION activity.analytics_events_default_name_occurred_at_id_idx;


--
-- Name: analytics_events_default_occurred_at_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_occurred_at_idx ATTACH PARTITION activity.analytics_events_default_occurred_at_idx;


--
-- Name: analytics_events_default_pkey; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_pkey ATTACH PARTITION activity.analytics_events_default_pkey;


--
-- Name: analytics_events_default_user_id_occurred_at_name_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_user_id_occurred_at_idx ATTACH PARTITION activity.analytics_events_default_user_id_occurred_at_name_idx;


--
-- Name: analytics_events_p2026_12_name_occurred_at_id_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_name_occurred_at_id_idx ATTACH PARTITION activity.analytics_events_p2026_12_name_occurred_at_id_idx;


--
-- Name: analytics_events_p2026_12_occurred_at_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_occurred_at_idx ATTACH PARTITION activity.analytics_events_p2026_12_occurred_at_idx;


--
-- Name: analytics_events_p2026_12_pkey; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_pkey ATTACH PARTITION activity.analytics_events_p2026_12_pkey;


--
-- Name: analytics_events_p2026_12_user_id_occurred_at_name_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_user_id_occurred_at_idx ATTACH PARTITION activity.analytics_events_p2026_12_user_id_occurred_at_name_idx;


--
-- Name: analytics_events_p2027_01_name_occurred_at_id_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_name_occurred_at_id_idx ATTACH PARTITION activity.analytics_events_p2027_01_name_occurred_at_id_idx;


--
-- Name: analytics_events_p2027_01_occurred_at_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_occurred_at_idx ATTACH PARTITION activity.analytics_events_p2027_01_occurred_at_idx;


--
-- Name: analytics_events_p2027_01_pkey; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_pkey ATTACH PARTITION activity.analytics_events_p2027_01_pkey;


--
-- Name: analytics_events_p2027_01_user_id_occurred_at_name_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.analytics_events_user_id_occurred_at_idx ATTACH PARTITION activity.analytics_events_p2027_01_user_id_occurred_at_name_idx;


--
-- Name: user_event_counts_default_pkey; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_pkey ATTACH PARTITION activity.user_event_counts_default_pkey;


--
-- Name: user_event_counts_default_user_id_day_name_count_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_folded_key ATTACH PARTITION activity.user_event_counts_default_user_id_day_name_count_idx;


--
-- Name: user_event_counts_default_user_id_day_name_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_deltas_idx ATTACH PARTITION activity.user_event_counts_default_user_id_day_name_idx;


--
-- Name: user_event_counts_p2026_12_pkey; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_pkey ATTACH PARTITION activity.user_event_counts_p2026_12_pkey;


--
-- Name: user_event_counts_p2026_12_user_id_day_name_count_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_folded_key ATTACH PARTITION activity.user_event_counts_p2026_12_user_id_day_name_count_idx;


--
-- Name: user_event_counts_p2026_12_user_id_day_name_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_deltas_idx ATTACH PARTITION activity.user_event_counts_p2026_12_user_id_day_name_idx;


--
-- Name: user_event_counts_p2027_01_pkey; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_pkey ATTACH PARTITION activity.user_event_counts_p2027_01_pkey;


--
-- Name: user_event_counts_p2027_01_user_id_day_name_count_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_folded_key ATTACH PARTITION activity.user_event_counts_p2027_01_user_id_day_name_count_idx;


--
-- Name: user_event_counts_p2027_01_user_id_day_name_idx; Type: INDEX ATTACH; Schema: activity; Owner: -
--

ALTER INDEX activity.user_event_counts_deltas_idx ATTACH PARTITION activity.user_event_counts_p2027_01_user_id_day_name_idx;


--
-- Name: analytics_events_day_name; Type: STATISTICS; Schema: activity; Owner: -
--

CREATE STATISTICS activity.analytics_events_day_name (ndistinct) ON name, ((occurred_at AT TIME ZONE 'UTC'::text)::date) FROM activity.analytics_events;


--
-- Name: analytics_events analytics_events_count_delete; Type: TRIGGER; Schema: activity; Owner: -
--

CREATE TRIGGER analytics_events_count_delete AFTER DELETE ON activity.analytics_events REFERENCING OLD TABLE AS old_events FOR EACH STATEMENT EXECUTE FUNCTION activity.count_deleted_events();


--
-- Name: analytics_events analytics_events_count_insert; Type: TRIGGER; Schema: activity; Owner: -
--

CREATE TRIGGER analytics_events_count_insert AFTER INSERT ON activity.analytics_events REFERENCING NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION activity.count_inserted_events();


--
-- Name: analytics_events analytics_events_count_update; Type: TRIGGER; Schema: activity; Owner: -
--

CREATE TRIGGER analytics_events_count_update AFTER UPDATE ON activity.analytics_events REFERENCING OLD TABLE AS old_events NEW TABLE AS new_events FOR EACH STATEMENT EXECUTE FUNCTION activity.count_updated_events();


--
-- Name: email_verifications email_verifications_set_updated_at; Type: TRIGGER; Schema: auth; Owner: -
--

CREATE TRIGGER email_verifications_set_updated_at BEFORE UPDATE ON auth.email_verifications FOR EACH ROW EXECUTE FUNCTION auth.set_updated_at();


--
-- Name: oauth_accounts oauth_accounts_set_updated_at; Type: TRIGGER; Schema: auth; Owner: -
--

CREATE TRIGGER oauth_accounts_set_updated_at BEFORE UPDATE ON auth.oauth_accounts FOR EACH ROW EXECUTE FUNCTION auth.set_updated_at();


--
-- Name: password_resets password_resets_set_updated_at; Type: TRIGGER; Schema: auth; Owner: -
--

CREATE TRIGGER password_resets_set_updated_at BEFORE UPDATE ON auth.password_resets FOR EACH ROW EXECUTE FUNCTION auth.set_updated_at();


--
-- Name: session_revocations session_revocations_set_updated_at; Type: TRIGGER; Schema: auth; Owner: -
--

CREATE TRIGGER session_revocations_set_updated_at BEFORE UPDATE ON auth.session_revocations FOR EACH ROW EXECUTE FUNCTION auth.set_updated_at();


--
-- Name: sessions sessions_set_updated_at; Type: TRIGGER; Schema: auth; Owner: -
--

CREATE TRIGGER sessions_set_updated_at BEFORE UPDATE ON auth.sessions FOR EACH ROW EXECUTE FUNCTION auth.set_updated_at();


--
-- Name: user_profiles user_profiles_set_updated_at; Type: TRIGGER; Schema: auth; Owner: -
--

CREATE TRIGGER user_profiles_set_updated_at BEFORE UPDATE ON auth.user_profiles FOR EACH ROW EXECUTE FUNCTION auth.set_updated_at();


--
-- Name: users users_set_updated_at; Type: TRIGGER; Schema: auth; Owner: -
--

CREATE TRIGGER users_set_updated_at BEFORE UPDATE ON auth.users FOR EACH ROW EXECUTE FUNCTION auth.set_updated_at();


--
-- Name: assignment_analyses assignment_analyses_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER assignment_analyses_set_updated_at BEFORE UPDATE ON learning.assignment_analyses FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: assignment_submissions assignment_submissions_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER assignment_submissions_set_updated_at BEFORE UPDATE ON learning.assignment_submissions FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: assignments assignments_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER assignments_set_updated_at BEFORE UPDATE ON learning.assignments FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: language_enrollments language_enrollments_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER language_enrollments_set_updated_at BEFORE UPDATE ON learning.language_enrollments FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: material_progress material_progress_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER material_progress_set_updated_at BEFORE UPDATE ON learning.material_progress FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: materials materials_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER materials_set_updated_at BEFORE UPDATE ON learning.materials FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: mcq_answers mcq_answers_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER mcq_answers_set_updated_at BEFORE UPDATE ON learning.mcq_answers FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: mcq_attempts mcq_attempts_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER mcq_attempts_set_updated_at BEFORE UPDATE ON learning.mcq_attempts FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: mcq_options mcq_options_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER mcq_options_set_updated_at BEFORE UPDATE ON learning.mcq_options FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: mcq_questions mcq_questions_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER mcq_questions_set_updated_at BEFORE UPDATE ON learning.mcq_questions FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: mcq_quizzes mcq_quizzes_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER mcq_quizzes_set_updated_at BEFORE UPDATE ON learning.mcq_quizzes FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: module_progress module_progress_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER module_progress_set_updated_at BEFORE UPDATE ON learning.module_progress FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: modules modules_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER modules_set_updated_at BEFORE UPDATE ON learning.modules FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: programming_languages programming_languages_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER programming_languages_set_updated_at BEFORE UPDATE ON learning.programming_languages FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: quiz_analyses quiz_analyses_set_updated_at; Type: TRIGGER; Schema: learning; Owner: -
--

CREATE TRIGGER quiz_analyses_set_updated_at BEFORE UPDATE ON learning.quiz_analyses FOR EACH ROW EXECUTE FUNCTION learning.set_updated_at();


--
-- Name: email_logs email_logs_set_updated_at; Type: TRIGGER; Schema: notifications; Owner: -
--

CREATE TRIGGER email_logs_set_updated_at BEFORE UPDATE ON notifications.email_logs FOR EACH ROW EXECUTE FUNCTION notifications.set_updated_at();


--
-- Name: notification_preferences notification_preferences_set_updated_at; Type: TRIGGER; Schema: notifications; Owner: -
--

CREATE TRIGGER notification_preferences_set_updated_at BEFORE UPDATE ON notifications.notification_preferences FOR EACH ROW EXECUTE FUNCTION notifications.set_updated_at();


--
-- Name: notification_read_marks notification_read_marks_set_updated_at; Type: TRIGGER; Schema: notifications; Owner: -
--

CREATE TRIGGER notification_read_marks_set_updated_at BEFORE UPDATE ON notifications.notification_read_marks FOR EACH ROW EXECUTE FUNCTION notifications.set_updated_at();


--
-- Name: notifications notifications_set_updated_at; Type: TRIGGER; Schema: notifications; Owner: -
--

CREATE TRIGGER notifications_set_updated_at BEFORE UPDATE ON notifications.notifications FOR EACH ROW EXECUTE FUNCTION notifications.set_updated_at();


--
-- Name: invoices invoices_set_updated_at; Type: TRIGGER; Schema: payments; Owner: -
--

CREATE TRIGGER invoices_set_updated_at BEFORE UPDATE ON payments.invoices FOR EACH ROW EXECUTE FUNCTION payments.set_updated_at();


--
-- Name: payment_methods payment_methods_set_updated_at; Type: TRIGGER; Schema: payments; Owner: -
--

CREATE TRIGGER payment_methods_set_updated_at BEFORE UPDATE ON payments.payment_methods FOR EACH ROW EXECUTE FUNCTION payments.set_updated_at();


--
-- Name: subscriptions subscriptions_set_updated_at; Type: TRIGGER; Schema: payments; Owner: -
--

CREATE TRIGGER subscriptions_set_updated_at BEFORE UPDATE ON payments.subscriptions FOR EACH ROW EXECUTE FUNCTION payments.set_updated_at();


--
-- Name: transactions transactions_set_updated_at; Type: TRIGGER; Schema: payments; Owner: -
--

CREATE TRIGGER transactions_set_updated_at BEFORE UPDATE ON payments.transactions FOR EACH ROW EXECUTE FUNCTION payments.set_updated_at();


--
-- Name: email_verifications email_verifications_user_id_fkey; Type: FK CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.email_verifications
    ADD CONSTRAINT email_verifications_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: oauth_accounts oauth_accounts_user_id_fkey; Type: FK CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.oauth_accounts
    ADD CONSTRAINT oauth_accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: password_resets password_resets_user_id_fkey; Type: FK CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.password_resets
    ADD CONSTRAINT password_resets_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: session_revocations session_revocations_user_id_fkey; Type: FK CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.session_revocations
    ADD CONSTRAINT session_revocations_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: sessions sessions_user_id_fkey; Type: FK CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.sessions
    ADD CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: user_profiles user_profiles_user_id_fkey; Type: FK CONSTRAINT; Schema: auth; Owner: -
--

ALTER TABLE ONLY auth.user_profiles
    ADD CONSTRAINT user_profiles_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id) ON DELETE CASCADE;


--
-- Name: assignment_analyses assignment_analyses_submission_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.assignment_analyses
    ADD CONSTRAINT assignment_analyses_submission_id_fkey FOREIGN KEY (submission_id) REFERENCES learning.assignment_submissions(id) ON DELETE CASCADE;


--
-- Name: assignment_submissions assignment_submissions_assignment_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.assignment_submissions
    ADD CONSTRAINT assignment_submissions_assignment_id_fkey FOREIGN KEY (assignment_id) REFERENCES learning.assignments(id) ON DELETE CASCADE;


--
-- Name: assignments assignments_module_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.assignments
    ADD CONSTRAINT assignments_module_id_fkey FOREIGN KEY (module_id) REFERENCES learning.modules(id) ON DELETE CASCADE;


--
-- Name: language_enrollments language_enrollments_language_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.language_enrollments
    ADD CONSTRAINT language_enrollments_language_id_fkey FOREIGN KEY (language_id) REFERENCES learning.programming_languages(id) ON DELETE CASCADE;


--
-- Name: material_progress material_progress_material_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.material_progress
    ADD CONSTRAINT material_progress_material_id_fkey FOREIGN KEY (material_id) REFERENCES learning.materials(id) ON DELETE CASCADE;


--
-- Name: materials materials_module_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.materials
    ADD CONSTRAINT materials_module_id_fkey FOREIGN KEY (module_id) REFERENCES learning.modules(id) ON DELETE CASCADE;


--
-- Name: mcq_answers mcq_answers_attempt_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_answers
    ADD CONSTRAINT mcq_answers_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES learning.mcq_attempts(id) ON DELETE CASCADE;


--
-- Name: mcq_answers mcq_answers_option_id_question_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_answers
    ADD CONSTRAINT mcq_answers_option_id_question_id_fkey FOREIGN KEY (option_id, question_id) REFERENCES learning.mcq_options(id, question_id) ON DELETE CASCADE;


--
-- Name: mcq_answers mcq_answers_question_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_answers
    ADD CONSTRAINT mcq_answers_question_id_fkey FOREIGN KEY (question_id) REFERENCES learning.mcq_questions(id) ON DELETE CASCADE;


--
-- Name: mcq_attempts mcq_attempts_quiz_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_attempts
    ADD CONSTRAINT mcq_attempts_quiz_id_fkey FOREIGN KEY (quiz_id) REFERENCES learning.mcq_quizzes(id) ON DELETE CASCADE;


--
-- Name: mcq_options mcq_options_question_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_options
    ADD CONSTRAINT mcq_options_question_id_fkey FOREIGN KEY (question_id) REFERENCES learning.mcq_questions(id) ON DELETE CASCADE;


--
-- Name: mcq_questions mcq_questions_quiz_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_questions
    ADD CONSTRAINT mcq_questions_quiz_id_fkey FOREIGN KEY (quiz_id) REFERENCES learning.mcq_quizzes(id) ON DELETE CASCADE;


--
-- Name: mcq_quizzes mcq_quizzes_module_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.mcq_quizzes
    ADD CONSTRAINT mcq_quizzes_module_id_fkey FOREIGN KEY (module_id) REFERENCES learning.modules(id) ON DELETE CASCADE;


--
-- Name: module_progress module_progress_module_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.module_progress
    ADD CONSTRAINT module_progress_module_id_fkey FOREIGN KEY (module_id) REFERENCES learning.modules(id) ON DELETE CASCADE;


--
-- Name: modules modules_language_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.modules
    ADD CONSTRAINT modules_language_id_fkey FOREIGN KEY (language_id) REFERENCES learning.programming_languages(id) ON DELETE CASCADE;


--
-- Name: quiz_analyses quiz_analyses_attempt_id_fkey; Type: FK CONSTRAINT; Schema: learning; Owner: -
--

ALTER TABLE ONLY learning.quiz_analyses
    ADD CONSTRAINT quiz_analyses_attempt_id_fkey FOREIGN KEY (attempt_id) REFERENCES learning.mcq_attempts(id) ON DELETE CASCADE;


--
-- Name: invoices invoices_subscription_id_fkey; Type: FK CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.invoices
    ADD CONSTRAINT invoices_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES payments.subscriptions(id) ON DELETE SET NULL;


--
-- Name: invoices invoices_transaction_id_fkey; Type: FK CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.invoices
    ADD CONSTRAINT invoices_transaction_id_fkey FOREIGN KEY (transaction_id) REFERENCES payments.transactions(id) ON DELETE SET NULL;


--
-- Name: transactions transactions_subscription_id_fkey; Type: FK CONSTRAINT; Schema: payments; Owner: -
--

ALTER TABLE ONLY payments.transactions
    ADD CONSTRAINT transactions_subscription_id_fkey FOREIGN KEY (subscription_id) REFERENCES payments.subscriptions(id) ON DELETE SET NULL;


--
-- PostgreSQL database dump complete
--

\unrestrict dbmate


--
-- Dbmate schema migrations
--

INSERT INTO public.schema_migrations (version) VALUES
    ('20261124000100'),
    ('20261124000200'),
    ('20261124000300'),
    ('20261124000400'),
    ('20261124000500'),
    ('20261125110000'),
    ('20261125110100'),
    ('20261202171421'),
    ('20261202171548'),
    ('20261202171731'),
    ('20261202174036'),
    ('20261202185251'),
    ('20261203111500');
