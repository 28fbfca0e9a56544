"""Run one statement and turn its rows into models: sync and asyncio executors.

Each cursor gets its own row factory, so results never depend on the row
factory of the caller's connection (a dict_row connection works too). The
row factory of a query that returns rows is made once per query by
`model_row`. *prepare* is psycopg's: None lets psycopg prepare a statement
after a few executions, False never prepares it (a ``plan: custom`` query).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg import AsyncConnection, Connection
from psycopg.rows import RowFactory, tuple_row
from pydantic import BaseModel

__all__ = [
    "afetch_all",
    "afetch_one",
    "afetch_value",
    "arowcount",
    "fetch_all",
    "fetch_one",
    "fetch_value",
    "model_row",
    "rowcount",
]

Params = dict[str, Any]


def model_row(model: type[BaseModel]) -> RowFactory[Any]:
    """A psycopg row factory validating each row of one query into *model*.

    A query's result columns are fixed by its SQL, so their names are read
    from the first result and reused: building ``cursor.description`` on every
    call costs more than validating the row.
    """
    validate = model.__pydantic_validator__.validate_python
    makers: list[Callable[[Sequence[Any]], Any]] = []

    def factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
        if not makers:
            names = [column.name for column in cursor.description or ()]

            def make(values: Sequence[Any]) -> Any:
                return validate(dict(zip(names, values)))  # noqa: B905 - same columns

            makers.append(make)
        return makers[0]

    return factory


def fetch_one(
    conn: Connection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> Any:
    # Like conn.execute(), the cursor is left to reference counting: a
    # with-block would cost more than the row's validation saves.
    cur = conn.cursor(row_factory=rows)
    cur.execute(sql, params, prepare=prepare)
    return cur.fetchone()


def fetch_all(
    conn: Connection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> list[Any]:
    cur = conn.cursor(row_factory=rows)
    cur.execute(sql, params, prepare=prepare)
    return cur.fetchall()


def fetch_value(
    conn: Connection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> Any:
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute(sql, params, prepare=prepare)
    row = cur.fetchone()
    return None if row is None else row[0]


def rowcount(
    conn: Connection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> int:
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute(sql, params, prepare=prepare)
    return cur.rowcount


async def afetch_one(
    conn: AsyncConnection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> Any:
    cur = conn.cursor(row_factory=rows)
    await cur.execute(sql, params, prepare=prepare)
    return await cur.fetchone()


async def afetch_all(
    conn: AsyncConnection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> list[Any]:
    cur = conn.cursor(row_factory=rows)
    await cur.execute(sql, params, prepare=prepare)
    return await cur.fetchall()


async def afetch_value(
    conn: AsyncConnection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> Any:
    cur = conn.cursor(row_factory=tuple_row)
    await cur.execute(sql, params, prepare=prepare)
    row = await cur.fetchone()
    return None if row is None else row[0]


async def arowcount(
    conn: AsyncConnection[Any], sql: str, params: Params, rows: Any, prepare: bool | None
) -> int:
    cur = conn.cursor(row_factory=tuple_row)
    await cur.execute(sql, params, prepare=prepare)
    return cur.rowcount
