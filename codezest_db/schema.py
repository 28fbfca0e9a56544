"""The schema version of a database, read straight from it: for start-up and readiness checks.

::

    import codezest_db as db

    db.require_current()           # at start: refuse to serve on a schema that is behind
    if db.pending_migrations():    # in a readiness probe: [] when the schema is current
        ...

One query on dbmate's ``public.schema_migrations``, through the pool (or a
connection of its own when given a URL): no dbmate, no subprocess, nothing
from the development tools.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors as pg_errors

from . import pool
from ._resources import migrations_dir
from ._version import __version__
from .errors import (
    ConfigurationError,
    ConnectionFailed,
    SchemaOutOfDate,
    from_psycopg,
    redact_text,
)

__all__ = [
    "MIGRATIONS_TABLE",
    "applied_versions",
    "connect",
    "connect_failure",
    "conninfo",
    "package_versions",
    "pending_migrations",
    "require_current",
]

MIGRATIONS_TABLE = "public.schema_migrations"
DEFAULT_CONNECT_TIMEOUT = 5
_ATTEMPTS = "Multiple connection attempts failed. All failures were:"


def package_versions() -> list[str]:
    """Versions of the migrations this package ships, oldest first."""
    return sorted(path.name.split("_", 1)[0] for path in migrations_dir().glob("*.sql"))


def applied_versions(url: str | None = None) -> list[str]:
    """Versions recorded in ``public.schema_migrations``, oldest first ([] without the table).

    *url* defaults to the pool's database. Raises ConnectionFailed when the
    server cannot be reached, and a DatabaseError when the table cannot be read
    (a role without privileges on it): never an empty list for a failure.
    """
    if url is None:
        with pool.connection() as conn:
            return _applied(conn)
    with connect(url) as conn:
        return _applied(conn)


def pending_migrations(url: str | None = None) -> list[str]:
    """Versions shipped in this package that the database has not applied, oldest first.

    *url* defaults to the pool's database (`configure`, else ``$DATABASE_URL``).
    Raises what `applied_versions` raises.
    """
    done = set(applied_versions(url))
    return [version for version in package_versions() if version not in done]


def require_current(url: str | None = None) -> None:
    """Return if every migration of this package is applied; raise SchemaOutOfDate if not.

    The error lists the missing versions in its message and as ``.pending``.
    Also raises what `applied_versions` raises.
    """
    pending = pending_migrations(url)
    if pending:
        raise SchemaOutOfDate(
            f"the database lacks {len(pending)} migration(s) of codezest-db {__version__}: "
            f"{', '.join(pending)}; run `codezest-db migrate`",
            pending,
        )


def connect(url: str, **options: Any) -> psycopg.Connection[Any]:
    """An autocommit connection to *url*, *options* overriding its parameters.

    connect_timeout is 5 s unless the URL or *options* say otherwise. Raises
    ConfigurationError for a malformed URL and ConnectionFailed when no
    connection is made; neither chains the psycopg error, whose ``pgconn``
    holds the connection parameters, password included.
    """
    params = {"connect_timeout": DEFAULT_CONNECT_TIMEOUT, **conninfo(url), **options}
    try:
        return psycopg.connect(**params, autocommit=True)
    except psycopg.Error as exc:
        reason = connect_failure(exc)
    raise ConnectionFailed(reason)


def connect_failure(exc: psycopg.Error) -> str:
    """libpq's reason for a failed connection, on one line, without a password.

    Of several hosts, each one's reason, in the order they were tried.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    # psycopg lists every attempt of a multi-host URL after this header.
    if _ATTEMPTS in lines:
        tried = [line for line in lines[lines.index(_ATTEMPTS) + 1 :] if line.startswith("- ")]
        return redact_text("; ".join(line.split(": connection failed: ", 1)[-1] for line in tried))
    # libpq adds hints ("Is the server running ...?") after the reason.
    return redact_text(lines[0] if lines else type(exc).__name__)


def conninfo(url: str) -> dict[str, Any]:
    """The libpq parameters of *url* (a URL or key=value string).

    Raises ConfigurationError without chaining: libpq's parse error quotes
    the malformed part, which may be the password.
    """
    try:
        params: dict[str, Any] | None = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        params = None
    if params is None:  # raised outside the handler: no __context__ carries the URL
        raise ConfigurationError(f"not a valid PostgreSQL URL: {_shape(url)}")
    return params


def _applied(conn: psycopg.Connection[Any]) -> list[str]:
    try:
        rows = conn.execute(f"select version from {MIGRATIONS_TABLE} order by version").fetchall()
    except pg_errors.UndefinedTable:
        conn.rollback()  # a database dbmate never touched: nothing applied
        return []
    except psycopg.Error as exc:
        conn.rollback()
        error = from_psycopg(exc)
        error.args = (f"cannot read {MIGRATIONS_TABLE}: {error}",)
        raise error from exc
    return [str(row[0]) for row in rows]


def _shape(url: str) -> str:
    # Show where it points, never what it carries: a malformed URL may not
    # parse far enough for redact_text to find the password.
    if "://" in url:
        scheme, rest = url.split("://", 1)
        host = rest.rsplit("@", 1)[-1] if "@" in rest else rest
        return redact_text(f"{scheme}://***@{host}" if "@" in rest else url)
    return "a key=value string that does not parse"
