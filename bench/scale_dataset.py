# ruff: noqa: E501  (the SQL statements read best unwrapped)
"""Fill a migrated database with the scale dataset of issue 13, server side.

    python bench/scale_dataset.py --url URL [--scale 1.0] [--seed 13]

At --scale 1 (the full size): 1M users, 10M analytics events over 90 days,
2M activities, 3M notifications, 2M submissions, 300k subscriptions,
transactions and invoices, 1.5M sessions, and the catalogue (10 languages,
100 modules, 500 materials, 300 assignments, 200 quizzes). Every count scales
with --scale (0.01 is 10k users and 100k events).

Reproducible: ids are md5 of a table tag and the row number, every value is a
function of the row number (no random()), and timestamps are offsets from the
start of the current UTC day; the same --scale and --seed give the same rows.
The data is skewed the way a real service is: user 1 (``heavy_user_id``) owns
5% of every per-user table, the other users share the rest evenly; event names
follow a steep popularity curve. All inserts are generate_series on the server
(no rows cross the wire); the script ends with VACUUM ANALYZE so the planner
sees the sizes.

It works on the schema before and after issue 13 (partitioned or not), so
bench/bench_scale.py can compare the two on the same data.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg

__all__ = ["fill", "heavy_user_id", "sizes"]

FULL = {
    "users": 1_000_000,
    "sessions": 1_500_000,
    "password_resets": 100_000,
    "email_verifications": 100_000,
    "enrollments": 1_000_000,
    "module_progress": 500_000,
    "material_progress": 2_000_000,
    "submissions": 2_000_000,
    "attempts": 500_000,
    "subscriptions": 300_000,
    "transactions": 300_000,
    "invoices": 300_000,
    "notifications": 3_000_000,
    "payment_methods": 500_000,
    "preferences": 200_000,
    "email_logs": 1_000_000,
    "activities": 2_000_000,
    "events": 10_000_000,
}


def sizes(scale: float) -> dict[str, int]:
    """Row counts for *scale* (at least 100 users and 1,000 of everything else)."""
    out = {name: max(1_000, int(count * scale)) for name, count in FULL.items()}
    out["users"] = max(100, int(FULL["users"] * scale))
    return out


def heavy_user_id(seed: int = 13) -> uuid.UUID:
    """The user who owns 5% of every per-user table."""
    import hashlib

    return uuid.UUID(hashlib.md5(f"{seed}:user:1".encode()).hexdigest())


# SQL helpers shared by the statements: %(seed)s-salted md5 ids, the owner of
# row i (user 1 for every 20th row, else spread over all users), a time offset.
_FUNCTIONS = """
create or replace function pg_temp.uid(tag text, n bigint) returns uuid
  language sql immutable as $$ select md5(%(seed)s || ':' || tag || ':' || n)::uuid $$;
create or replace function pg_temp.owner(i bigint, users bigint) returns uuid
  language sql immutable as $$
  select pg_temp.uid('user', case when i %% 20 = 0 then 1 else 1 + (i * 7919) %% users end) $$;
create or replace function pg_temp.ago(i bigint, total bigint, span interval) returns timestamptz
  language sql stable as $$
  select date_trunc('day', now()) - span * (1 - i::float8 / total) $$;
"""

_CATALOGUE = """
insert into learning.programming_languages (id, slug, name, is_published)
select pg_temp.uid('lang', l), 'lang-' || l, 'Language ' || l, true from generate_series(1, 10) l;
insert into learning.modules (id, language_id, slug, title, position, difficulty)
select pg_temp.uid('module', m), pg_temp.uid('lang', 1 + (m - 1) / 10), 'module-' || m,
       'Module ' || m, (m - 1) %% 10, 'BEGINNER'
  from generate_series(1, 100) m;
insert into learning.materials (id, module_id, title, type, content, position)
select pg_temp.uid('material', x), pg_temp.uid('module', 1 + (x - 1) / 5), 'Material ' || x,
       'ARTICLE', 'text', (x - 1) %% 5
  from generate_series(1, 500) x;
insert into learning.assignments (id, module_id, title, description, difficulty, points, position)
select pg_temp.uid('assignment', a), pg_temp.uid('module', 1 + (a - 1) / 3), 'Assignment ' || a,
       'Write it', 'BEGINNER', 10, (a - 1) %% 3
  from generate_series(1, 300) a;
insert into learning.mcq_quizzes (id, module_id, title, passing_score, position)
select pg_temp.uid('quiz', q), pg_temp.uid('module', 1 + (q - 1) / 2), 'Quiz ' || q, 3, (q - 1) %% 2
  from generate_series(1, 200) q;
insert into learning.mcq_questions (id, quiz_id, prompt, position, points)
select pg_temp.uid('question', q), pg_temp.uid('quiz', 1 + (q - 1) / 5), 'Question ' || q,
       (q - 1) %% 5, 1
  from generate_series(1, 1000) q;
insert into learning.mcq_options (id, question_id, text, is_correct, position)
select pg_temp.uid('option', o), pg_temp.uid('question', 1 + (o - 1) / 4), 'Option ' || o,
       o %% 4 = 1, (o - 1) %% 4
  from generate_series(1, 4000) o;
"""

# name -> statement; %(n)s is that table's row count, %(users)s the user count.
_TABLES = {
    "users": """
insert into auth.users (id, email, password_hash, name, role, email_verified_at, created_at)
select pg_temp.uid('user', i), 'user' || i || '@example.com', 'argon2$hash', 'User ' || i,
       case when i %% 100 = 0 then 'INSTRUCTOR' else 'STUDENT' end::auth."Role",
       case when i %% 3 > 0 then pg_temp.ago(i, %(n)s, '2 years') end,
       pg_temp.ago(i, %(n)s, '2 years')
  from generate_series(1, %(n)s) i""",
    "sessions": """
insert into auth.sessions (user_id, token_hash, expires_at, revoked_at, created_at)
select pg_temp.owner(i, %(users)s), md5(%(seed)s || ':session:' || i),
       pg_temp.ago(i, %(n)s, '60 days') + interval '30 days',
       case when (i / 20) %% 10 = 3 then pg_temp.ago(i, %(n)s, '60 days') + interval '1 day' end,
       pg_temp.ago(i, %(n)s, '60 days')
  from generate_series(1, %(n)s) i""",
    "password_resets": """
insert into auth.password_resets (user_id, token_hash, expires_at, used_at, created_at)
select pg_temp.owner(i, %(users)s), md5(%(seed)s || ':reset:' || i),
       pg_temp.ago(i, %(n)s, '60 days') + interval '1 hour',
       case when i %% 2 = 0 then pg_temp.ago(i, %(n)s, '60 days') + interval '5 minutes' end,
       pg_temp.ago(i, %(n)s, '60 days')
  from generate_series(1, %(n)s) i""",
    "email_verifications": """
insert into auth.email_verifications (user_id, email, token_hash, expires_at, verified_at, created_at)
select pg_temp.owner(i, %(users)s), 'user' || i || '@example.com', md5(%(seed)s || ':verify:' || i),
       pg_temp.ago(i, %(n)s, '60 days') + interval '1 day',
       case when i %% 2 = 0 then pg_temp.ago(i, %(n)s, '60 days') + interval '1 hour' end,
       pg_temp.ago(i, %(n)s, '60 days')
  from generate_series(1, %(n)s) i""",
    "enrollments": """
insert into learning.language_enrollments (user_id, language_id, created_at)
select pg_temp.uid('user', 1 + (i - 1) %% %(users)s), pg_temp.uid('lang', 1 + ((i - 1) / %(users)s) %% 10),
       pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, least(%(n)s, 10 * %(users)s)) i""",
    "module_progress": """
insert into learning.module_progress (user_id, module_id, status, progress_percent, started_at, created_at)
select pg_temp.uid('user', 1 + (i - 1) %% %(users)s), pg_temp.uid('module', 1 + ((i - 1) / %(users)s) %% 100),
       'IN_PROGRESS'::learning."ProgressStatus", 50, pg_temp.ago(i, %(n)s, '1 year'), pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, least(%(n)s, 100 * %(users)s)) i
union all
select pg_temp.uid('user', 1), pg_temp.uid('module', m), 'IN_PROGRESS'::learning."ProgressStatus", 50, now(), now()
  from generate_series(1, 100) m
    on conflict do nothing""",
    "material_progress": """
insert into learning.material_progress (user_id, material_id, status, created_at)
select pg_temp.uid('user', 1 + (i - 1) %% %(users)s), pg_temp.uid('material', 1 + ((i - 1) / %(users)s) %% 500),
       'COMPLETED'::learning."ProgressStatus", pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, least(%(n)s, 500 * %(users)s)) i
union all
select pg_temp.uid('user', 1), pg_temp.uid('material', x), 'COMPLETED'::learning."ProgressStatus", now()
  from generate_series(1, 500) x
    on conflict do nothing""",
    "submissions": """
insert into learning.assignment_submissions (user_id, assignment_id, code, status, score, submitted_at, created_at)
select pg_temp.owner(i, %(users)s), pg_temp.uid('assignment', case when i %% 20 = 0 then 1 + (i / 20) %% 3 else 1 + (i * 31) %% 300 end), 'print(' || i || ')',
       case when i %% 50 = 0 then 'PENDING' else 'PASSED' end::learning."SubmissionStatus",
       case when i %% 50 = 0 then null else i %% 11 end,
       pg_temp.ago(i, %(n)s, '1 year'), pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, %(n)s) i""",
    "attempts": """
insert into learning.mcq_attempts (user_id, quiz_id, score, max_score, passed, started_at, finished_at, created_at)
select pg_temp.owner(i, %(users)s), pg_temp.uid('quiz', case when i %% 20 = 0 then 1 + (i / 20) %% 3 else 1 + (i * 17) %% 200 end), i %% 6, 5, i %% 6 >= 3,
       pg_temp.ago(i, %(n)s, '1 year'), pg_temp.ago(i, %(n)s, '1 year') + interval '5 minutes',
       pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, %(n)s) i""",
    "subscriptions": """
insert into payments.subscriptions (id, user_id, plan, status, current_period_start, current_period_end,
                                    cancel_at_period_end, trial_ends_at, created_at)
select pg_temp.uid('subscription', i), pg_temp.uid('user', 1 + (i - 1) %% %(users)s),
       (array['FREE', 'PRO', 'ENTERPRISE'])[1 + i %% 3]::payments."SubscriptionPlan",
       (array['TRIALING', 'ACTIVE', 'ACTIVE', 'ACTIVE', 'PAST_DUE', 'CANCELED', 'EXPIRED', 'EXPIRED'])
         [1 + i %% 8]::payments."SubscriptionStatus",
       pg_temp.ago(i, %(n)s, '1 year'), pg_temp.ago(i, %(n)s, '1 year') + interval '30 days',
       i %% 7 = 0, pg_temp.ago(i, %(n)s, '1 year') + interval '14 days', pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, %(n)s) i""",
    "transactions": """
insert into payments.transactions (id, user_id, subscription_id, amount_minor, currency, status,
                                   provider_payment_id, created_at)
select pg_temp.uid('transaction', i), pg_temp.owner(i, %(users)s), null, 999 + i %% 5000, 'USD',
       'SUCCEEDED'::payments."TransactionStatus", %(seed)s || ':pay:' || i, pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, %(n)s) i""",
    "invoices": """
insert into payments.invoices (user_id, number, amount_minor, currency, status, created_at)
select pg_temp.owner(i, %(users)s), 'INV-' || %(seed)s || '-' || i, 999 + i %% 5000, 'USD', 'PAID'::payments."InvoiceStatus",
       pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, %(n)s) i""",
    "notifications": """
insert into notifications.notifications (user_id, type, title, body, read_at, created_at)
select pg_temp.owner(i, %(users)s), 'submission.graded', 'Graded', 'Your submission ' || i || ' was graded',
       case when (i / 20) %% 10 < 7 then pg_temp.ago(i, %(n)s, '180 days') + interval '1 hour' end,
       pg_temp.ago(i, %(n)s, '180 days')
  from generate_series(1, %(n)s) i""",
    # A card for every other user, the heavy user has a few; preferences for every fifth.
    "payment_methods": """
insert into payments.payment_methods (user_id, type, provider, provider_method_id, brand, last4,
                                      exp_month, exp_year, is_default, created_at)
select pg_temp.uid('user', case when i <= 5 then 1 else 2 * i end), 'CARD', 'stripe',
       %(seed)s || ':pm:' || i, 'visa', lpad((i %% 10000)::text, 4, '0'), 1 + i %% 12, 2030,
       i = 1 or i > 5, pg_temp.ago(i, %(n)s, '1 year')
  from generate_series(1, least(%(n)s, %(users)s / 2)) i""",
    "preferences": """
insert into notifications.notification_preferences (user_id, channel, type, enabled)
select pg_temp.uid('user', case when i <= 3 then 1 else 5 * i end),
       (array['email', 'in_app', 'push'])[1 + i %% 3], null, i %% 2 = 0
  from generate_series(1, least(%(n)s, %(users)s / 5)) i""",
    "email_logs": """
insert into notifications.email_logs (user_id, to_email, template, subject, status, created_at)
select pg_temp.owner(i, %(users)s), 'user' || i || '@example.com', 'welcome', 'Welcome',
       case when i %% 100 = 0 then 'queued' else 'delivered' end, pg_temp.ago(i, %(n)s, '180 days')
  from generate_series(1, %(n)s) i""",
    "activities": """
insert into activity.user_activities (user_id, type, entity_type, entity_id, created_at)
select pg_temp.owner(i, %(users)s), 'module.viewed', 'module', pg_temp.uid('module', 1 + i %% 100),
       pg_temp.ago(i, %(n)s, '90 days')
  from generate_series(1, %(n)s) i""",
    # 20 event names, the first ones far more common; 10% anonymous.
    "events": """
insert into activity.analytics_events (id, name, user_id, properties, occurred_at)
select pg_temp.uid('event', i),
       'event_' || lpad((floor(20 * power((i * 2654435761) %% 1000 / 1000.0, 3)))::int::text, 2, '0'),
       case when i %% 10 = 5 then null else pg_temp.owner(i, %(users)s) end,
       jsonb_build_object('path', '/lessons/' || i %% 50),
       pg_temp.ago(i, %(n)s, '90 days') + (i %% 60) * interval '1 second'
  from generate_series(%(lo)s, %(hi)s) i""",
}
_ORDER = list(_TABLES)


def _chunks(total: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(1, total + 1, size):
        yield lo, min(total, lo + size - 1)


def fill(url: str, scale: float = 1.0, seed: int = 13, *, verbose: bool = True) -> dict[str, int]:
    """Fill the (empty, migrated) database at *url*; return the row counts."""
    counts = sizes(scale)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("set synchronous_commit = off")
        conn.execute("set maintenance_work_mem = '256MB'")
        conn.execute(_FUNCTIONS % {"seed": seed})  # no parameters: several statements at once
        _partitions(conn)
        _run(conn, "catalogue", _CATALOGUE, {"seed": seed}, verbose)
        for name in _ORDER:
            params = {"n": counts[name], "users": counts["users"], "seed": seed}
            if name == "events":  # in chunks: one statement's transition table stays small
                for lo, hi in _chunks(counts[name], 1_000_000):
                    _run(
                        conn,
                        f"events {lo}-{hi}",
                        _TABLES[name],
                        {**params, "lo": lo, "hi": hi},
                        verbose,
                    )
            else:
                _run(conn, name, _TABLES[name], params, verbose)
        _run(conn, "vacuum analyze", "vacuum analyze", {}, verbose)
    return counts


def _partitions(conn: psycopg.Connection[Any]) -> None:
    # After issue 13 the events table is partitioned by month: make the 90 days' months.
    exists = conn.execute(
        "select to_regprocedure('activity.create_event_partitions(date, integer)') is not null"
    ).fetchone()
    if exists and exists[0]:
        conn.execute(
            "select activity.create_event_partitions((now() - interval '100 days')::date, 6)"
        )


def _run(
    conn: psycopg.Connection[Any], label: str, text: str, params: dict[str, Any], verbose: bool
) -> None:
    started = time.perf_counter()
    conn.execute(text % {k: str(v) for k, v in params.items()})
    if verbose:
        print(f"  {label:<22} {time.perf_counter() - started:7.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a migrated, empty database")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = fill(args.url, args.scale, args.seed)
    print(f"scale {args.scale}: {counts} in {time.perf_counter() - started:.0f} s")
    print(f"heavy user: {heavy_user_id(args.seed)}")


if __name__ == "__main__":
    main()
