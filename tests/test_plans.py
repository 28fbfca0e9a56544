"""Query plans on a seeded, skewed database: `codezest-db check --plans` and the
generic-plan cliff (issue 9 item 3, issue 13 item 4).

The database is filled by bench/scale_dataset.py at a small scale (10k users,
100k events) and analyzed, so the planner sees large tables and a heavy user
who owns 5% of every per-user table: the shape that exposes a query whose
generic plan (used by a prepared statement from its sixth execution) is
much worse than the plan made for the call's own values.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from codezest_db import migrate, queries
from codezest_db._query.parse import load_specs
from codezest_db.testing import TestServer
from codezest_db.tools import plans
from codezest_db.tools.describe import numbered

ROOT = Path(__file__).resolve().parent.parent
SCALE = 0.01
# psycopg prepares a statement on its fifth execution; PostgreSQL plans the first
# five executions of a prepared statement for their values, then may go generic.
CALLS = 12
PAGE = 3  # rows per page: twelve pages deep into the heavy user's rows


def _dataset() -> Any:
    spec = importlib.util.spec_from_file_location("scale_dataset", ROOT / "bench/scale_dataset.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["scale_dataset"] = module
    spec.loader.exec_module(module)
    return module


dataset = _dataset()


@pytest.fixture(scope="module")
def seeded_url(test_server: TestServer) -> Iterator[str]:
    """A migrated database filled with the scale dataset at SCALE, analyzed."""
    url = test_server.create_database("codezest_plans")
    try:
        migrate.up(url)
        dataset.fill(url, SCALE, verbose=False)
        yield url
    finally:
        test_server.drop_database(url)


@pytest.fixture
def seeded(seeded_url: str) -> Iterator[psycopg.Connection[Any]]:
    """A fresh connection (no prepared statements yet), psycopg's default threshold."""
    with psycopg.connect(seeded_url) as conn:
        yield conn
        conn.rollback()


# -- the plan check ------------------------------------------------------------------------


def test_every_shipped_query_plans_well_on_the_seeded_database(seeded_url: str) -> None:
    findings = plans.check_plans(seeded_url)
    assert [str(f) for f in findings] == []


BAD = """
-- name: list_by_body(body)
-- record_class: Notification
-- No index on body: a Seq Scan of every notification.
select id, user_id, type, title, body, data, read_at, created_at, updated_at
  from notifications.notifications
 where body = :body;

-- name: list_page(before, limit)
-- record_class: Notification
-- The OR keeps the bound out of the index in the generic plan.
-- optional: before
select id, user_id, type, title, body, data, read_at, created_at, updated_at
  from notifications.notifications
 where (:before::timestamptz is null or created_at < :before)
 order by created_at desc, id desc
 limit :limit;

-- name: list_page_custom(before, limit)
-- record_class: Notification
-- The same, declared to be planned per call.
-- optional: before
-- plan: custom
select id, user_id, type, title, body, data, read_at, created_at, updated_at
  from notifications.notifications
 where (:before::timestamptz is null or created_at < :before)
 order by created_at desc, id desc
 limit :limit;

-- name: sorted_events()
-- record_class: AnalyticsEvent
-- Every event sorted by a column no index has: the sort spills to disk.
select id, name, user_id, properties, occurred_at, created_at
  from activity.analytics_events
 order by properties::text, id;
"""


def test_plan_findings_name_file_line_and_problem(seeded_url: str, tmp_path: Path) -> None:
    (tmp_path / "notifications.sql").write_text(BAD.split("-- name: sorted_events")[0])
    (tmp_path / "activity.sql").write_text("-- name: sorted_events" + BAD.split("sorted_events")[1])
    _set_work_mem(seeded_url, "set work_mem = '1MB'")  # so that 100k sorted events spill
    try:
        found = [str(f) for f in plans.check_plans(seeded_url, tmp_path)]
    finally:
        _set_work_mem(seeded_url, "reset work_mem")
    by_query: dict[str, list[str]] = {}
    for text in found:
        by_query.setdefault(text.split(": ")[1], []).append(text)
    body = by_query.pop("notifications.list_by_body")
    assert any(
        "notifications.sql:2:" in t and "Seq Scan on notifications.notifications" in t for t in body
    )
    page = by_query.pop("notifications.list_page")
    assert any("notifications.sql:9:" in t and "its generic plan reads" in t for t in page), page
    assert "notifications.list_page_custom" not in {
        k for k, v in by_query.items() if any("generic plan reads" in t for t in v)
    }
    events = by_query.pop("activity.sorted_events")
    assert any("a sort spilled to disk" in t for t in events), events


def _set_work_mem(url: str, setting: str) -> None:
    name = str(psycopg.conninfo.conninfo_to_dict(url)["dbname"])
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("alter database {} {}").format(sql.Identifier(name), sql.SQL(setting)))


def test_check_plans_cli(seeded_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from codezest_db.cli import main

    assert main(["check", "--plans", "--url", seeded_url]) == 0
    assert "every query checks out" in capsys.readouterr().out


# -- the generic-plan cliff ----------------------------------------------------------------

Kwargs = dict[str, Any]
# Each query's keyword arguments for call n, given the previous call's rows:
# the heavy user, paging deeper on every call.
Pager = Callable[[Kwargs, list[Any]], Kwargs]


def _after(time_field: str) -> Pager:
    def next_page(base: Kwargs, rows: list[Any]) -> Kwargs:
        if not rows:
            return base
        return {**base, "before": getattr(rows[-1], time_field), "before_id": rows[-1].id}

    return next_page


def _after_id(param: str) -> Pager:
    def next_page(base: Kwargs, rows: list[Any]) -> Kwargs:
        return {**base, param: rows[-1].id} if rows else base

    return next_page


def _same(base: Kwargs, rows: list[Any]) -> Kwargs:
    return base


def _common(conn: psycopg.Connection[Any], table: str, column: str, user: uuid.UUID) -> Any:
    row = conn.execute(
        sql.SQL(
            "select {c} from {t} where user_id = %s group by 1 order by count(*) desc limit 1"
        ).format(c=sql.Identifier(column), t=sql.Identifier(*table.split("."))),
        (user,),
    ).fetchone()
    assert row is not None, (table, column)
    return row[0]


def _cases(conn: psycopg.Connection[Any], heavy: uuid.UUID) -> dict[str, tuple[Kwargs, Pager]]:
    """Every keyset and per-user list query, with the heavy user's arguments."""
    today = datetime.now(UTC).date()
    event = _common(conn, "activity.analytics_events", "name", heavy)
    return {
        "auth.list_users": ({"limit": PAGE}, _after_id("after_id")),
        "auth.list_user_sessions": ({"user_id": heavy}, _same),
        "learning.list_submissions": (
            {
                "user_id": heavy,
                "assignment_id": _common(
                    conn, "learning.assignment_submissions", "assignment_id", heavy
                ),
                "limit": PAGE,
            },
            _after("submitted_at"),
        ),
        "learning.list_attempts": (
            {
                "user_id": heavy,
                "quiz_id": _common(conn, "learning.mcq_attempts", "quiz_id", heavy),
                "limit": PAGE,
            },
            _after("started_at"),
        ),
        "learning.list_module_progress": (
            {"user_id": heavy, "language_id": _language(conn)},
            _same,
        ),
        "learning.list_material_progress": (
            {"user_id": heavy, "module_id": _module(conn)},
            _same,
        ),
        "payments.list_user_subscriptions": ({"user_id": heavy}, _same),
        "payments.list_user_transactions": (
            {"user_id": heavy, "limit": PAGE},
            _after_id("before_id"),
        ),
        "payments.list_user_invoices": ({"user_id": heavy, "limit": PAGE}, _after_id("before_id")),
        "payments.list_payment_methods": ({"user_id": heavy}, _same),
        "notifications.list_unread_notifications": ({"user_id": heavy, "limit": PAGE}, _same),
        "notifications.list_notifications": (
            {"user_id": heavy, "limit": PAGE},
            _after_id("before_id"),
        ),
        "notifications.list_user_email_logs": (
            {"user_id": heavy, "limit": PAGE},
            _after_id("before_id"),
        ),
        "notifications.list_notification_preferences": ({"user_id": heavy}, _same),
        "notifications.count_unread_notifications": ({"user_id": heavy}, _same),
        "activity.list_user_activity": ({"user_id": heavy, "limit": PAGE}, _after("created_at")),
        "activity.list_events_by_name": ({"name": event, "limit": PAGE}, _after("occurred_at")),
        "activity.count_events_by_day": (
            {"since": today - timedelta(days=30), "until": today, "name": event},
            _same,
        ),
        "activity.count_user_events_by_day": (
            {"user_id": heavy, "since": today - timedelta(days=30), "until": today},
            _same,
        ),
    }


def _language(conn: psycopg.Connection[Any]) -> Any:
    row = conn.execute("select id from learning.programming_languages order by slug limit 1")
    found = row.fetchone()
    assert found is not None
    return found[0]


def _module(conn: psycopg.Connection[Any]) -> Any:
    found = conn.execute("select id from learning.modules order by slug limit 1").fetchone()
    assert found is not None
    return found[0]


def _specs() -> dict[str, Any]:
    out = {}
    for entries in load_specs().values():
        for spec in entries:
            out[spec.qualname] = spec
    return out


SPECS = _specs()


def _case_names() -> list[str]:
    # The names only (the arguments need the seeded database).
    text = Path(__file__).read_text()
    section = text.split("def _cases(")[1].split("def _language(")[0]
    return sorted({q for q in SPECS if f'"{q}"' in section})


def test_every_list_query_has_a_case() -> None:
    lists = {
        q
        for q, spec in SPECS.items()
        if spec.sql
        and spec.name.startswith(("list_", "count_"))
        # Lists that grow with the users: a user's rows, a time-keyed feed, the users
        # themselves. The catalogue's lists (under one language, module, quiz,
        # submission or attempt) are bounded by the catalogue, not the scale dataset.
        and ("user_id" in spec.params or "before" in spec.params or q == "auth.list_users")
    }
    assert lists <= set(_case_names()), sorted(lists - set(_case_names()))


def _buffers(conn: psycopg.Connection[Any], statement: str, values: list[Any], mode: str) -> int:
    args = sql.SQL(", ").join(sql.Literal(v) for v in values)
    # No savepoint around it: psycopg forgets the statements it prepared when one
    # is rolled back. These are reads; the setting is reset after.
    conn.execute(f"set plan_cache_mode = force_{mode}_plan")
    row = conn.execute(
        sql.SQL("explain (analyze, buffers, format json) execute {}({})").format(
            sql.Identifier(statement), args
        )
    ).fetchone()
    conn.execute("reset plan_cache_mode")
    assert row is not None
    document = row[0] if not isinstance(row[0], str) else json.loads(row[0])
    top = document[0]["Plan"]
    return int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))


@pytest.mark.parametrize("qualname", _case_names())
def test_sixth_and_later_calls_keep_the_custom_plan_speed(
    seeded: psycopg.Connection[Any], qualname: str
) -> None:
    """Called CALLS times for the heavy user (paging deeper each time), a query is
    either never prepared (``-- plan: custom``) or, prepared, its generic plan reads
    no more than twice the buffers of the plan made for the call's own values."""
    heavy = dataset.heavy_user_id()
    base, pager = _cases(seeded, heavy)[qualname]
    domain, name = qualname.split(".")
    query = getattr(getattr(queries, domain), name)
    kwargs = base
    for _ in range(CALLS):
        rows = query(seeded, **kwargs)
        assert rows, f"{qualname}: the heavy user should have rows on every page"
        called, kwargs = kwargs, pager(base, rows)
    spec = SPECS[qualname]
    text, used = numbered(spec.sql)
    prepared = seeded.execute(
        "select name, generic_plans + custom_plans from pg_prepared_statements"
        " where statement = %s",
        (text,),
    ).fetchall()
    if spec.custom_plan:
        assert prepared == [], f"{qualname} says `plan: custom` but was prepared"
        return
    assert len(prepared) == 1, prepared  # psycopg prepared it
    values = [called.get(p) for p in used]
    generic = _buffers(seeded, prepared[0][0], values, "generic")
    custom = _buffers(seeded, prepared[0][0], values, "custom")
    assert generic <= 2 * custom + 10, (qualname, generic, custom)
