"""Rows out: the row factory that turns a query's rows into its validated, frozen models.

The row factory of a query that returns rows is made once per query by
`model_row`; the executors (`codezest_db._query.execute`) give it to each
cursor they open, so results never depend on the row factory of the
caller's connection (a dict_row connection works too).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from psycopg.rows import RowFactory
from pydantic import BaseModel

__all__ = ["model_row"]

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
