"""``codezest-db seed``: realistic, valid rows in all 30 tables, the same ones for the same seed.

Needs the ``[seed]`` extra (Faker for names and text, rich for the progress
bar); both are imported only when the command runs.
"""

from __future__ import annotations

import argparse
import signal
from datetime import date

from ... import migrate
from ...errors import ConfigurationError

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
    """Migrate the development database, then fill it.

    Raises ConfigurationError when the [seed] extra is missing or the
    database already has rows (without --truncate).
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
        url = development_database(args.url)
        migrate.up(url)
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


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
