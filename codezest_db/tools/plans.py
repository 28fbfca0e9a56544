"""``codezest-db check --plans``: how every query runs on a seeded database.

Each query is prepared, given realistic parameter values taken from the data
(the user who owns the most rows, a row deep into that user's pages, ...),
and run under ``EXPLAIN (ANALYZE, BUFFERS)`` twice in a rolled-back
transaction: once with the custom plan PostgreSQL makes for those values and
once with the generic plan it switches a prepared statement to after five
executions. A `Finding` (file:line) is reported for

- a Seq Scan on a large table (``LARGE_ROWS`` rows or more by the planner's
  statistics): the query is missing an index, or does not use it;
- a sort that spilled to disk;
- a generic plan that reads ``GENERIC_FACTOR`` times the buffers of the custom
  plan (and at least ``GENERIC_FLOOR``), unless the query's doc comment has the
  line ``-- plan: custom``: such a query is never prepared, so PostgreSQL plans
  it for each call's values.

The database must hold enough rows for the sizes to count (bench/scale_dataset.py
fills one) and have fresh statistics (VACUUM ANALYZE): on an empty database every
table is small and every plan looks fine.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.pq import ExecStatus

from .._query.parse import QuerySpec, load_specs
from ..errors import QueryError
from .catalog import Catalog, PgType
from .describe import Finding, connect, error_text, finding, numbered

__all__ = [
    "GENERIC_FACTOR",
    "GENERIC_FLOOR",
    "LARGE_ROWS",
    "Measured",
    "Prepared",
    "check_plans",
    "measure",
    "prepared",
]

LARGE_ROWS = 10_000
GENERIC_FACTOR = 3
GENERIC_FLOOR = 100
DEEP_ROW = 10_000  # how far into the heaviest owner's rows the keyset bound lies
LIMIT = 20
BATCH = 1_000

_TABLE = re.compile(r"\b(?:from|update|into|join)\s+(\w+)\.(\w+)", re.I)
_KEYSET = re.compile(r"\((\w+),\s*id\)\s*<\s*\(\s*coalesce\(\s*%\((\w+)\)s", re.I)


@dataclass(frozen=True)
class Measured:
    """What one plan of a query did."""

    plan: dict[str, Any]
    buffers: int  # shared buffers hit or read, the whole statement
    analyzed: bool  # run (EXPLAIN ANALYZE) or only planned


def check_plans(url: str, root: Path | None = None) -> list[Finding]:
    """Every plan finding about the queries under *root* (default: shipped) on *url*."""
    try:
        specs = list(_specs(load_specs(root)))
    except QueryError as exc:
        return [Finding("", "loading queries", str(exc))]
    findings: list[Finding] = []
    with connect(url) as conn:
        catalog = Catalog(conn)
        sizes = _sizes(conn)
        for spec in specs:
            if spec.sql:
                findings.extend(_check(conn, catalog, sizes, spec))
    return findings


def _specs(loaded: dict[str, list[QuerySpec]]) -> Iterator[QuerySpec]:
    for entries in loaded.values():
        yield from entries


def _check(
    conn: psycopg.Connection[Any], catalog: Catalog, sizes: dict[str, float], spec: QuerySpec
) -> list[Finding]:
    try:
        custom, generic = measure(conn, catalog, spec)
    except psycopg.Error as exc:
        return [finding(spec, f"cannot plan it on this database: {error_text(exc, [])}")]
    findings = _problems(spec, custom, sizes, "custom")
    if not spec.custom_plan:  # prepared: from the sixth call it may run the generic plan
        if not findings:  # the same problem in both plans is said once
            findings = _problems(spec, generic, sizes, "generic")
        if (
            custom.analyzed
            and generic.buffers >= GENERIC_FLOOR
            and generic.buffers > GENERIC_FACTOR * max(custom.buffers, 1)
        ):
            findings.append(
                finding(
                    spec,
                    f"its generic plan reads {generic.buffers} buffers against "
                    f"{custom.buffers} for the custom plan, and psycopg switches to the "
                    "generic plan from the sixth call: make the query's bounds sargable, or "
                    "add `-- plan: custom` to its doc comment",
                )
            )
    return findings


def measure(
    conn: psycopg.Connection[Any], catalog: Catalog, spec: QuerySpec
) -> tuple[Measured, Measured]:
    """The custom and the generic plan of *spec*, run on sample values (rolled back).

    A query that fails on the sample values (a constraint, say) is only planned.
    Raises psycopg.Error if it does not even plan.
    """
    with prepared(conn, catalog, spec) as stmt:
        custom, generic = (_explain(conn, stmt, mode) for mode in ("custom", "generic"))
    return custom, generic


@dataclass(frozen=True)
class Prepared:
    """A query prepared on the server, and the sample values chosen for it."""

    name: str  # of the prepared statement
    params: list[str]  # the query's parameters, in the order of its placeholders
    values: list[Any]  # a sample value for each

    def execute(self, values: list[Any] | None = None) -> sql.Composed:
        """``EXECUTE`` of the statement with *values* (default: the sample ones) as literals."""
        chosen = self.values if values is None else values
        args = sql.SQL("({})").format(sql.SQL(", ").join(map(_literal, chosen)))
        return sql.SQL("execute {}").format(sql.Identifier(self.name)) + (
            args if chosen else sql.SQL("")
        )


@contextmanager
def prepared(
    conn: psycopg.Connection[Any], catalog: Catalog, spec: QuerySpec
) -> Iterator[Prepared]:
    """*spec* prepared in a transaction rolled back at the end, with values from the data.

    The values make the plan realistic (`_sample`); statements in the block
    have a 60 s statement timeout. Raises psycopg.Error if it does not prepare.
    """
    text, used = numbered(spec.sql)
    name = f"codezest_plans_{uuid.uuid4().hex[:12]}"
    with conn.transaction(force_rollback=True):
        conn.execute("set local statement_timeout = '60s'")
        result = conn.pgconn.prepare(name.encode(), text.encode())
        if result.status != ExecStatus.COMMAND_OK:
            raise psycopg.ProgrammingError(result.error_message.decode(errors="replace"))
        described = conn.pgconn.describe_prepared(name.encode())
        types = [catalog.type(described.param_type(i)) for i in range(len(used))]
        yield Prepared(name, used, _sample(conn, catalog, spec, used, types))
        conn.execute(sql.SQL("deallocate {}").format(sql.Identifier(name)))


def _explain(conn: psycopg.Connection[Any], stmt: Prepared, mode: str) -> Measured:
    for analyze in (True, False):
        options = "analyze, buffers, verbose, format json" if analyze else "verbose, format json"
        statement = sql.SQL("explain ({}) ").format(sql.SQL(options)) + stmt.execute()
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(f"set local plan_cache_mode = force_{mode}_plan")
                row = conn.execute(statement).fetchone()
        except psycopg.errors.QueryCanceled:
            raise
        except psycopg.Error:
            if analyze:
                continue  # the sample values break a constraint: plan it only
            raise
        found = row[0] if row else None
        document = json.loads(found) if isinstance(found, str) else found
        plan = dict(document[0]["Plan"]) if document else {}
        buffers = int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))
        return Measured(plan, buffers, analyze)
    raise AssertionError("unreachable")  # pragma: no cover


def _literal(value: Any) -> sql.Composable:
    if value is None:
        return sql.SQL("null")
    if isinstance(value, dict | list):
        return sql.Literal(json.dumps(value))
    return sql.Literal(str(value))  # an untyped literal: the statement's parameter type applies


def _problems(
    spec: QuerySpec, measured: Measured, sizes: dict[str, float], which: str
) -> list[Finding]:
    found = []
    for node in _nodes(measured.plan):
        kind = node.get("Node Type")
        if kind == "Seq Scan":
            table = f"{node.get('Schema')}.{node.get('Relation Name')}"
            rows = sizes.get(table, 0)
            if rows >= LARGE_ROWS and _read(node, measured.analyzed) >= LARGE_ROWS:
                found.append(
                    finding(
                        spec,
                        f"a Seq Scan on {table} ({rows:,.0f} rows) in its {which} plan: add an "
                        "index that fits its conditions, or make them sargable",
                    )
                )
        if kind in ("Sort", "Incremental Sort") and node.get("Sort Space Type") == "Disk":
            found.append(
                finding(
                    spec,
                    f"a sort spilled to disk ({node.get('Sort Space Used')} kB) in its {which} "
                    "plan: read the rows in order from an index, or aggregate less",
                )
            )
    return found


def _read(node: dict[str, Any], analyzed: bool) -> float:
    """Rows a scan read: run, the rows it returned or filtered out (a scan that a
    Limit stops early reads few); only planned, as many as the table has."""
    if not analyzed:
        return float("inf")
    loops = float(node.get("Actual Loops", 1))
    return loops * (
        float(node.get("Actual Rows", 0)) + float(node.get("Rows Removed by Filter", 0))
    )


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


def _sizes(conn: psycopg.Connection[Any]) -> dict[str, float]:
    """Rows per table by the planner's statistics (a partition is its own table)."""
    rows = conn.execute(
        """
        select n.nspname || '.' || c.relname, greatest(c.reltuples, 0)
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where c.relkind = 'r' and n.nspname !~ '^(pg_|information_schema$)'
        """
    ).fetchall()
    return {name: float(count) for name, count in rows}


# -- sample parameter values ----------------------------------------------------------


def _sample(
    conn: psycopg.Connection[Any],
    catalog: Catalog,
    spec: QuerySpec,
    used: list[str],
    types: list[PgType],
) -> list[Any]:
    """Values for *used* that make the plan realistic: taken from a deep row of the
    heaviest owner of the query's main table (the first it names with a user_id,
    else the first), else by type."""
    tables = _TABLE.findall(spec.sql)
    owned = [(schema, t) for schema, t in tables if (schema, t, "user_id") in catalog.by_name]
    main = (owned or tables or [None])[0]
    row = _row(conn, catalog, *main) if main else {}
    keyset = {param: column for column, param in _KEYSET.findall(spec.sql)}
    values = []
    for param, pg_type in zip(used, types, strict=True):
        if param in keyset and keyset[param] in row:
            values.append(row[keyset[param]])
        elif param in ("before_id", "after_id") and "id" in row:
            values.append(row["id"])
        elif param in row:
            values.append(row[param])
        else:
            found = _common(conn, catalog, _TABLE.findall(spec.sql), param)
            values.append(found if found is not None else _by_type(param, pg_type))
    return values


def _common(
    conn: psycopg.Connection[Any], catalog: Catalog, tables: list[tuple[str, str]], column: str
) -> Any:
    """The most common value of a column named *column* in one of *tables*."""
    for schema, table in tables:
        if (schema, table, column) not in catalog.by_name:
            continue
        found = conn.execute(
            sql.SQL("select {} from {} group by 1 order by count(*) desc limit 1").format(
                sql.Identifier(column), sql.Identifier(schema, table)
            )
        ).fetchone()
        if found is not None:
            return found[0]
    return None


def _row(
    conn: psycopg.Connection[Any], catalog: Catalog, schema: str, table: str
) -> dict[str, Any]:
    if (schema, table) not in catalog.tables:
        return {}
    target = sql.Identifier(schema, table)
    owner = _heaviest(conn, catalog, schema, table)
    where = sql.SQL("where user_id = {}").format(sql.Literal(owner)) if owner else sql.SQL("")
    for offset in (DEEP_ROW, 0):
        cur = conn.execute(
            sql.SQL("select * from {} {} offset {} limit 1").format(
                target, where, sql.Literal(offset)
            )
        )
        found = cur.fetchone()
        if found is not None:
            names = [d.name for d in cur.description or ()]
            return dict(zip(names, found, strict=True))
    return {}


def _heaviest(conn: psycopg.Connection[Any], catalog: Catalog, schema: str, table: str) -> Any:
    if (schema, table, "user_id") not in catalog.by_name:
        return None
    found = conn.execute(
        "select (most_common_vals::text::text[])[1] from pg_stats"
        " where schemaname = %s and tablename = %s and attname = 'user_id'"
        "   and most_common_vals is not null order by inherited desc limit 1",
        (schema, table),
    ).fetchone()
    return found[0] if found else None


def _by_type(param: str, pg_type: PgType) -> Any:
    now = datetime.now(UTC)
    if param == "until" or (param == "before" and pg_type.name == "date"):
        return now.date() if pg_type.name == "date" else now
    if param == "limit":
        return LIMIT
    if param in ("batch_size", "months"):
        return BATCH if param == "batch_size" else 3
    if pg_type.kind == "e":
        return pg_type.labels[0]
    return (
        _DEFAULTS.get(pg_type.name, lambda: "x")()
        if pg_type.name != "timestamptz"
        else (now - timedelta(days=30))
    )


_DEFAULTS: dict[str, Any] = {
    "uuid": uuid.uuid4,
    "int2": lambda: 1,
    "int4": lambda: 1,
    "int8": lambda: 1,
    "numeric": lambda: 1,
    "bool": lambda: True,
    "jsonb": lambda: {},
    "json": lambda: {},
    "inet": lambda: "127.0.0.1",
    "date": lambda: date.today() - timedelta(days=30),
    "bpchar": lambda: "USD",
}
