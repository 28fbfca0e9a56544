"""What one query call hands down to the layer that runs it: a `Statement` and its parameters.

A query's `Statement` is made once, when its domain loads, and shared by all
its calls; a call adds only its checked parameters. The pools (`run`) and the
executors (`codezest_db._query.execute` and its asyncio source) take exactly
these two, typed, instead of a tuple of loose arguments.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from psycopg.rows import RowFactory, tuple_row

from .jsonb import holds_json
from .parse import QuerySpec
from .rows import Page, model_page, model_row

__all__ = ["AsyncRun", "Fetch", "Params", "Run", "Statement", "statement"]

Params = dict[str, Any]


class Fetch(Enum):
    """What a call returns, by the suffix of its ``-- name:`` line."""

    ONE = "^"  # the first row's model, or None
    ALL = ""  # every row's model
    VALUE = "$"  # the first column of the first row, or None
    ROWCOUNT = "!"  # the number of rows the statement touched


@dataclass(frozen=True, slots=True, eq=False)
class Statement:
    """One query, ready to run: its SQL and how its result is read."""

    qualname: str
    sql: str
    fetch: Fetch
    row_factory: RowFactory[Any]  # the cursor's: models for ONE, tuples otherwise
    prepare: bool | None  # psycopg's: None lets it prepare; False never (``plan: custom``)
    reads: bool  # its SQL only reads: a replica may answer it, reads may batch
    python: Callable[..., Any] | None = None  # a query written in Python: python(conn, **params)
    # Many rows that may hold JSON: decoded by `codezest_db._query.jsonb` on any connection.
    json_rows: bool = False
    page: Page | None = None  # ALL with a model: its rows (tuples) into models, at once

    @property
    def batches(self) -> bool:
        """Whether asyncio pooled calls of it may share a pipeline (reads of SQL only)."""
        return self.reads and self.python is None


_FETCH = {
    "SELECT_ONE": Fetch.ONE,
    "SELECT": Fetch.ALL,
    "SELECT_VALUE": Fetch.VALUE,
    "INSERT_UPDATE_DELETE": Fetch.ROWCOUNT,
}  # by the name of the query's aiosql operation


def statement(spec: QuerySpec, python: Callable[..., Any] | None = None) -> Statement:
    """The `Statement` of *spec*; *python* implements a query written in Python."""
    fetch = _FETCH[spec.operation.name]
    model = spec.model
    listed = model if fetch is Fetch.ALL else None  # the model of a list query
    return Statement(
        qualname=spec.qualname,
        sql=spec.sql,
        fetch=fetch,
        row_factory=model_row(model) if model is not None and fetch is Fetch.ONE else tuple_row,
        page=model_page(listed) if listed is not None else None,
        prepare=False if spec.custom_plan else None,
        reads=spec.reads,
        python=python,
        json_rows=listed is not None and holds_json(listed),
    )


# How a call without a connection runs: the pool's ``run(statement, params)``.
Run = Callable[[Statement, Params], Any]
AsyncRun = Callable[[Statement, Params], Awaitable[Any]]
