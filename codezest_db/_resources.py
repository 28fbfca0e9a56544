"""Where the shipped SQL lives: inside the wheel, or at the top of a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def sql_root() -> Path:
    """The folder holding ``queries/`` and ``db/``."""
    # A wheel carries the SQL in codezest_db/_sql; an editable install or a
    # checkout reads it from the repository itself.
    packaged = _PACKAGE / "_sql"
    return packaged if packaged.is_dir() else _PACKAGE.parent


def queries_dir() -> Path:
    return sql_root() / "queries"


def migrations_dir() -> Path:
    return sql_root() / "db" / "migrations"


def schema_file() -> Path:
    return sql_root() / "db" / "schema.sql"


def releases_dir() -> Path:
    """Each released version's queries, kept for ``codezest-db check --against``."""
    return sql_root() / "db" / "releases"
