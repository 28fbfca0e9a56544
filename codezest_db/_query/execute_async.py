"""Run one `Statement` on a connection and read its result.

``execute_async.py`` is written; ``execute.py``, its sync twin, is generated
from it by ``tools/async_to_sync.py``. Each cursor gets the statement's own row factory,
so results never depend on the row factory of the caller's connection.
`collect` is apart from `execute` because a batch of reads
(`codezest_db._multiplex`) sends every statement first and reads the results
after.
"""

from __future__ import annotations

from typing import Any

from psycopg import AsyncConnection, AsyncCursor
from psycopg.rows import tuple_row

from .._poolers import SERVER_PID, is_pooler
from . import jsonb
from .statement import Fetch, Params, Statement

__all__ = ["behind_pooler", "collect", "execute"]


async def execute(conn: AsyncConnection[Any], stmt: Statement, params: Params) -> Any:
    """Run *stmt* with *params* on *conn*; return what its `Fetch` says."""
    if stmt.python is not None:
        return await stmt.python(conn, **params)
    # Like conn.execute(), the cursor is left to reference counting: a
    # with-block would cost more than the row's validation saves.
    cur = conn.cursor(row_factory=stmt.row_factory)
    if stmt.json_rows and not jsonb.installed(conn):  # the caller's connection
        jsonb.install(cur)
    await cur.execute(stmt.sql, params, prepare=stmt.prepare)
    if stmt.fetch is Fetch.ONE:  # a lookup: a call less than through collect()
        return await cur.fetchone()
    return await collect(cur, stmt)


async def collect(cur: AsyncCursor[Any], stmt: Statement) -> Any:
    """The result of *stmt*, executed on *cur*."""
    fetch = stmt.fetch
    if fetch is Fetch.ONE:
        return await cur.fetchone()
    if fetch is Fetch.ALL:
        rows = await cur.fetchall()
        return rows if stmt.page is None else stmt.page(cur, rows)
    if fetch is Fetch.VALUE:
        row = await cur.fetchone()
        return None if row is None else row[0]
    return cur.rowcount


async def behind_pooler(conn: AsyncConnection[Any]) -> bool:
    """Whether *conn* reaches the server through a pooler (`codezest_db._poolers`).

    One round trip, never prepared.
    """
    cur = conn.cursor(row_factory=tuple_row)  # whatever the connection's own row factory
    await cur.execute(SERVER_PID, prepare=False)
    row = await cur.fetchone()
    return row is not None and is_pooler(conn, row[0])
