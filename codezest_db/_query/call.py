"""Make a query callable: keyword parameters in, checked; the statement runs; rows come out.

A call with a connection runs on it, in the caller's transaction. A call
without one goes to the pool's ``run`` (`codezest_db.pool.run` or
`codezest_db.aio.run`): one autocommit statement on a borrowed connection,
on the replica when the SQL only reads and a replica is configured.

Every call is logged at DEBUG on ``codezest_db.queries`` with its name and
duration (never its parameter values) and, when OpenTelemetry is installed,
is a span named after the query (``auth.get_user_by_email``).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from ..errors import InvalidParameters, from_psycopg
from . import rows, signatures
from .params import checker
from .parse import QuerySpec

__all__ = ["Run", "async_query", "sync_query"]

# How a call without a connection runs: ``run(executor, reads, sql, params, rows, prepare)``.
Run = Callable[..., Any]

_log = logging.getLogger("codezest_db.queries")
_trace: Any = None  # the opentelemetry.trace module, when installed
_tracer: Any = None  # set by tests; otherwise taken from the global provider
_tracer_loaded = False

# By the name of the query's aiosql operation.
_SYNC = {
    "SELECT_ONE": rows.fetch_one,
    "SELECT": rows.fetch_all,
    "SELECT_VALUE": rows.fetch_value,
    "INSERT_UPDATE_DELETE": rows.rowcount,
}
_ASYNC = {
    "SELECT_ONE": rows.afetch_one,
    "SELECT": rows.afetch_all,
    "SELECT_VALUE": rows.afetch_value,
    "INSERT_UPDATE_DELETE": rows.arowcount,
}

# Parameter types sent as they are; checked first because isinstance() against
# a pydantic model class is slow, and this runs for every parameter of every call.
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, UUID, datetime, date, Decimal})


class _Params:
    """Checks a call's keyword arguments against a query's parameters: names, then types."""

    __slots__ = ("allowed", "defaults", "qualname", "required", "types")

    def __init__(self, qualname: str, params: Iterable[str], optional: Iterable[str]) -> None:
        self.qualname = qualname
        self.allowed = frozenset(params)
        self.defaults = dict.fromkeys(optional)
        self.required = self.allowed - self.defaults.keys()
        types = signatures.PARAMS.get(qualname)
        self.types = checker(qualname, types, signatures.ENUMS) if types else None

    def __call__(self, given: dict[str, Any]) -> dict[str, Any]:
        if given.keys() != self.allowed:
            given = self._complete(given)
        if self.types is not None:
            self.types(given)
        for value in given.values():
            if type(value) not in _PLAIN:
                return _adapt(given)
        return given

    def _complete(self, given: dict[str, Any]) -> dict[str, Any]:
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


def _executor(spec: QuerySpec, table: dict[str, Any], python: Callable[..., Any] | None) -> Any:
    if python is None:
        return table[spec.operation.name]

    def execute(conn: Any, sql: str, params: dict[str, Any], rows: Any, prepare: Any) -> Any:
        return python(conn, **params)

    return execute


def sync_query(
    spec: QuerySpec, run: Run, python: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """The sync function of *spec*; *python* implements a query written in Python."""
    check = _Params(spec.qualname, spec.params, spec.optional)
    execute = _executor(spec, _SYNC, python)
    sql, reads, prepare = spec.sql, spec.reads, (False if spec.custom_plan else None)
    model_rows = rows.model_row(spec.model) if spec.model is not None else None

    def query(conn: psycopg.Connection[Any] | None = None, /, **params: Any) -> Any:
        if conn is not None and not isinstance(conn, psycopg.Connection):
            raise TypeError(f"{spec.qualname}: conn must be a psycopg Connection, got {conn!r}")
        params = check(params)
        with _observed(spec) if _observing() else nullcontext():
            try:
                if conn is None:
                    return run(execute, reads, sql, params, model_rows, prepare)
                return execute(conn, sql, params, model_rows, prepare)
            except psycopg.Error as exc:
                raise from_psycopg(exc) from exc

    _decorate(query, spec, check, psycopg.Connection)
    return query


def async_query(
    spec: QuerySpec, run: Run, python: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """The coroutine function of *spec*: the asyncio twin of `sync_query`."""
    check = _Params(spec.qualname, spec.params, spec.optional)
    execute = _executor(spec, _ASYNC, python)
    sql, reads, prepare = spec.sql, spec.reads, (False if spec.custom_plan else None)
    model_rows = rows.model_row(spec.model) if spec.model is not None else None

    async def query(conn: psycopg.AsyncConnection[Any] | None = None, /, **params: Any) -> Any:
        if conn is not None and not isinstance(conn, psycopg.AsyncConnection):
            raise TypeError(
                f"{spec.qualname}: conn must be a psycopg AsyncConnection, got {conn!r}"
            )
        params = check(params)
        with _observed(spec) if _observing() else nullcontext():
            try:
                if conn is None:
                    return await run(execute, reads, sql, params, model_rows, prepare)
                return await execute(conn, sql, params, model_rows, prepare)
            except psycopg.Error as exc:
                raise from_psycopg(exc) from exc

    _decorate(query, spec, check, psycopg.AsyncConnection)
    return query


def _decorate(fn: Any, spec: QuerySpec, check: _Params, conn_type: Any) -> None:
    fn.__name__ = fn.__qualname__ = spec.name
    fn.__module__ = f"codezest_db.queries.{spec.domain}"
    fn.__doc__ = spec.doc or None
    fn.__signature__ = _signature(spec, conn_type)
    fn.sql = spec.sql
    fn.spec = spec
    fn.parameters = check.allowed


def _signature(spec: QuerySpec, conn_type: Any) -> inspect.Signature:
    conn = inspect.Parameter(
        "conn", inspect.Parameter.POSITIONAL_ONLY, default=None, annotation=conn_type | None
    )
    keywords = [
        inspect.Parameter(
            p,
            inspect.Parameter.KEYWORD_ONLY,
            default=None if p in spec.optional else inspect.Parameter.empty,
        )
        for p in spec.params
    ]
    return inspect.Signature([conn, *keywords])


def _observing() -> bool:
    return _active_tracer() is not None or _log.isEnabledFor(logging.DEBUG)


_provider = (-1.0, None)  # when the tracer provider was last looked up, and its tracer


def _active_tracer() -> Any:
    """The tracer, while a real tracer provider is set: the no-op one costs 25 µs a call.

    Looking the provider up reads the environment, so it is done at most once a
    second: a provider set at start-up is in use from the first calls on.
    """
    global _provider
    if _tracer is not None or _trace is None:
        return _tracer
    checked, tracer = _provider
    now = time.monotonic()
    if now - checked < 1.0:
        return tracer
    provider = _trace.get_tracer_provider()
    if isinstance(provider, _trace.ProxyTracerProvider | _trace.NoOpTracerProvider):
        tracer = None
    else:
        tracer = provider.get_tracer("codezest_db")
    _provider = (now, tracer)
    return tracer


class _observed(AbstractContextManager[None]):  # noqa: N801 - used like a function
    """A span named after the query (OpenTelemetry installed) and a DEBUG record of its time."""

    __slots__ = ("_span", "_spec", "_start")

    def __init__(self, spec: QuerySpec) -> None:
        self._spec = spec
        self._span: Any = None
        self._start = 0.0

    def __enter__(self) -> None:
        tracer = _active_tracer()
        if tracer is not None:
            self._span = tracer.start_as_current_span(
                self._spec.qualname,
                kind=_trace.SpanKind.CLIENT,
                attributes={
                    "db.system": "postgresql",
                    "db.statement": self._spec.sql,
                    "db.operation": self._spec.name,
                    "code.namespace": f"codezest_db.queries.{self._spec.domain}",
                    "code.function": self._spec.name,
                },
            )
            self._span.__enter__()
        self._start = time.perf_counter()

    def __exit__(self, *exc: Any) -> None:
        elapsed = (time.perf_counter() - self._start) * 1000
        if _log.isEnabledFor(logging.DEBUG):
            outcome = "failed" if exc[0] is not None else "ok"
            _log.debug(
                "%s %s in %.3f ms",
                self._spec.qualname,
                outcome,
                elapsed,
                extra={"query": self._spec.qualname, "duration_ms": elapsed},
            )
        if self._span is not None:
            self._span.__exit__(*exc)


def load_tracer() -> None:
    """Find OpenTelemetry once, when the first domain loads (an optional dependency)."""
    global _trace, _tracer_loaded
    if _tracer_loaded:
        return
    _tracer_loaded = True
    try:
        from opentelemetry import trace
    except ImportError:
        return
    _trace = trace
