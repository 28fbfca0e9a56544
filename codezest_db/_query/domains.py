"""The roots ``queries`` and ``aio.queries``: domains loaded on first use, one class for both.

The sync and asyncio roots are two instances of `Queries` that differ only in
how a query is made callable (`codezest_db._query.call` or its asyncio source
``call_async``) and which pool
runs a call without a connection (`codezest_db.pool.run` or `codezest_db.aio.run`),
so they have the same domains, names and parameters by construction. A
domain's SQL is parsed the first time it is used; a broken file breaks only
its own domain, with a QueryError naming the file and line, every time it is
used.
"""

from __future__ import annotations

import difflib
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg

from .._resources import queries_dir
from ..errors import QueryError
from . import call, call_async
from .observe import load_tracer
from .parse import QuerySpec, domain_files, load_domain
from .statement import AsyncRun, Run

__all__ = ["Domain", "Queries", "domain_specs", "python_queries"]


class Domain:
    """The queries of one domain, as attributes: ``queries.auth.create_user``."""

    def __init__(self, name: str, functions: Mapping[str, Callable[..., Any]]) -> None:
        self._name = name
        self._names = tuple(sorted(functions))
        for query_name, fn in functions.items():
            setattr(self, query_name, fn)

    def __iter__(self) -> Iterator[str]:
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


class Queries:
    """Every domain, as attributes (``queries.auth``), each loaded on first use."""

    def __init__(self, run: Run | AsyncRun, *, asyncio: bool, root: Path | None = None) -> None:
        self._run = run
        self._asyncio = asyncio
        self._root = root
        self._lock = threading.Lock()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files()))

    def __dir__(self) -> list[str]:
        return [*super().__dir__(), *self]

    def __repr__(self) -> str:
        return f"<codezest queries: {', '.join(self)}>"

    def __getattr__(self, name: str) -> Domain:
        # Only called until a domain is loaded: then it is a plain attribute.
        if name.startswith("_"):
            raise AttributeError(name)
        files = self._files()
        if name not in files:
            close = difflib.get_close_matches(name, files, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise AttributeError(f"no query domain {name!r}{hint}")
        with self._lock:
            loaded = self.__dict__.get(name)
            if loaded is None:
                loaded = self._load(name, files[name])
                setattr(self, name, loaded)
        return loaded

    def _files(self) -> dict[str, list[Path]]:
        return domain_files(self._root or queries_dir())

    def _load(self, domain: str, files: list[Path]) -> Domain:
        load_tracer()
        make = call_async.make_query if self._asyncio else call.make_query
        conn_type = psycopg.AsyncConnection if self._asyncio else psycopg.Connection
        python = python_queries(domain)
        functions = {}
        for spec in domain_specs(domain, files):
            pair = python.get(spec.name)
            fn = pair[self._asyncio] if pair else None
            functions[spec.name] = _decorated(make(spec, self._run, fn), spec, conn_type)
        return Domain(domain, functions)


def _decorated(fn: Any, spec: QuerySpec, conn_type: Any) -> Any:
    """*fn* named, documented and signed like its query, for help(), IDEs and tracebacks."""
    fn.__name__ = fn.__qualname__ = spec.name
    fn.__module__ = f"codezest_db.queries.{spec.domain}"
    fn.__doc__ = spec.doc or None
    fn.__signature__ = _signature(spec, conn_type)
    fn.sql = spec.sql
    fn.spec = spec
    fn.parameters = frozenset(spec.params)
    return fn


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


def domain_specs(domain: str, files: list[Path]) -> list[QuerySpec]:
    """The specs of one domain: its SQL queries, then those written in Python."""
    specs = load_domain(domain, files)
    names = {spec.name for spec in specs}
    for name, (fn, _) in python_queries(domain).items():
        if name in names:
            raise QueryError(f"query {domain}.{name} is defined both in SQL and in Python")
        specs.append(_python_spec(domain, name, fn))
    return specs


def python_queries(domain: str) -> dict[str, tuple[Callable[..., Any], Callable[..., Any]]]:
    """Queries written in Python (bulk COPY), by name: (sync, asyncio)."""
    if domain != "activity":
        return {}
    from ..ingest import arecord_events, record_events

    return {"record_events": (record_events, arecord_events)}


def _python_spec(domain: str, name: str, fn: Callable[..., Any]) -> QuerySpec:
    from aiosql.types import SQLOperationType  # loaded with the domain's SQL already

    sig = inspect.signature(fn)
    params = tuple(p for p in sig.parameters if p != "conn")
    optional = frozenset(
        p.name for p in sig.parameters.values() if p.name != "conn" and p.default is not p.empty
    )
    return QuerySpec(
        domain=domain,
        name=name,
        sql="",
        doc=inspect.getdoc(fn) or "",
        operation=SQLOperationType.INSERT_UPDATE_DELETE,
        model=None,
        params=params,
        optional=optional,
        source=f"{inspect.getsourcefile(fn)}:{inspect.getsourcelines(fn)[1]}",
    )
