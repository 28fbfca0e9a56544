"""Scratch databases for the tools that need a schema to look at (check, stubs, dump-schema)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .. import _env, embedded, migrate

__all__ = ["development_database", "migrated_database"]


def development_database(url: str | None = None, *, create: bool = True) -> str:
    """*url*, else ``$DATABASE_URL`` (or .env), else the default embedded database (on demand).

    The development tools' default: the embedded data stays for the next run.
    With *create* false, the embedded database is not created when it does not
    exist (its URL is returned all the same: connecting to it says so).
    """
    url = url or _env.getenv("DATABASE_URL")
    if url:
        return url
    server = embedded.start()
    print(f"using the embedded PostgreSQL in {server.pgdata}", file=sys.stderr)
    if not create:
        return server.url(embedded.DEFAULT_DATABASE)
    return server.create_database(embedded.DEFAULT_DATABASE)


@contextmanager
def migrated_database(url: str | None = None, *, migrations: Path | None = None) -> Iterator[str]:
    """*url* as is; without one, a database on a temporary embedded server, migrated
    with *migrations* (a folder; default the shipped ones).

    For the tools that need a schema to look at (check, stubs, dump-schema):
    they never touch the persistent default cluster. Raises ConfigurationError
    if the server does not start, MigrationError if migrating fails.
    """
    if url:
        yield url
        return
    server = embedded.start(temporary=True)
    try:
        target = server.create_database("codezest_scratch")
        migrate.up(target, migrations=migrations)
        yield target
    finally:
        server.stop()
