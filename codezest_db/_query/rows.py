"""aiosql driver adapters that build models straight from psycopg rows.

Each cursor gets its own row factory, so results never depend on the row
factory of the caller's connection (a dict_row connection works too). Where
aiosql passes a ``record_class``, these adapters take the psycopg row factory
made for that query by `model_row`, built once when the queries load; the
methods without rows take (and ignore) one too, so every call has one shape.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from typing import Any

from aiosql.adapters.apyformat import AsyncPyFormatAdapter
from aiosql.adapters.pyformat import PyFormatAdapter
from psycopg import AsyncConnection, Connection
from psycopg.rows import RowFactory, tuple_row
from pydantic import BaseModel

_factories: dict[tuple[str, type[BaseModel]], RowFactory[Any]] = {}


def model_row(query_name: str, model: type[BaseModel]) -> RowFactory[Any]:
    """A psycopg row factory validating each row of *query_name* into *model*.

    A query's result columns are fixed by its SQL, so their names are read
    from the first result and reused: building ``cursor.description`` on every
    call costs more than validating the row.
    """
    key = (query_name, model)
    factory = _factories.get(key)
    if factory is None:
        validate = model.__pydantic_validator__.validate_python
        makers: list[Callable[[Sequence[Any]], Any]] = []

        def factory(cursor: Any) -> Callable[[Sequence[Any]], Any]:
            if not makers:
                names = [column.name for column in cursor.description or ()]

                def make(values: Sequence[Any]) -> Any:
                    return validate(dict(zip(names, values)))  # noqa: B905 - same columns

                makers.append(make)
            return makers[0]

        _factories[key] = factory
    return factory


class SyncAdapter(PyFormatAdapter):
    """aiosql's psycopg adapter, with model rows and a fixed row factory."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]

    def select(
        self,
        conn: Connection[Any],
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> Generator[Any, None, None]:
        with conn.cursor(row_factory=record_class) as cur:
            cur.execute(sql, parameters)
            yield from cur.fetchall()

    def select_one(
        self,
        conn: Connection[Any],
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> Any:
        # Like conn.execute(), the cursor is left to reference counting: a
        # with-block would cost more than the row's validation saves.
        cur = conn.cursor(row_factory=record_class)
        cur.execute(sql, parameters)
        return cur.fetchone()

    def select_value(
        self, conn: Connection[Any], query_name: str, sql: str, parameters: Any, _: Any = None
    ) -> Any:
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(sql, parameters)
            row = cur.fetchone()
            return None if row is None else row[0]

    def insert_update_delete(
        self, conn: Connection[Any], query_name: str, sql: str, parameters: Any, _: Any = None
    ) -> int:
        with conn.cursor(row_factory=tuple_row) as cur:
            cur.execute(sql, parameters)
            return cur.rowcount


class AsyncAdapter(AsyncPyFormatAdapter):
    """The asyncio twin of `SyncAdapter`."""

    def __init__(self) -> None:
        super().__init__()

    async def select(
        self,
        conn: AsyncConnection[Any],
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> AsyncGenerator[Any, None]:
        async with conn.cursor(row_factory=record_class) as cur:
            await cur.execute(sql, parameters)
            for row in await cur.fetchall():
                yield row

    async def select_one(
        self,
        conn: AsyncConnection[Any],
        query_name: str,
        sql: str,
        parameters: Any,
        record_class: Any = None,
    ) -> Any:
        async with conn.cursor(row_factory=record_class) as cur:
            await cur.execute(sql, parameters)
            return await cur.fetchone()

    async def select_value(
        self, conn: AsyncConnection[Any], query_name: str, sql: str, parameters: Any, _: Any = None
    ) -> Any:
        async with conn.cursor(row_factory=tuple_row) as cur:
            await cur.execute(sql, parameters)
            row = await cur.fetchone()
            return None if row is None else row[0]

    async def insert_update_delete(  # type: ignore[override]  # aiosql types it None
        self, conn: AsyncConnection[Any], query_name: str, sql: str, parameters: Any, _: Any = None
    ) -> int:
        async with conn.cursor(row_factory=tuple_row) as cur:
            await cur.execute(sql, parameters)
            return cur.rowcount
