"""The catalog of a database, read once: its types and table columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

__all__ = ["Catalog", "PgType", "TableColumn"]


@dataclass(frozen=True)
class PgType:
    """A PostgreSQL type of the catalog (domains resolved to their base type)."""

    oid: int
    schema: str
    name: str
    kind: str  # pg_type.typtype: b base, e enum, c composite, d domain, ...
    element: int  # the element type of an array, else 0
    labels: tuple[str, ...]  # an enum's labels, in order

    @property
    def is_array(self) -> bool:
        return self.element != 0

    def __str__(self) -> str:
        if self.schema == "pg_catalog":
            return self.name
        return f'{self.schema}."{self.name}"' if self.kind == "e" else f"{self.schema}.{self.name}"


@dataclass(frozen=True)
class TableColumn:
    """A column of a table of the schema."""

    schema: str
    table: str
    name: str
    not_null: bool

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}.{self.name}"


class Catalog:
    """The types and table columns of the database, read once."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        rows = conn.execute(
            """
            select t.oid, n.nspname, t.typname, t.typtype, t.typelem, t.typcategory,
                   t.typbasetype,
                   coalesce((select array_agg(e.enumlabel::text order by e.enumsortorder)
                               from pg_enum e
                              where e.enumtypid = t.oid), '{}')
              from pg_type t
              join pg_namespace n on n.oid = t.typnamespace
            """
        ).fetchall()
        raw = {row[0]: row for row in rows}
        self.types: dict[int, PgType] = {}
        for oid, (_, schema, name, kind, elem, category, base, labels) in raw.items():
            while kind == "d" and base in raw:  # a domain is its base type
                _, schema, name, kind, elem, category, base, labels = raw[base]
            element = elem if category == "A" else 0
            self.types[oid] = PgType(oid, schema, name, kind, element, tuple(labels))
        self.columns: dict[tuple[int, int], TableColumn] = {}
        self.by_name: dict[tuple[str, str, str], TableColumn] = {}
        self.tables: dict[tuple[str, str], int] = {}
        for relid, attnum, schema, table, name, not_null in conn.execute(
            """
            select a.attrelid, a.attnum, n.nspname, c.relname, a.attname, a.attnotnull
              from pg_attribute a
              join pg_class c on c.oid = a.attrelid
              join pg_namespace n on n.oid = c.relnamespace
             where a.attnum > 0
               and not a.attisdropped
               and c.relkind in ('r', 'p', 'v', 'm', 'f')
               and n.nspname !~ '^(pg_|information_schema$)'
            """
        ):
            column = TableColumn(schema, table, name, not_null)
            self.columns[relid, attnum] = column
            self.by_name[schema, table, name] = column
            self.tables[schema, table] = relid

    def type(self, oid: int) -> PgType:
        return self.types.get(oid) or PgType(oid, "pg_catalog", f"oid {oid}", "b", 0, ())
