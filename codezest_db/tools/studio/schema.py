"""The five schemas as SQLAlchemy classes (automap reflection) on a guarded engine."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.types.datetime import DateLoader, TimestampLoader, TimestamptzLoader
from sqlalchemy import Engine, ForeignKeyConstraint, create_engine, exc, text
from sqlalchemy.ext.automap import AutomapBase, automap_base
from sqlalchemy.orm import configure_mappers

__all__ = [
    "SCHEMAS",
    "class_name",
    "engine",
    "in_order",
    "reflect",
    "row_estimates",
    "tables",
    "visible_schemas",
]

SCHEMAS = ("auth", "learning", "payments", "notifications", "activity")


def engine(url: str, *, write: bool, role: str | None) -> Engine:
    """An engine whose every connection runs as *role* and, unless *write*, read-only.

    The guard is the server's: ``default_transaction_read_only`` makes any
    insert, update or delete fail, whatever the page asks for.
    """

    def connect() -> psycopg.Connection[Any]:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        _show_infinity(conn)
        if role:
            conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)))
        if not write:
            conn.execute("set default_transaction_read_only = on")
        conn.execute("set statement_timeout = '30s'")
        conn.autocommit = False
        return conn

    return create_engine("postgresql+psycopg://", creator=connect, pool_pre_ping=True)


def _show_infinity(conn: psycopg.Connection[Any]) -> None:
    """Read ``infinity`` and ``-infinity`` dates and timestamps as the largest and
    smallest datetime, the way psycopg's documentation does it: Python has no
    infinite datetime, and psycopg refuses them, which failed a whole page over one
    value (``activity.event_retention`` holds ``-infinity`` until retention runs)."""
    for name, loader in _INFINITE_LOADERS:
        conn.adapters.register_loader(name, loader)


def _infinite(base: type[Loader], top: Any, bottom: Any) -> type[Loader]:
    """*base*, reading ``infinity`` as *top* and ``-infinity`` as *bottom*."""

    def load(self: Loader, data: Buffer) -> Any:
        if data == b"infinity":
            return top
        if data == b"-infinity":
            return bottom
        return base.load(self, data)

    return type(f"Infinite{base.__name__}", (base,), {"load": load})


_INFINITE_LOADERS = (
    ("date", _infinite(DateLoader, date.max, date.min)),
    ("timestamp", _infinite(TimestampLoader, datetime.max, datetime.min)),
    (
        "timestamptz",
        _infinite(
            TimestamptzLoader, datetime.max.replace(tzinfo=UTC), datetime.min.replace(tzinfo=UTC)
        ),
    ),
)


def visible_schemas(bound: Engine) -> list[str]:
    """The five schemas the connection's role may use, in the contract's order."""
    query = text(
        "select nspname from pg_namespace"
        " where nspname = any(:names) and has_schema_privilege(nspname, 'USAGE')"
    )
    with bound.connect() as conn:
        found = {row[0] for row in conn.execute(query, {"names": list(SCHEMAS)})}
    return [name for name in SCHEMAS if name in found]


# The tables of a schema, partitions left out: a partition's rows are its parent's.
_TABLES = text(
    "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace"
    " where n.nspname = :schema and c.relkind in ('r', 'p') and not c.relispartition"
    " order by c.relname"
)
# pg_class.reltuples of each table, a partitioned one's summed over its
# partitions; -1 (never analyzed) when no part of it has been.
_ESTIMATES = text(
    "select n.nspname, c.relname,"
    " case when c.relkind = 'p' then"
    "  (select case when max(p.reltuples) < 0 then -1 else sum(greatest(p.reltuples, 0)) end"
    "   from pg_partition_tree(c.oid) t join pg_class p on p.oid = t.relid where t.isleaf)"
    " else c.reltuples end"
    " from pg_class c join pg_namespace n on n.oid = c.relnamespace"
    " where n.nspname = any(:names) and c.relkind in ('r', 'p') and not c.relispartition"
)


def tables(bound: Engine, schema: str) -> list[str]:
    """The names of *schema*'s tables, without partitions (folded into their parent)."""
    with bound.connect() as conn:
        return [row[0] for row in conn.execute(_TABLES, {"schema": schema})]


def row_estimates(bound: Engine, schemas: list[str]) -> dict[str, int | None]:
    """``schema.table`` -> the planner's row estimate (None: never analyzed)."""
    with bound.connect() as conn:
        rows = conn.execute(_ESTIMATES, {"names": schemas}).all()
    return {
        f"{schema}.{name}": None if value is None or value < 0 else round(value)
        for schema, name, value in rows
    }


def class_name(table: Any) -> str:
    """The automap class name of a table: auth.users -> AuthUsers."""
    return f"{table.schema.title()}{''.join(p.title() for p in table.name.split('_'))}"


def _class_name(base: Any, tablename: str, table: Any) -> str:
    return class_name(table)


def _scalar_name(
    base: type[Any], local_cls: type[Any], referred_cls: type[Any], constraint: ForeignKeyConstraint
) -> str:
    first = next(iter(constraint.columns)).name  # language_id -> language
    return str(first.removesuffix("_id"))


def _collection_name(
    base: type[Any], local_cls: type[Any], referred_cls: type[Any], constraint: ForeignKeyConstraint
) -> str:
    return str(referred_cls.__table__.name)  # a language's modules: "modules"


class _Labelled:
    """How a row names itself in links to it: its name, title or email, else its id."""

    def __str__(self) -> str:
        for field in ("name", "title", "email", "slug", "number", "prompt", "text"):
            value = getattr(self, field, None)
            if isinstance(value, str):
                return value
        return str(getattr(self, "id", "?"))


def reflect(bound: Engine, schemas: list[str]) -> AutomapBase:
    """Map every table of *schemas*, partitions left out; foreign keys become relationships."""
    base: AutomapBase = automap_base(cls=_Labelled)
    # mcq_answers' composite key to mcq_options shares question_id with its key to
    # mcq_questions: SQLAlchemy warns that both relationships write it. The
    # studio only reads through them (or writes the plain columns), so that is fine.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", exc.SAWarning)
        for schema in schemas:
            base.prepare(
                autoload_with=bound,
                schema=schema,
                classname_for_table=_class_name,
                name_for_scalar_relationship=_scalar_name,
                name_for_collection_relationship=_collection_name,
                reflection_options={"only": tables(bound, schema)},
            )
        configure_mappers()
    return base


def in_order(classes: Iterable[Any]) -> list[Any]:
    """Mapped classes as the sidebar lists them: by schema (the contract's order), then name."""
    return sorted(classes, key=lambda c: (SCHEMAS.index(c.__table__.schema), c.__name__))
