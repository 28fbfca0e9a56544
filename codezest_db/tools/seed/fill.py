"""Write the generated rows with COPY, a chunk of users at a time, behind a progress bar."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

import psycopg
from psycopg import sql
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ...errors import ConfigurationError
from .catalogue import Rows
from .people import People
from .tables import COLUMNS, TABLES

__all__ = ["seed"]

CHUNK = 500  # users per round of COPYs: bounded memory, frequent progress


def seed(
    url: str,
    *,
    users: int = 1000,
    events_per_user: int = 10,
    random_seed: int = 0,
    today: date | None = None,
    truncate: bool = False,
    console: Console | None = None,
) -> dict[str, int]:
    """Fill the 30 tables of the migrated database at *url*; return rows per table.

    Everything is written in one transaction. Raises ConfigurationError when
    the tables already hold rows and *truncate* is false.
    """
    day = today or datetime.now(UTC).date()
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC)
    people = People(random_seed, midnight, events_per_user)
    counts = dict.fromkeys(TABLES, 0)
    with psycopg.connect(url) as conn:
        _make_room(conn, truncate)
        catalogue: Rows = defaultdict(list)
        people.tracks = people.catalogue(catalogue)
        _copy(conn, catalogue, counts)
        with _progress(console) as progress:
            task = progress.add_task("seeding", total=users, rows=sum(counts.values()))
            for first in range(0, users, CHUNK):
                rows: Rows = defaultdict(list)
                people.users(first, min(CHUNK, users - first), rows)
                _copy(conn, rows, counts)
                progress.update(task, advance=len(rows["auth.users"]), rows=sum(counts.values()))
    return counts


def _progress(console: Console | None) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("users, {task.fields[rows]:,} rows"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
    )


# Truncated with the tables: the per-user marks, and the per-user rollup of the
# events (its one-row state stays: the rollup's time is still right for no events;
# the retention horizon goes back to none, or the new events before it would not count).
_MARKS = (
    "auth.session_revocations",
    "notifications.notification_read_marks",
    "activity.user_event_counts",
)


def _make_room(conn: psycopg.Connection[Any], truncate: bool) -> None:
    names = [sql.Identifier(*table.split(".")) for table in TABLES]
    if truncate:
        marks = [sql.Identifier(*t.split(".")) for t in _MARKS]
        conn.execute(sql.SQL("truncate {}").format(sql.SQL(", ").join([*names, *marks])))
        conn.execute("update activity.event_retention set kept_from = default")
        return
    probe = sql.SQL(" union all ").join(
        sql.SQL("(select {} from {} limit 1)").format(sql.Literal(t), n)
        for t, n in zip(TABLES, names, strict=True)
    )
    filled = [row[0] for row in conn.execute(probe)]
    if filled:
        raise ConfigurationError(
            f"the database already has rows (in {', '.join(filled[:3])}, ...):"
            " pass --truncate to empty the 30 tables first"
        )


def _copy(conn: psycopg.Connection[Any], rows: Rows, counts: dict[str, int]) -> None:
    with conn.cursor() as cur:
        for table in TABLES:
            batch = rows.get(table)
            if not batch:
                continue
            statement = sql.SQL("copy {} ({}) from stdin").format(
                sql.Identifier(*table.split(".")),
                sql.SQL(", ").join(map(sql.Identifier, COLUMNS[table])),
            )
            with cur.copy(statement) as copy:
                for row in batch:
                    copy.write_row(row)
            counts[table] += len(batch)


def rate(counts: dict[str, int], seconds: float) -> str:
    """One line: how many rows, how long, how fast."""
    total = sum(counts.values())
    return f"{total:,} rows in {seconds:.1f} s ({total / max(seconds, 1e-9):,.0f} rows/s)"


def timed(**kwargs: Any) -> tuple[dict[str, int], float]:
    """`seed(**kwargs)` and the seconds it took."""
    start = time.perf_counter()
    counts = seed(**kwargs)
    return counts, time.perf_counter() - start
