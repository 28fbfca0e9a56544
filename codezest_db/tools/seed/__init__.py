"""``codezest-db seed``: realistic, valid rows in all 30 tables, the same ones for the same seed.

Needs the ``[seed]`` extra (Faker for names and text, rich for the progress
bar); both are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import signal
from datetime import date

from ... import _env, schema
from ...errors import ConfigurationError, ConnectionFailed, SchemaOutOfDate

__all__ = ["add_arguments", "run"]


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Size, seed and day options of ``codezest-db seed``."""
    parser.add_argument("--users", type=_count, default=1000, help="how many users (default 1000)")
    parser.add_argument(
        "--events-per-user",
        type=_count,
        default=10,
        help="average analytics events per user (default 10)",
    )
    parser.add_argument(
        "--random-seed", type=int, default=0, help="same seed, same rows (default 0)"
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="YYYY-MM-DD the data ends on (default: today, UTC); pins the timestamps",
    )
    parser.add_argument(
        "--truncate", action="store_true", help="empty the 30 tables first (else refuse if filled)"
    )


def run(args: argparse.Namespace) -> None:
    """Fill the development database, which must exist and be migrated.

    Seed never migrates or creates a database (only ``migrate`` does): on a
    missing or out-of-date one it raises, naming the command to run. Raises
    ConfigurationError when the [seed] extra is missing or the database
    already has rows (without --truncate).
    """
    try:
        import faker  # noqa: F401
        import rich  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            f"codezest-db seed needs {exc.name or exc}: pip install 'codezest-db[seed]'"
        ) from None
    from ..scratch import development_database
    from .fill import rate, timed

    # Exit through SystemExit on SIGTERM, so atexit hooks stop an embedded
    # server this process started; the open transaction is rolled back.
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        url = development_database(args.url, create=False)
        _require_migrated(url, embedded=not (args.url or _env.getenv("DATABASE_URL")))
        counts, seconds = timed(
            url=url,
            users=args.users,
            events_per_user=args.events_per_user,
            random_seed=args.random_seed,
            today=args.today,
            truncate=args.truncate,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    width = max(map(len, counts))
    for table, count in counts.items():
        print(f"  {table:<{width}} {count:>10,}")
    print(f"seeded {rate(counts, seconds)}")


def _require_migrated(url: str, *, embedded: bool) -> None:
    """Raise SchemaOutOfDate (or ConnectionFailed) naming ``migrate`` unless *url* is current."""
    command = "codezest-db migrate " + ("--embedded" if embedded else "--url URL")
    try:
        pending = schema.pending_migrations(url)
    except ConnectionFailed as exc:
        if "does not exist" in str(exc):  # the database itself: migrate creates it
            raise ConnectionFailed(f"{exc}; `{command}` creates and migrates it") from None
        raise
    if pending:
        raise SchemaOutOfDate(
            f"the database lacks {len(pending)} migration(s) ({', '.join(pending)}): "
            f"run `{command}` first (seed never migrates)",
            pending,
        )


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
