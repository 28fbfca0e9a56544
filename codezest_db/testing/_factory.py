"""How a factory runs: a recipe of steps, and what is decided about them without I/O.

A recipe is a generator (as psycopg writes its protocol once for both I/O
styles): it yields an `Insert` or a `Lookup` and gets back the row, so every
recipe exists once for both twins. This module holds the steps and what is
decided without I/O; `codezest_db.testing._factory_async` carries the steps
out (its sync twin, `codezest_db.testing._factory_sync`, is generated from it).

An insert goes through the package's own query for the table when the
fields fit its parameters exactly (`fitting`), else through a plain
``insert ... returning`` of the model's columns (`insert_sql`).
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar

from psycopg import sql
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from .. import errors, queries

__all__ = ["Insert", "Lookup", "Recipe", "adapted", "checked", "fitting", "insert_sql"]

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


def checked(step: Insert, query: str, row: Any) -> Any:
    """The *row* that *query* made for *step*; InvalidParameters when it made none."""
    if row is None:  # a query that refuses quietly (record_answer on a finished attempt)
        raise errors.InvalidParameters(
            f"{query} made no {step.table} row from {sorted(step.values)}: "
            "do the given ids belong together?"
        )
    return row


def fitting(step: Insert) -> str | None:
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


def insert_sql(step: Insert) -> tuple[sql.Composed, list[Any]]:
    """The plain ``insert ... returning`` of *step* and its parameters."""
    schema, table = step.table.split(".")
    names = list(step.values)
    statement = sql.SQL("insert into {} ({}) values ({}) returning {}").format(
        sql.Identifier(schema, table),
        sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL(", ").join(sql.Placeholder() * len(names)),
        sql.SQL(", ").join(map(sql.Identifier, step.model.model_fields)),
    )
    return statement, list(adapted(step.values).values())


def adapted(values: dict[str, Any]) -> dict[str, Any]:
    """*values* as the query layer must get them."""
    # The schema has no array columns: a dict or a list is a jsonb value (the
    # query layer would send a list as an array).
    return {k: Jsonb(v) if isinstance(v, dict | list) else v for k, v in values.items()}
