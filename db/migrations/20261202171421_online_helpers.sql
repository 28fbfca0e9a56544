-- migrate:up
-- Helpers for schema changes that keep the services running (docs/migrations.md,
-- "Moving a big table online"), in a schema of their own that no service uses:
--
-- - codezest.lock_tables: take a lock with a short lock_timeout, and try again
--   with backoff, so that whoever queues behind the request waits at most
--   about that timeout; after the last attempt, SQLSTATE 55P03 naming who held it.
-- - codezest.start_table_move / copy_table_rows / finish_table_move: move a big
--   table into a new structure while it is read and written. A statement
--   trigger copies every change to the new table, a procedure copies the old
--   rows in batches (one transaction each), and the swap renames the two under
--   a lock held for milliseconds.
--
-- The partition jobs (create_event_partitions, drop_event_partitions) take
-- their locks through codezest.lock_tables: a long reader now delays the job,
-- never the writers queued behind it.

create schema codezest;
comment on schema codezest is 'Helpers for online schema changes, called by migrations and the partition jobs (docs/migrations.md, "Moving a big table online"). No service reads or writes it.';

create function codezest.lock_tables(
  tables regclass[],
  mode text default 'access exclusive',
  lock_timeout interval default null,
  attempts integer default null,
  with_partitions boolean default false
) returns void
language plpgsql
-- Restores the caller's lock_timeout on return; the locks stay until its transaction ends.
set lock_timeout = '1s'
as $$
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
comment on function codezest.lock_tables(regclass[], text, interval, integer, boolean) is 'Lock tables (only the named ones unless with_partitions) in mode, waiting at most lock_timeout (else $codezest.lock_timeout, else 1 s) per attempt, up to attempts (else $codezest.lock_attempts, else 5) attempts with a pause of 0.1 s, 0.2 s, 0.4 s, ... between; then raises 55P03 (lock_not_available) naming the holders.';

create table codezest.table_moves (
  id          uuid primary key default gen_random_uuid(),
  source      regclass not null,
  target      regclass not null,
  key_columns text[] not null,
  columns     text[] not null,
  last_key    jsonb,
  copied      bigint not null default 0,
  copied_at   timestamptz,
  finished_at timestamptz,
  created_at  timestamptz not null default now()
);
create unique index table_moves_source_open_idx on codezest.table_moves (source) where finished_at is null;
comment on table codezest.table_moves is 'Online table moves (codezest.start_table_move): which rows are copied so far, so that a copy that stopped resumes where it was.';
comment on column codezest.table_moves.last_key is 'The key (key_columns of source, as JSON) of the last row copied; null before the first batch.';
comment on column codezest.table_moves.copied_at is 'When copy_table_rows copied the last batch; finish_table_move refuses to swap before.';

-- Copies each change to the moving table into its target, in the same transaction.
create function codezest.copy_changes() returns trigger
language plpgsql as $$
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
comment on function codezest.copy_changes() is 'Statement trigger of an online table move: applies the statement''s rows to the target (arguments: target, key columns, columns, set list).';

create function codezest.start_table_move(source regclass, target regclass) returns uuid
language plpgsql as $$
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
comment on function codezest.start_table_move(regclass, regclass) is 'Step 1 of an online move of source into target (created empty beforehand, with a unique key on source''s primary key): from now on every change to source is copied to target in the same transaction. Returns the move''s id in codezest.table_moves.';

-- One batch of copy_table_rows: the next batch_size rows of the source by key,
-- locked FOR KEY SHARE so that a delete cannot slip between the read and the copy.
create function codezest.copy_table_batch(move uuid, batch_size integer) returns bigint
language plpgsql as $$
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
$$;
comment on function codezest.copy_table_batch(uuid, integer) is 'One batch of codezest.copy_table_rows; returns how many rows it copied.';

create procedure codezest.copy_table_rows(source regclass, batch_size integer default 5000, pause interval default '0')
language plpgsql as $$
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
comment on procedure codezest.copy_table_rows(regclass, integer, interval) is 'Step 2 of an online move: copy the rows of source into the target in batches of batch_size, one transaction each (run it with CALL outside a transaction block: a transaction:false migration), resuming after the last batch copied.';

create function codezest.finish_table_move(source regclass, old_name text default null) returns regclass
language plpgsql as $$
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
comment on function codezest.finish_table_move(regclass, text) is 'Step 3 of an online move: under a short ACCESS EXCLUSIVE lock on both (codezest.lock_tables), stop copying changes, rename source to old_name (default <name>_old) and the target to source''s name. Returns the moved table. Statements after it in the same transaction (triggers, grants, dropping the old table) run under the same lock.';

revoke all on function codezest.lock_tables(regclass[], text, interval, integer, boolean),
  codezest.start_table_move(regclass, regclass), codezest.copy_table_batch(uuid, integer),
  codezest.finish_table_move(regclass, text) from public;
revoke all on procedure codezest.copy_table_rows(regclass, integer, interval) from public;

-- The partition jobs, with the same signatures: the slow part (moving a month's
-- rows out of the default partition) runs under locks no service waits for,
-- and the ones that block (ACCESS EXCLUSIVE on the default partition to attach,
-- on the parent to drop) are taken by codezest.lock_tables, then held only for
-- the attach or drop itself.
create or replace function activity.create_event_partitions(first_month date, months integer) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  lo timestamptz;
  hi timestamptz;
  part text;
  todo text[] := '{}';
  los timestamptz[] := '{}';
  his timestamptz[] := '{}';
begin
  if months is null or months < 0 or months > 120 then
    raise exception 'months must be between 0 and 120, got %', months using errcode = '22023';
  end if;
  for i in 0 .. months - 1 loop
    lo := (date_trunc('month', first_month) + make_interval(months => i))::timestamp at time zone 'UTC';
    hi := (date_trunc('month', first_month) + make_interval(months => i + 1))::timestamp at time zone 'UTC';
    part := 'analytics_events_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
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
  if cardinality(todo) = 0 then
    return 0;
  end if;
  -- Attaching scans the default partition under ACCESS EXCLUSIVE (readers of
  -- the parent wait): ask for it briefly, retrying; then move the rows that
  -- arrived meanwhile and attach.
  perform codezest.lock_tables(array['activity.analytics_events'::regclass], 'share update exclusive');
  perform codezest.lock_tables(array['activity.analytics_events_default'::regclass], 'access exclusive');
  for i in 1 .. cardinality(todo) loop
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', todo[i]) using los[i], his[i];
    execute format('alter table activity.analytics_events attach partition activity.%I for values from (%L) to (%L)',
                   todo[i], los[i], his[i]);
  end loop;
  return cardinality(todo);
end
$$;

create or replace function activity.drop_event_partitions(before timestamptz) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  rels regclass[];
  los timestamptz[];
  his timestamptz[];
begin
  select coalesce(array_agg(rel order by lower_bound), '{}'), array_agg(lower_bound order by lower_bound),
         array_agg(upper_bound order by lower_bound)
    into rels, los, his
    from (select c.oid::regclass as rel, b[1]::timestamptz as lower_bound, b[2]::timestamptz as upper_bound
            from pg_inherits i
            join pg_class c on c.oid = i.inhrelid
           cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                           'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') as b
           where i.inhparent = 'activity.analytics_events'::regclass) as parts
   where upper_bound <= before;
  if cardinality(rels) = 0 then
    return 0;
  end if;
  -- Dropping a partition takes ACCESS EXCLUSIVE on the parent: every reader and
  -- writer of the events waits for it, so ask briefly and retry (55P03 at the end).
  perform codezest.lock_tables(array['activity.analytics_events'::regclass] || rels, 'access exclusive');
  for i in 1 .. cardinality(rels) loop
    -- The rollup counts stored events: forget the dropped days' counts too.
    delete from activity.event_counts
     where day >= (los[i] at time zone 'UTC')::date
       and day < (his[i] at time zone 'UTC')::date;
    execute format('drop table %s', rels[i]);
  end loop;
  return cardinality(rels);
end
$$;

-- migrate:down

create or replace function activity.drop_event_partitions(before timestamptz) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  dropped integer := 0;
  part record;
begin
  for part in
    select c.oid::regclass as rel, b[1]::timestamptz as lower_bound, b[2]::timestamptz as upper_bound
      from pg_inherits i
      join pg_class c on c.oid = i.inhrelid
     cross join lateral regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                     'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') as b
     where i.inhparent = 'activity.analytics_events'::regclass
     order by 2
  loop
    exit when part.upper_bound > before;
    delete from activity.event_counts
     where day >= (part.lower_bound at time zone 'UTC')::date
       and day < (part.upper_bound at time zone 'UTC')::date;
    execute format('drop table %s', part.rel);
    dropped := dropped + 1;
  end loop;
  return dropped;
end
$$;

create or replace function activity.create_event_partitions(first_month date, months integer) returns integer
language plpgsql security definer set search_path = pg_catalog, pg_temp as $$
declare
  created integer := 0;
  lo timestamptz;
  hi timestamptz;
  part text;
begin
  if months is null or months < 0 or months > 120 then
    raise exception 'months must be between 0 and 120, got %', months using errcode = '22023';
  end if;
  for i in 0 .. months - 1 loop
    lo := (date_trunc('month', first_month) + make_interval(months => i))::timestamp at time zone 'UTC';
    hi := (date_trunc('month', first_month) + make_interval(months => i + 1))::timestamp at time zone 'UTC';
    part := 'analytics_events_p' || to_char(lo at time zone 'UTC', 'YYYY_MM');
    continue when to_regclass('activity.' || part) is not null;
    execute format('create table activity.%I (like activity.analytics_events including defaults including constraints)', part);
    execute format(
      'with moved as (delete from activity.analytics_events_default where occurred_at >= $1 and occurred_at < $2 returning *)'
      ' insert into activity.%I select * from moved', part) using lo, hi;
    execute format('alter table activity.analytics_events attach partition activity.%I for values from (%L) to (%L)',
                   part, lo, hi);
    created := created + 1;
  end loop;
  return created;
end
$$;

drop schema codezest cascade;
