"""Prepare and describe queries: what PostgreSQL says about their parameters and columns.

Each query is prepared on the connection (PostgreSQL parses and types it
without running it) and described: the type of each parameter and, for each
result column, its name, type and the table column it comes from. Its generic
plan, read by `codezest_db.tools.nullability`, tells which columns can be NULL
and whether it always returns one row. `codezest_db.tools.check` and the stub
generator (`codezest_db.tools.stubs`) use this.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from aiosql.types import SQLOperationType
from psycopg import sql
from psycopg.pq import DiagnosticField, ExecStatus

from .._query.parse import QuerySpec
from ..errors import ConnectionFailed, redact_url
from .catalog import Catalog, PgType, TableColumn
from .nullability import Nullability

__all__ = [
    "Catalog",
    "Column",
    "Described",
    "Finding",
    "PgType",
    "TableColumn",
    "connect",
    "describe_queries",
    "error_text",
    "explain",
    "finding",
    "numbered",
    "plan_error",
]

Op = SQLOperationType
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")


@dataclass(frozen=True)
class Finding:
    """One disagreement between a query, its model, its parameters and the schema."""

    source: str
    query: str
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        column = f" column {self.column}:" if self.column else ""
        return f"{where}{self.query}:{column} {self.message}"


@dataclass(frozen=True)
class Column:
    """A result column of a query, as PostgreSQL describes it."""

    name: str
    type: PgType
    nullable: bool
    why: str  # why it is (or is not) nullable, for messages
    origin: TableColumn | None


@dataclass(frozen=True)
class Described:
    """A prepared query: its parameter types, result columns and row count."""

    spec: QuerySpec
    params: tuple[tuple[str, PgType], ...]  # in declared order
    columns: tuple[Column, ...]
    one_row: bool  # always exactly one row (an aggregate, a single-row insert)
    not_null: frozenset[str]  # the columns its `not null:` doc line names
    nullable_params: frozenset[str]  # inserted as is into columns that allow NULL


def connect(url: str) -> psycopg.Connection[Any]:
    """An autocommit connection to *url*; raises ConnectionFailed (without the password)."""
    try:
        return psycopg.connect(url, autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConnectionFailed(f"cannot connect to {redact_url(url)}: {exc}") from exc


def describe_queries(
    conn: psycopg.Connection[Any], specs: Mapping[str, Sequence[QuerySpec]]
) -> tuple[list[Described], list[Finding]]:
    """Prepare and describe every query on *conn* (autocommit); a failure is a finding."""
    catalog = Catalog(conn)
    conn.execute("set plan_cache_mode = force_generic_plan")
    described: list[Described] = []
    findings: list[Finding] = []
    for entries in specs.values():
        for spec in entries:
            result = _describe(conn, catalog, spec, spec.not_null)
            if isinstance(result, Described):
                described.append(result)
            else:
                findings.extend(result)
    conn.execute("deallocate all")
    return described, findings


def numbered(pyformat: str) -> tuple[str, list[str]]:
    """The SQL with ``$n`` placeholders, and the parameter names in their order."""
    used: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "%"
        if name not in used:
            used.append(name)
        return f"${used.index(name) + 1}"

    return _PLACEHOLDER.sub(number, pyformat), used


_counter = iter(range(1, 1 << 62))


def _statement_name() -> bytes:
    return f"codezest_check_{next(_counter)}".encode()


def _describe(
    conn: psycopg.Connection[Any], catalog: Catalog, spec: QuerySpec, asserted: frozenset[str]
) -> Described | list[Finding]:
    text, used = numbered(spec.sql)
    findings = _check_params(spec, used)
    if spec.operation not in (Op.SELECT, Op.SELECT_ONE, Op.SELECT_VALUE, Op.INSERT_UPDATE_DELETE):
        return findings  # the loader refuses these; nothing to describe
    name = _statement_name()
    result = conn.pgconn.prepare(name, text.encode())
    if result.status != ExecStatus.COMMAND_OK:
        return [*findings, _unprepared(spec, _error(result, used))]
    description = conn.pgconn.describe_prepared(name)
    try:
        nullability = Nullability(explain(conn, name, len(used)), catalog)
    except psycopg.Error as exc:
        return [*findings, finding(spec, f"the SQL does not plan: {error_text(exc, used)}")]
    if findings:
        return findings
    params = tuple((param, catalog.type(description.param_type(i))) for i, param in enumerate(used))
    order = {param: i for i, param in enumerate(spec.params)}
    params = tuple(sorted(params, key=lambda p: order.get(p[0], len(order))))
    fields = [
        (
            (description.fname(i) or b"").decode(),
            description.ftype(i),
            description.ftable(i),
            description.ftablecol(i),
        )
        for i in range(description.nfields)
    ]
    columns = tuple(_columns(nullability, catalog, fields, asserted))
    nullable = frozenset(
        used[n - 1]
        for n, targets in nullability.insert_targets().items()
        if 0 < n <= len(used) and all(t is not None and not t.not_null for t in targets)
    )
    nullable |= _null_tolerant(spec.sql, catalog)
    return Described(spec, params, columns, nullability.one_row(), asserted, nullable)


_CAST = r"(?:::[\w.\"]+(?:\[\])?)?"
_TESTED = re.compile(rf"%\((\w+)\)s{_CAST}\s+is\s+(?:not\s+)?null|coalesce\(\s*%\((\w+)\)s", re.I)
_UPDATE = re.compile(
    r"\bupdate\s+(\w+)\.(\w+)\b.*?\bset\b(.*?)(?:\bwhere\b|\breturning\b|\bfrom\b|$)", re.I | re.S
)
_ASSIGN = re.compile(rf"(\w+)\s*=\s*%\((\w+)\)s{_CAST}\s*(?=,|$)")


def _null_tolerant(pyformat: str, catalog: Catalog) -> frozenset[str]:
    """Parameters the SQL takes as NULL: tested with ``is null``, under ``coalesce``, or
    assigned as is to a column that allows NULL by an UPDATE."""
    found = {a or b for a, b in _TESTED.findall(pyformat)}
    for schema, table, assignments in _UPDATE.findall(pyformat):
        for column, param in _ASSIGN.findall(assignments.strip()):
            known = catalog.by_name.get((schema, table, column))
            if known is not None and not known.not_null:
                found.add(param)
    return frozenset(found)


_MISSING = re.compile(r'column "?(?:\w+\.)?(\w+)"? (?:of relation "(\w+)" )?does not exist')


def _unprepared(spec: QuerySpec, error: str) -> Finding:
    missing = _MISSING.search(error)
    if missing is None:
        return finding(spec, f"the SQL does not prepare: {error}")
    return finding(
        spec,
        f"the SQL does not prepare: {error}: the schema has no such column; make the query "
        "(and its model) use the column's name in the migrations, or fix the migration",
        missing[1],
    )


def _columns(
    nullability: Nullability,
    catalog: Catalog,
    fields: Sequence[tuple[str, int, int, int]],
    asserted: frozenset[str],
) -> Iterator[Column]:
    for k, (name, type_oid, table, attnum) in enumerate(fields):
        pg_type = catalog.type(type_oid)
        origin = catalog.columns.get((table, attnum)) if table else None
        resolved = nullability.output_nullable(k)
        if name in asserted:
            yield Column(name, pg_type, False, "declared by `not null:`", origin)
        elif origin is not None:
            yield _table_column(nullability, name, pg_type, origin, resolved)
        elif resolved is False:
            yield Column(name, pg_type, False, "never NULL", None)
        else:
            yield Column(name, pg_type, True, "an expression", None)


def _table_column(
    nullability: Nullability, name: str, pg_type: PgType, origin: TableColumn, resolved: bool | None
) -> Column:
    if not origin.not_null:
        return Column(name, pg_type, True, f"{origin} allows NULL", origin)
    outer = nullability.on_outer_side(origin.schema, origin.table)
    if resolved is True or (resolved is None and outer):
        return Column(name, pg_type, True, f"{origin} is on the outer side of a join", origin)
    return Column(name, pg_type, False, f"{origin} is NOT NULL", origin)


def plan_error(conn: psycopg.Connection[Any], spec: QuerySpec) -> str | None:
    """Prepare and plan *spec* on *conn* in a rolled-back savepoint: the error, or None.

    Planning checks privileges (preparing does not), so run it as a role to
    learn whether that role may run the query.
    """
    text, used = numbered(spec.sql)
    if not text:
        return None  # a query written in Python
    name = _statement_name()
    with conn.transaction(force_rollback=True):
        result = conn.pgconn.prepare(name, text.encode())
        if result.status != ExecStatus.COMMAND_OK:
            return _error(result, used)
        try:
            explain(conn, name, len(used))
        except psycopg.Error as exc:
            return error_text(exc, used)
    return None


def explain(conn: psycopg.Connection[Any], name: bytes, nparams: int) -> dict[str, Any]:
    args = f"({', '.join(['null'] * nparams)})" if nparams else ""
    statement = sql.SQL("explain (verbose, format json) execute {}").format(
        sql.Identifier(name.decode())
    )
    row = conn.execute(statement + sql.SQL(args)).fetchone()
    plan = row[0] if row else None
    if isinstance(plan, str):
        plan = json.loads(plan)
    return dict(plan[0]["Plan"]) if plan else {}


def _check_params(spec: QuerySpec, used: Sequence[str]) -> list[Finding]:
    findings = []
    for param in spec.params:
        if param not in used:
            findings.append(
                finding(
                    spec,
                    f"parameter {param} is declared on the name line but the SQL never uses "
                    f"it: use :{param} in the SQL or drop it from the name line",
                )
            )
    for param in used:
        if param not in spec.params:
            findings.append(
                finding(
                    spec,
                    f"the SQL uses :{param} but the name line does not declare it: add it to "
                    f"({', '.join((*spec.params, param))})",
                )
            )
    return findings


def _error(result: Any, used: Sequence[str]) -> str:
    parts = [
        result.error_field(DiagnosticField.MESSAGE_PRIMARY),
        result.error_field(DiagnosticField.MESSAGE_DETAIL),
        result.error_field(DiagnosticField.MESSAGE_HINT),
    ]
    text = "; ".join(p.decode(errors="replace") for p in parts if p)
    return _named(text or result.error_message.decode(errors="replace").strip(), used)


def error_text(exc: psycopg.Error, used: Sequence[str]) -> str:
    diag = exc.diag
    parts = [diag.message_primary, diag.message_detail, diag.message_hint]
    return _named("; ".join(p for p in parts if p) or str(exc), used)


def _named(text: str, used: Sequence[str]) -> str:
    def name(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return f":{used[index]}" if index < len(used) else match.group(0)

    return re.sub(r"\$(\d+)\b", name, text)


def finding(spec: QuerySpec, message: str, column: str | None = None) -> Finding:
    return Finding(_relative(spec.source), spec.qualname, message, column)


def _relative(source: str) -> str:
    try:
        relative = os.path.relpath(source)
    except ValueError:  # another drive
        return source
    return source if relative.startswith("..") else relative
