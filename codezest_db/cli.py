"""The ``codezest-db`` command: migrate, roll back, inspect, check and demo.

The database is ``--url``, else ``$DATABASE_URL``, else the embedded
PostgreSQL (started on demand; its data stays for the next run).
Failures print one line on stderr and exit 1, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from . import migrate
from .errors import DatabaseError

__all__ = ["main"]


def _database(args: argparse.Namespace) -> str:
    url: str | None = args.url or os.environ.get("DATABASE_URL")
    if url:
        return url
    from . import embedded

    server = embedded.start()
    print(f"using the embedded PostgreSQL in {server.pgdata}", file=sys.stderr)
    return server.create_database(embedded.DEFAULT_DATABASE)


def _migrate(args: argparse.Namespace) -> None:
    print(migrate.up(_database(args)).strip() or "nothing to apply")


def _rollback(args: argparse.Namespace) -> None:
    steps = -1 if args.all else args.steps
    print(migrate.rollback(_database(args), steps).strip() or "nothing to roll back")


def _status(args: argparse.Namespace) -> None:
    print(migrate.status(_database(args)).strip())


def _new(args: argparse.Namespace) -> None:
    print(migrate.new(args.name))


def _dump_schema(args: argparse.Namespace) -> None:
    """Migrate a throwaway embedded database and dump it: the committed db/schema.sql."""
    from .embedded import migrated_database

    output = Path(args.output)
    with migrated_database(args.url) as url:
        migrate.dump_schema(url, output)
    print(f"wrote {output}")


def _check(args: argparse.Namespace) -> None:
    """Without a URL the check migrates a throwaway embedded database, never the default one."""
    from .check import run_check
    from .errors import QueryError

    findings = run_check(args.url or os.environ.get("DATABASE_URL"))
    for finding in findings:
        print(finding, file=sys.stderr)
    if findings:
        raise QueryError(f"{len(findings)} finding(s)")
    print("every query checks out")


def _stubs(args: argparse.Namespace) -> None:
    from . import _stubgen
    from .embedded import migrated_database
    from .errors import QueryError

    output = Path(args.output) if args.output else _stubgen.STUB_FILE
    with migrated_database(args.url or os.environ.get("DATABASE_URL")) as url:
        if args.check:
            difference = _stubgen.diff(url, output)
            if difference:
                print(difference, end="", file=sys.stderr)
                raise QueryError(f"{output} is stale: run codezest-db stubs")
            print(f"{output} is current")
        elif _stubgen.write(url, output):
            print(f"wrote {output}")
        else:
            print(f"{output} is current")


def _demo(args: argparse.Namespace) -> None:
    from .demo import run_demo

    url = _database(args)
    print(migrate.up(url).strip() or "migrations: up to date")
    run_demo(url)


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")
    return int(text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="codezest-db", description=__doc__.split("\n")[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help="PostgreSQL URL (default: $DATABASE_URL, else embedded)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, run: Callable[[argparse.Namespace], None], text: str
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(name, parents=[common], help=text, description=text)
        command.set_defaults(run=run)
        return command

    add("migrate", _migrate, "apply every pending migration (dbmate up)")
    rollback = add("rollback", _rollback, "roll back the latest migration(s)")
    rollback.add_argument("--steps", type=_positive, default=1, help="how many (default 1)")
    rollback.add_argument("--all", action="store_true", help="roll back every migration")
    add("status", _status, "list applied and pending migrations")
    new = add("new", _new, "create an empty migration in db/migrations")
    new.add_argument("name", help="what it does, in snake_case")
    dump = add("dump-schema", _dump_schema, "write the schema dump (db/schema.sql)")
    dump.add_argument("--output", default="db/schema.sql", help="where (default db/schema.sql)")
    add("check", _check, "verify every query against a migrated database")
    stubs = add("stubs", _stubs, "regenerate the typed query signatures (codezest_db/_typing.py)")
    stubs.add_argument("--check", action="store_true", help="exit 1 if they are stale")
    stubs.add_argument("--output", help="where (default: codezest_db/_typing.py)")
    add("demo", _demo, "migrate, then tour the typed queries")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``codezest-db`` command."""
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except DatabaseError as exc:
        print(f"codezest-db {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
