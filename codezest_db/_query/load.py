"""Load ``queries/`` with aiosql and wrap each query: params in, model out.

A query file is one domain (``queries/auth.sql``), or a folder of files is
(``queries/auth/*.sql``). Each block reads::

    -- name: get_user_by_email(email)^
    -- record_class: User
    -- Fetch an active user by email, ignoring case.
    select ...

The ``record_class`` line names the model of the rows (required for ``^`` and
plain selects, refused elsewhere); the comment under it becomes the
function's ``__doc__``; a doc line ``optional: a, b`` makes those parameters
default to None.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
from aiosql.query_loader import QueryLoader
from aiosql.types import QueryDatum, SQLOperationType
from aiosql.utils import SQLLoadException, SQLParseException
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from .. import models
from .._resources import queries_dir
from ..errors import InvalidParameters, QueryError, from_psycopg
from ..ingest import arecord_events, record_events
from .rows import AsyncAdapter, SyncAdapter, model_row

__all__ = [
    "Domain",
    "Domains",
    "QuerySpec",
    "load_async_queries",
    "load_specs",
    "load_sync_queries",
]

Op = SQLOperationType
_RETURNS_ROWS = (Op.SELECT, Op.SELECT_ONE)
_SUPPORTED = (Op.SELECT, Op.SELECT_ONE, Op.SELECT_VALUE, Op.INSERT_UPDATE_DELETE)
_RECORD_LINE = re.compile(r"^\s*--\s*record_class\s*:\s*(\S*)", re.M)
_OPTIONAL_LINE = re.compile(r"^optional\s*:\s*(.*)$", re.M | re.I)
_NOT_NULL_LINE = re.compile(r"^not null\s*:\s*(.*)$", re.M | re.I)


@dataclass(frozen=True)
class QuerySpec:
    """What a query file says about one query."""

    domain: str
    name: str
    sql: str
    doc: str
    operation: SQLOperationType
    model: type[BaseModel] | None
    params: tuple[str, ...]
    optional: frozenset[str]
    source: str
    not_null: frozenset[str] = frozenset()  # result columns asserted never NULL

    @property
    def qualname(self) -> str:
        return f"{self.domain}.{self.name}"


class Domain:
    """The queries of one domain, as attributes: ``queries.auth.create_user``."""

    def __init__(self, name: str, functions: Mapping[str, Callable[..., Any]]) -> None:
        self._name = name
        self._names = tuple(sorted(functions))
        for query_name, fn in functions.items():
            setattr(self, query_name, fn)

    def __iter__(self) -> Any:
        return iter(self._names)

    def __repr__(self) -> str:
        return f"<queries {self._name}: {', '.join(self._names)}>"

    def __getattr__(self, name: str) -> Any:
        # Only called for a name that is not a query: say which were meant.
        if name.startswith("_"):  # copy, pickle and half-built instances probe these
            raise AttributeError(name)
        close = difflib.get_close_matches(name, self._names, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise AttributeError(f"no query {self._name}.{name}{hint}")


class Domains:
    """Every domain, as attributes: ``aio.queries.auth``."""

    def __init__(self, domains: Mapping[str, Domain]) -> None:
        self._domains = dict(domains)
        for name, domain in domains.items():
            setattr(self, name, domain)

    def __iter__(self) -> Any:
        return iter(sorted(self._domains))

    def __repr__(self) -> str:
        return f"<codezest queries: {', '.join(sorted(self._domains))}>"


# Queries written in Python (bulk COPY and the like), by domain: name -> (sync, async).
PYTHON_QUERIES: dict[str, dict[str, tuple[Callable[..., Any], Callable[..., Any]]]] = {
    "activity": {"record_events": (record_events, arecord_events)},
}


Specs = dict[str, list[tuple[QuerySpec, QueryDatum]]]


def load_specs(root: Path | None = None) -> Specs:
    """Parse every query file under *root* (default: the shipped ``queries/``).

    The shipped files are parsed once per process; the sync and asyncio query
    modules both build on that.
    """
    return _shipped_specs() if root is None else _load_specs(root)


@functools.cache
def _shipped_specs() -> Specs:
    return _load_specs(queries_dir())


def _load_specs(root: Path) -> Specs:
    record_classes = {name: getattr(models, name) for name in models.__all__}
    loader = QueryLoader(SyncAdapter(), record_classes, attribute=None)
    domains: dict[str, list[tuple[QuerySpec, QueryDatum]]] = {}
    for path in sorted(root.iterdir()):
        files = sorted(path.glob("*.sql")) if path.is_dir() else [path]
        files = [f for f in files if f.suffix == ".sql"]
        if files:
            domain = path.stem
            domains.setdefault(domain, []).extend(_parse(domain, files, loader, record_classes))
    return domains


def _parse(
    domain: str, files: Iterable[Path], loader: QueryLoader, record_classes: Mapping[str, Any]
) -> list[tuple[QuerySpec, QueryDatum]]:
    seen: dict[str, str] = {}
    out = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        try:
            data = loader.load_query_data_from_sql(text, [], path)
        except (SQLParseException, SQLLoadException) as exc:
            raise QueryError(f"{path}: {exc}") from exc
        for datum, block in zip(data, _blocks(text), strict=True):
            spec = _spec(domain, datum, block, record_classes)
            if spec.name in seen:
                raise QueryError(
                    f"{spec.source}: query {spec.qualname} is already defined at {seen[spec.name]}"
                )
            seen[spec.name] = spec.source
            out.append((spec, datum))
    return out


def _blocks(text: str) -> list[str]:
    return re.split(r"--\s*name\s*:", text)[1:]


def _spec(
    domain: str, datum: QueryDatum, block: str, record_classes: Mapping[str, Any]
) -> QuerySpec:
    fname, lineno = datum.floc
    source = f"{fname}:{lineno}"
    name, op = datum.query_name, datum.operation_type
    declared = _RECORD_LINE.search(block.split("\n", 2)[1] if "\n" in block else "")
    if op not in _SUPPORTED:
        raise QueryError(
            f"{source}: query {domain}.{name}: use '^' (one row), no suffix (rows), "
            "'$' (a value) or '!' (row count)"
        )
    if op in _RETURNS_ROWS and datum.record_class is None:
        what = f"unknown model {declared.group(1)!r}" if declared else "no model declared"
        raise QueryError(
            f"{source}: query {domain}.{name} returns rows but has {what}: add "
            "'-- record_class: Model' under the name line, Model from codezest_db.models"
        )
    if op not in _RETURNS_ROWS and declared:
        raise QueryError(f"{source}: query {domain}.{name} returns no rows; drop its record_class")
    doc, optional, not_null = _doc(datum.doc_comments)
    params = tuple(datum.parameters or ())
    if not optional <= set(params):
        raise QueryError(f"{source}: query {domain}.{name}: optional names unknown parameters")
    return QuerySpec(
        domain, name, datum.sql, doc, op, datum.record_class, params, optional, source, not_null
    )


def _doc(comments: str) -> tuple[str, frozenset[str], frozenset[str]]:
    """Split a doc comment into the docstring and its metadata lines:
    ``optional: a, b`` (parameters defaulting to None) and ``not null: c``
    (result columns `codezest-db check` takes as never NULL)."""
    doc = _NOT_NULL_LINE.sub("", _OPTIONAL_LINE.sub("", comments)).strip()
    return doc, _listed(_OPTIONAL_LINE, comments), _listed(_NOT_NULL_LINE, comments)


def _listed(line: re.Pattern[str], comments: str) -> frozenset[str]:
    names: set[str] = set()
    for match in line.finditer(comments):
        names.update(n.strip() for n in match.group(1).split(",") if n.strip())
    return frozenset(names)


# Parameter types sent as they are; checked first because isinstance() against
# a pydantic model class is slow, and this runs for every parameter of every call.
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, UUID, datetime, date, Decimal})


def _adapt(params: dict[str, Any]) -> dict[str, Any]:
    # A dict is always a json object here; lists stay lists (PostgreSQL arrays).
    adapted = dict(params)
    for key, value in params.items():
        if type(value) in _PLAIN:
            continue
        if isinstance(value, dict):
            adapted[key] = Jsonb(value)
        elif isinstance(value, BaseModel):
            adapted[key] = Jsonb(value.model_dump(mode="json"))
    return adapted


class _Params:
    """Checks a call's keyword arguments against a query's declared parameters."""

    __slots__ = ("allowed", "defaults", "qualname", "required")

    def __init__(self, qualname: str, params: Iterable[str], optional: Iterable[str]) -> None:
        self.qualname = qualname
        self.allowed = frozenset(params)
        self.defaults = dict.fromkeys(optional)
        self.required = self.allowed - self.defaults.keys()

    def complete(self, given: dict[str, Any]) -> dict[str, Any]:
        missing = sorted(self.required - given.keys())
        unknown = sorted(given.keys() - self.allowed)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown {', '.join(unknown)}")
            expected = ", ".join(sorted(self.allowed)) or "none"
            raise InvalidParameters(
                f"{self.qualname}: {'; '.join(parts)} parameter(s) (expected: {expected})"
            )
        return {**self.defaults, **given}


def _signature(
    spec_params: Iterable[str], optional: frozenset[str], conn_type: Any
) -> inspect.Signature:
    conn = inspect.Parameter(
        "conn", inspect.Parameter.POSITIONAL_ONLY, default=None, annotation=conn_type | None
    )
    keywords = [
        inspect.Parameter(
            p,
            inspect.Parameter.KEYWORD_ONLY,
            default=None if p in optional else inspect.Parameter.empty,
        )
        for p in spec_params
    ]
    return inspect.Signature([conn, *keywords])


def _decorate(fn: Any, spec: QuerySpec, check: _Params, conn_type: Any) -> None:
    fn.__name__ = fn.__qualname__ = spec.name
    fn.__module__ = f"codezest_db.queries.{spec.domain}"
    fn.__doc__ = spec.doc or None
    fn.__signature__ = _signature(spec.params, spec.optional, conn_type)
    fn.sql = spec.sql
    fn.spec = spec
    fn.parameters = check.allowed


# How one query runs: ``method(conn, query_name, sql, params, row_factory)``.
Runner = tuple[Callable[..., Any], str, str, Any]


def _runner(adapter: SyncAdapter | AsyncAdapter, spec: QuerySpec) -> Runner:
    """Straight to the aiosql driver adapter's method for the query's operation.

    aiosql's own generated functions would add a layer of argument handling per
    call that our wrapper already did; the adapter methods are what they call.
    """
    name, sql, op = spec.qualname, spec.sql, spec.operation
    if op in _RETURNS_ROWS:
        assert spec.model is not None  # _spec() refuses rows without a model
        rows = model_row(name, spec.model)
        return (adapter.select_one if op is Op.SELECT_ONE else adapter.select), name, sql, rows
    if op is Op.SELECT_VALUE:
        return adapter.select_value, name, sql, None
    return adapter.insert_update_delete, name, sql, None


def _python_runner(spec: QuerySpec, fn: Callable[..., Any]) -> Runner:
    def method(conn: Any, name: str, sql: str, params: dict[str, Any], rows: Any) -> Any:
        return fn(conn, **params)

    return method, spec.qualname, "", None


def _prepare(params: dict[str, Any], check: _Params) -> dict[str, Any]:
    if params.keys() != check.allowed:
        params = check.complete(params)
    for value in params.values():
        if type(value) not in _PLAIN:
            return _adapt(params)
    return params


def _sync_query(spec: QuerySpec, run: Runner, borrow: Callable[[], Any]) -> Callable[..., Any]:
    check = _Params(spec.qualname, spec.params, spec.optional)
    method, name, sql, rows = run
    many = spec.operation is Op.SELECT

    def query(conn: psycopg.Connection[Any] | None = None, /, **params: Any) -> Any:
        if conn is not None and not isinstance(conn, psycopg.Connection):
            raise TypeError(f"{spec.qualname}: conn must be a psycopg Connection, got {conn!r}")
        params = _prepare(params, check)
        try:
            if conn is None:
                with borrow() as borrowed:
                    result = method(borrowed, name, sql, params, rows)
                    return list(result) if many else result
            result = method(conn, name, sql, params, rows)
            return list(result) if many else result
        except psycopg.Error as exc:
            raise from_psycopg(exc) from exc

    _decorate(query, spec, check, psycopg.Connection)
    return query


def _async_query(spec: QuerySpec, run: Runner, borrow: Callable[[], Any]) -> Callable[..., Any]:
    check = _Params(spec.qualname, spec.params, spec.optional)
    method, name, sql, rows = run
    many = spec.operation is Op.SELECT

    async def call(conn: Any, params: dict[str, Any]) -> Any:
        if many:
            return [row async for row in method(conn, name, sql, params, rows)]
        return await method(conn, name, sql, params, rows)

    async def query(conn: psycopg.AsyncConnection[Any] | None = None, /, **params: Any) -> Any:
        if conn is not None and not isinstance(conn, psycopg.AsyncConnection):
            raise TypeError(
                f"{spec.qualname}: conn must be a psycopg AsyncConnection, got {conn!r}"
            )
        params = _prepare(params, check)
        try:
            if conn is None:
                async with borrow() as borrowed:
                    return await call(borrowed, params)
            return await call(conn, params)
        except psycopg.Error as exc:
            raise from_psycopg(exc) from exc

    _decorate(query, spec, check, psycopg.AsyncConnection)
    return query


def _python_spec(domain: str, name: str, fn: Callable[..., Any]) -> QuerySpec:
    sig = inspect.signature(fn)
    params = tuple(p for p in sig.parameters if p != "conn")
    optional = frozenset(
        p.name for p in sig.parameters.values() if p.name != "conn" and p.default is not p.empty
    )
    return QuerySpec(
        domain,
        name,
        "",
        inspect.getdoc(fn) or "",
        Op.INSERT_UPDATE_DELETE,
        None,
        params,
        optional,
        f"{inspect.getsourcefile(fn)}",
    )


def _load(is_async: bool, borrow: Callable[[], Any]) -> dict[str, Domain]:
    adapter = AsyncAdapter() if is_async else SyncAdapter()
    wrap = _async_query if is_async else _sync_query
    domains: dict[str, Domain] = {}
    for domain, entries in load_specs().items():
        functions = {spec.name: wrap(spec, _runner(adapter, spec), borrow) for spec, _ in entries}
        for name, pair in PYTHON_QUERIES.get(domain, {}).items():
            if name in functions:
                raise QueryError(f"query {domain}.{name} is defined both in SQL and in Python")
            spec = _python_spec(domain, name, pair[0])
            fn = pair[1] if is_async else pair[0]
            functions[name] = wrap(spec, _python_runner(spec, fn), borrow)
        domains[domain] = Domain(domain, functions)
    return domains


def load_sync_queries() -> dict[str, Domain]:
    """Every domain's queries as sync functions borrowing from `codezest_db.pool`."""
    from .. import pool

    return _load(False, pool.connection)


def load_async_queries() -> Domains:
    """Every domain's queries as coroutine functions borrowing from `codezest_db.aio`."""
    from .. import aio

    return Domains(_load(True, lambda: aio.connection()))
