"""Carry out a factory's recipe (`codezest_db.testing._factory`) on a connection.

Only the I/O is here: which query makes a row and how its parameters are
sent is decided in `codezest_db.testing._factory`, once for both twins.
``_factory_async.py`` is written; ``_factory_sync.py``, its sync twin, is
generated from it by ``tools/async_to_sync.py`` (what only the asyncio twin
does is under ``if ASYNC:``).
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import psycopg
from psycopg import AsyncConnection
from psycopg.rows import dict_row

from .. import aio, errors, queries
from ._factory import Insert, Lookup, Recipe, adapted, checked, fitting, insert_sql

ASYNC: Final = True

__all__ = ["run"]

M = TypeVar("M")


async def run(conn: AsyncConnection[Any], recipe: Recipe[M]) -> M:
    """Carry out *recipe* on *conn*; return its result."""
    answer: Any = None
    try:
        while True:
            answer = await _step(conn, recipe.send(answer))
    except StopIteration as done:
        result: M = done.value
        return result


async def _step(conn: AsyncConnection[Any], step: Insert | Lookup) -> Any:
    if isinstance(step, Lookup):
        return await _lookup(conn, step)
    return await _insert(conn, step)


async def _lookup(conn: AsyncConnection[Any], step: Lookup) -> Any:
    cur = await conn.execute(step.query, step.params)
    row = await cur.fetchone()
    return row[0] if row else None


async def _insert(conn: AsyncConnection[Any], step: Insert) -> Any:
    query = fitting(step)
    if query is not None:
        domain, name = query.split(".")
        make = getattr(getattr(aio.queries if ASYNC else queries, domain), name)
        return checked(step, query, await make(conn, **adapted(step.values)))
    statement, params = insert_sql(step)
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(statement, params)
            row = await cur.fetchone()
    except psycopg.Error as exc:
        raise errors.from_psycopg(exc) from exc
    return step.model.model_validate(row)
