"""The ``codezest-db`` command: deploy the schema, and the development tools around it.

Deployment commands (migrate, rollback, status, new, dump-schema) live here;
migrate, rollback and status need ``--url``, ``$DATABASE_URL`` (environment
or .env) or ``--embedded``, and exit 2 without one.
Each development tool (check, stubs, demo, ...) lives in `codezest_db.tools`
and is imported only when its subcommand runs: a module there defines
``add_arguments(parser)`` and ``run(args)`` (which may return an exit code).
Failures print one line on stderr and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _config, _env, migrate, schema
from ._version import __version__
from .errors import DatabaseError

__all__ = ["main"]


@dataclass(frozen=True)
class Tool:
    """A development-tool subcommand, implemented by *module*."""

    name: str
    module: str
    help: str
    url: bool = True  # takes --url (a database)


# One line per tool; the module is imported only when its subcommand runs.
TOOLS = (
    Tool("check", "codezest_db.tools.check", "verify every query against a migrated database"),
    Tool("stubs", "codezest_db.tools.stubs", "regenerate the typed query signatures"),
    Tool("demo", "codezest_db.tools.demo", "migrate, then tour the typed queries"),
    Tool("shell", "codezest_db.tools.shell", "psql on the database, as a service role if asked"),
    Tool("seed", "codezest_db.tools.seed", "fill all 30 tables with realistic development data"),
    Tool("studio", "codezest_db.tools.studio", "browse the five schemas in a local web page"),
    Tool(
        "lint",
        "codezest_db.tools.lint",
        "check migrations for statements that would block or break running services",
        url=False,
    ),
)


class NoDatabase(Exception):
    """A deployment command was given no database: usage error, exit 2."""


def _deployment_url(args: argparse.Namespace) -> str:
    """--url, else --embedded, else $DATABASE_URL (environment or .env): never a silent default."""
    if args.url:
        return str(args.url)
    if args.embedded:
        from . import embedded

        server = embedded.start()
        print(f"using the embedded PostgreSQL in {server.pgdata}", file=sys.stderr)
        return server.create_database(embedded.DEFAULT_DATABASE)
    url = _env.getenv("DATABASE_URL")
    if url:
        return url
    raise NoDatabase(
        "no database: pass --url URL, set DATABASE_URL (environment or .env), "
        "or pass --embedded for the local embedded PostgreSQL"
    )


def _migrate(args: argparse.Namespace) -> None:
    wait = args.wait_timeout if args.wait else None
    timeouts = _timeouts(args)
    url = _deployment_url(args)
    if args.dry_run:
        print(migrate.dry_run(url, wait=wait))
        return
    print(migrate.up(url, wait=wait, timeouts=timeouts, log=_say).strip() or "nothing to apply")


def _rollback(args: argparse.Namespace) -> None:
    steps = -1 if args.all else args.steps
    timeouts = _timeouts(args)
    output = migrate.rollback(_deployment_url(args), steps, timeouts=timeouts)
    print(output.strip() or "nothing to roll back")


def _timeouts(args: argparse.Namespace) -> migrate.Timeouts:
    return migrate.Timeouts.from_env(
        args.lock_timeout, args.statement_timeout, getattr(args, "lock_retries", None)
    )


def _say(message: str) -> None:
    print(f"codezest-db migrate: {message}", file=sys.stderr, flush=True)


def _status(args: argparse.Namespace) -> int:
    report, pending = migrate.status(_deployment_url(args))
    print(report)
    return 1 if args.exit_code and pending else 0


def _new(args: argparse.Namespace) -> None:
    from .tools.lint import write_template  # the template that passes `lint`

    print(write_template(args.name))


def _dump_schema(args: argparse.Namespace) -> None:
    """Migrate a throwaway embedded database and dump it: the committed db/schema.sql."""
    from .tools.scratch import migrated_database

    output = Path(args.output)
    with migrated_database(args.url) as url:
        migrate.dump_schema(url, output)
    print(f"wrote {output}")


def _version() -> str:
    newest = (schema.package_versions() or ["none"])[-1]
    return f"codezest-db {__version__} (schema {newest})"


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")
    return value


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codezest-db",
        description="Deploy the CodeZest schema, and the development tools around it.",
    )
    parser.add_argument("--version", action="version", version=_version())
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="PostgreSQL URL (default: $DATABASE_URL, else embedded)")
    # A deployment command never falls back to the embedded server by itself.
    deploy = argparse.ArgumentParser(add_help=False)
    target = deploy.add_mutually_exclusive_group()
    target.add_argument("--url", help="PostgreSQL URL (default: $DATABASE_URL, from .env too)")
    target.add_argument(
        "--embedded", action="store_true", help="use the local embedded PostgreSQL instead"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str,
        run: Callable[[argparse.Namespace], Any],
        text: str,
        parent: argparse.ArgumentParser = common,
    ) -> Any:
        command = sub.add_parser(name, parents=[parent], help=text, description=text)
        command.set_defaults(run=run)
        return command

    migrate_ = add("migrate", _migrate, "apply every pending migration (dbmate up)", deploy)
    migrate_.add_argument(
        "--wait", action="store_true", help="wait for the server to accept connections"
    )
    migrate_.add_argument(
        "--wait-timeout",
        type=_seconds,
        default=migrate.DEFAULT_WAIT_TIMEOUT,
        metavar="SECONDS",
        help="how long --wait waits (default 60)",
    )
    migrate_.add_argument(
        "--dry-run",
        action="store_true",
        help="list the pending migrations, their statements and locks; change nothing",
    )
    _timeout_arguments(migrate_, retries=True)
    rollback = add("rollback", _rollback, "roll back the latest migration(s)", deploy)
    _timeout_arguments(rollback, retries=False)
    rollback.add_argument("--steps", type=_positive, default=1, help="how many (default 1)")
    rollback.add_argument("--all", action="store_true", help="roll back every migration")
    status = add("status", _status, "list applied and pending migrations", deploy)
    status.add_argument(
        "--exit-code", action="store_true", help="exit 1 while migrations are pending"
    )
    new = add("new", _new, "create a migration in db/migrations from the template")
    new.add_argument("name", help="what it does, in snake_case")
    dump = add("dump-schema", _dump_schema, "write the schema dump (db/schema.sql)")
    dump.add_argument("--output", default="db/schema.sql", help="where (default db/schema.sql)")
    for tool in TOOLS:
        if tool.name != chosen:
            add(tool.name, _unreachable, tool.help)
            continue
        module = importlib.import_module(tool.module)
        parent = common if tool.url else argparse.ArgumentParser(add_help=False)
        module.add_arguments(add(tool.name, module.run, tool.help, parent))
    return parser


def _timeout_arguments(command: argparse.ArgumentParser, *, retries: bool) -> None:
    """The session limits of migrate and rollback (default: $CODEZEST_MIGRATE_*, else built in)."""
    command.add_argument(
        "--lock-timeout",
        type=_seconds,
        metavar="SECONDS",
        help="longest wait of one lock request, writers queue behind it "
        f"(default $CODEZEST_MIGRATE_LOCK_TIMEOUT, else {migrate.DEFAULT_LOCK_TIMEOUT:g})",
    )
    command.add_argument(
        "--statement-timeout",
        type=_seconds_or_zero,
        metavar="SECONDS",
        help="longest run of one statement, 0 for none (default "
        f"$CODEZEST_MIGRATE_STATEMENT_TIMEOUT, else {migrate.DEFAULT_STATEMENT_TIMEOUT:g})",
    )
    if retries:
        command.add_argument(
            "--lock-retries",
            type=_whole,
            metavar="N",
            help="tries again after a lock timeout, with backoff "
            f"(default $CODEZEST_MIGRATE_LOCK_RETRIES, else {migrate.DEFAULT_LOCK_RETRIES})",
        )


def _seconds_or_zero(text: str) -> float:
    return 0.0 if text.strip() in ("0", "0.0") else _seconds(text)


def _whole(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 0, got {text!r}")
    return int(text)


def _unreachable(args: argparse.Namespace) -> None:  # pragma: no cover - see _chosen
    raise AssertionError(f"{args.command}: its module was not loaded")


def _chosen(argv: Sequence[str]) -> str | None:
    """The subcommand named in *argv*: only that tool's module is imported."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``codezest-db`` command."""
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = _parser(_chosen(argv)).parse_args(argv)
        if getattr(args, "url", None):
            _config.check_url(args.url, "--url")  # one line for a malformed one, whatever runs
        code = args.run(args)
    except NoDatabase as exc:
        print(f"codezest-db {_chosen(argv)}: {exc}", file=sys.stderr)
        return 2
    except DatabaseError as exc:
        print(f"codezest-db {_chosen(argv)}: {_one_line(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return code if isinstance(code, int) else 0


def _one_line(message: str) -> str:
    return "; ".join(line.strip() for line in message.splitlines() if line.strip())


if __name__ == "__main__":
    raise SystemExit(main())
