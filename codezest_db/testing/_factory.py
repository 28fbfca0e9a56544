"""How a factory runs: one recipe of steps, carried out on a sync or an asyncio connection.

A recipe is a generator (as psycopg writes its protocol once for both I/O
styles): it yields an `Insert` or a `Lookup` and gets back the row. `run` and
`arun` carry the steps out, so every factory exists once for both twins.

An insert goes through the package's own query for the table when the
fields fit its parameters exactly, else through a plain
``insert ... returning`` of the model's columns.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

import psycopg
from psycopg import sql
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from .. import aio, errors, queries

__all__ = ["Insert", "Lookup", "Recipe", "arun", "run"]

M = TypeVar("M")


@dataclass(frozen=True)
class Insert:
    """Insert one row of *table* with *values*; the answer is a *model*."""

    table: str  # schema.table
    model: type[BaseModel]
    values: dict[str, Any]
    queries: tuple[str, ...]  # "domain.query" candidates, the first that fits is used


@dataclass(frozen=True)
class Lookup:
    """Fetch one value; the answer is that value (None without a row)."""

    query: str
    params: tuple[Any, ...]


Recipe = Generator[Insert | Lookup, Any, M]


def run(conn: psycopg.Connection[Any], recipe: Recipe[M]) -> M:
    """Carry out *recipe* on *conn*; return its result."""
    answer: Any = None
    try:
        while True:
            step = recipe.send(answer)
            answer = _sync_step(conn, step)
    except StopIteration as done:
        result: M = done.value
        return result


async def arun(conn: psycopg.AsyncConnection[Any], recipe: Recipe[M]) -> M:
    """Carry out *recipe* on the asyncio *conn*; return its result."""
    answer: Any = None
    try:
        while True:
            step = recipe.send(answer)
            answer = await _async_step(conn, step)
    except StopIteration as done:
        result: M = done.value
        return result


def _sync_step(conn: psycopg.Connection[Any], step: Insert | Lookup) -> Any:
    if isinstance(step, Lookup):
        row = conn.execute(step.query, step.params).fetchone()
        return row[0] if row else None
    query = _fitting(step)
    if query is not None:
        domain, name = query.split(".")
        made = getattr(getattr(queries, domain), name)(conn, **_adapted(step.values))
        return _made(step, query, made)
    statement, params = _insert_sql(step)
    try:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(statement, params)
            row = cur.fetchone()
    except psycopg.Error as exc:
        raise errors.from_psycopg(exc) from exc
    return step.model.model_validate(row)


async def _async_step(conn: psycopg.AsyncConnection[Any], step: Insert | Lookup) -> Any:
    if isinstance(step, Lookup):
        cur = await conn.execute(step.query, step.params)
        row = await cur.fetchone()
        return row[0] if row else None
    query = _fitting(step)
    if query is not None:
        domain, name = query.split(".")
        made = await getattr(getattr(aio.queries, domain), name)(conn, **_adapted(step.values))
        return _made(step, query, made)
    statement, params = _insert_sql(step)
    try:
        async with conn.cursor(row_factory=dict_row) as acur:
            await acur.execute(statement, params)
            row = await acur.fetchone()
    except psycopg.Error as exc:
        raise errors.from_psycopg(exc) from exc
    return step.model.model_validate(row)


def _made(step: Insert, query: str, row: Any) -> Any:
    if row is None:  # a query that refuses quietly (record_answer on a finished attempt)
        raise errors.InvalidParameters(
            f"{query} made no {step.table} row from {sorted(step.values)}: "
            "do the given ids belong together?"
        )
    return row


def _fitting(step: Insert) -> str | None:
    """The first candidate query that takes exactly these fields (all required ones)."""
    given = set(step.values)
    for query in step.queries:
        required, accepted = _parameters(query)
        if required <= given <= accepted:
            return query
    return None


@cache
def _parameters(query: str) -> tuple[frozenset[str], frozenset[str]]:
    domain, name = query.split(".")
    signature = inspect.signature(getattr(getattr(queries, domain), name))
    keyword = [p for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY]
    required = frozenset(p.name for p in keyword if p.default is p.empty)
    return required, frozenset(p.name for p in keyword)


def _insert_sql(step: Insert) -> tuple[sql.Composed, list[Any]]:
    schema, table = step.table.split(".")
    names = list(step.values)
    statement = sql.SQL("insert into {} ({}) values ({}) returning {}").format(
        sql.Identifier(schema, table),
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder() * len(names)),
        sql.SQL(", ").join(map(sql.Identifier, step.model.model_fields)),
    )
    return statement, list(_adapted(step.values).values())


def _adapted(values: dict[str, Any]) -> dict[str, Any]:
    # The schema has no array columns: a dict or a list is a jsonb value (the
    # query layer would send a list as an array).
    return {k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in values.items()}
