"""How a migration run gives way to the services: its session settings, lock reports, clean-ups.

`migrate.up` runs each migration through dbmate with `session_settings`
(lock_timeout, statement_timeout, keepalives, client_connection_check_interval)
in the URL's ``options``; `LockWatch` reads from a second session what the
migration waits for and who holds it; `drop_invalid_indexes` removes what a
failed ``create index concurrently`` leaves. Nothing here runs dbmate.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from . import _env
from .errors import ConfigurationError, MigrationError, from_psycopg

__all__ = [
    "DEFAULT_LOCK_RETRIES",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_STATEMENT_TIMEOUT",
    "LockWatch",
    "Timeouts",
    "backoff",
    "clean_up_after",
    "directive_settings",
    "drop_invalid_indexes",
    "gave_way",
    "session_settings",
    "up_part",
    "version",
]

# A migration's sessions: how long one lock request may queue (and so hold up
# every writer queued behind it), how long one statement may run, and how many
# times a migration that gave way on a lock is tried again.
DEFAULT_LOCK_TIMEOUT = 3.0
DEFAULT_STATEMENT_TIMEOUT = 900.0
DEFAULT_LOCK_RETRIES = 5
# The pause before retry n (1, 2, ...): 1 s, 2 s, 4 s, ... at most 30 s.
_BACKOFF_FIRST, _BACKOFF_MAX = 1.0, 30.0
# A server backend whose client is gone stops within this interval (PostgreSQL 14+),
# and TCP keepalives find a vanished client host in about idle + interval * count.
_CHECK_INTERVAL_MS = 2000
_KEEPALIVES = {"tcp_keepalives_idle": 10, "tcp_keepalives_interval": 5, "tcp_keepalives_count": 3}
# SQLSTATEs after which a migration is tried again: lock_not_available, deadlock_detected.
_GAVE_WAY = ("55P03", "40P01")


@dataclass(frozen=True)
class Timeouts:
    """How a migration run gives way to the services (seconds; see `up`)."""

    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT
    lock_retries: int = DEFAULT_LOCK_RETRIES

    def __post_init__(self) -> None:
        # lock_timeout 0 would mean "wait for ever": exactly what this prevents.
        if not self.lock_timeout > 0 or self.statement_timeout < 0 or self.lock_retries < 0:
            raise ConfigurationError(
                f"invalid migration timeouts {self}: lock_timeout above 0, "
                "statement_timeout and lock_retries at least 0"
            )

    @classmethod
    def from_env(
        cls,
        lock_timeout: float | None = None,
        statement_timeout: float | None = None,
        lock_retries: int | None = None,
    ) -> Timeouts:
        """The given values, else ``$CODEZEST_MIGRATE_<NAME>``, else the defaults.

        Raises ConfigurationError for a value out of range or that does not parse.
        """
        return cls(
            _setting("LOCK_TIMEOUT", lock_timeout, DEFAULT_LOCK_TIMEOUT, minimum=0.001),
            _setting("STATEMENT_TIMEOUT", statement_timeout, DEFAULT_STATEMENT_TIMEOUT),
            int(_setting("LOCK_RETRIES", lock_retries, DEFAULT_LOCK_RETRIES, whole=True)),
        )


class LockWatch:
    """Polled while dbmate runs: what its session last waited for, and who held it."""

    def __init__(self, conn: psycopg.Connection[Any], application: str) -> None:
        self.conn = conn
        self.application = application
        self.seen: tuple[Any, ...] | None = None

    def __call__(self) -> None:
        try:
            row = self.conn.execute(_WAITING, (self.application,)).fetchone()
        except psycopg.Error:
            return  # a report, not the migration: never fail it for this
        if row is not None:
            self.seen = tuple(row)

    def described(self, lock_timeout: str) -> str:
        if self.seen is None:
            return ""
        kind, relation, mode, pid, app, user, state, seconds, query = self.seen
        target = f"{mode} on {relation}" if relation else f"a {kind} lock (older transactions)"
        holder = f"pid {pid} ({app or 'no application_name'}, user {user}, {state} for {seconds}s"
        return f"waited {lock_timeout} for {target}, held by {holder}: {query})"


# The lock a dbmate session waits for, and one backend that holds it up.
_WAITING = """
select l.locktype, l.relation::regclass::text, l.mode,
       h.pid, h.application_name, h.usename, h.state,
       extract(epoch from now() - coalesce(h.xact_start, h.query_start))::int,
       left(regexp_replace(h.query, '\\s+', ' ', 'g'), 100)
from pg_stat_activity w
join pg_locks l on l.pid = w.pid and not l.granted
cross join lateral unnest(pg_blocking_pids(w.pid)) as b(pid)
join pg_stat_activity h on h.pid = b.pid
where w.application_name = %s
limit 1
"""


def session_settings(conn: psycopg.Connection[Any], timeouts: Timeouts) -> dict[str, str]:
    """The server settings of every session dbmate opens for a migration."""
    settings = {
        "lock_timeout": f"{round(timeouts.lock_timeout * 1000)}ms",
        "statement_timeout": f"{round(timeouts.statement_timeout * 1000)}ms",
        **{name: str(value) for name, value in _KEEPALIVES.items()},
    }
    if conn.info.server_version >= 140000:
        # The backend checks during a statement that its client is still there.
        settings["client_connection_check_interval"] = f"{_CHECK_INTERVAL_MS}ms"
    return settings


def directive_settings(name: str, text: str) -> dict[str, str]:
    """``lock_timeout:`` and ``statement_timeout:`` options of the file's ``-- migrate:up`` line."""
    first = re.search(r"(?m)^--\s*migrate:up\b(.*)$", text)
    found: dict[str, str] = {}
    for option in first[1].split() if first else []:
        key, _, value = option.partition(":")
        if key not in ("lock_timeout", "statement_timeout"):
            continue  # dbmate's own (transaction:false)
        if not re.fullmatch(r"\d+(ms|s|min|h|d)?", value):
            raise MigrationError(
                f"{name}: {key}:{value} is not a PostgreSQL duration (like 500ms, 10s, 5min)"
            )
        found[key] = value
    return found


_CONCURRENT_INDEX = re.compile(
    r"""create\s+(?:unique\s+)?index\s+concurrently\s+(?:if\s+not\s+exists\s+)?
    (?P<name>"[^"]+"|\w+)\s+on\s+(?:only\s+)?
    (?P<table>(?:(?:"[^"]+"|\w+)\.)?(?:"[^"]+"|\w+))""",
    re.IGNORECASE | re.VERBOSE,
)


def gave_way(exc: MigrationError) -> bool:
    return any(f"({code})" in str(exc) for code in _GAVE_WAY)


def clean_up_after(
    exc: MigrationError,
    conn: psycopg.Connection[Any],
    text: str,
    settings: dict[str, str],
    say: Callable[[str], None],
) -> None:
    """Drop what a failed migration left (invalid indexes); add to *exc* what could not be."""
    try:
        drop_invalid_indexes(conn, text, settings, say)
    except MigrationError as cleanup:
        exc.args = (f"{exc}; {cleanup}",)


def drop_invalid_indexes(
    conn: psycopg.Connection[Any], text: str, settings: dict[str, str], say: Callable[[str], None]
) -> None:
    """Drop the invalid indexes a failed ``create index concurrently`` of *text* left behind.

    Such an index costs every write and answers no read; ``if not exists``
    would keep it, invalid, on the next try. The drop gives way on locks as
    the migration does (its MigrationError then carries 55P03).
    """
    for match in _CONCURRENT_INDEX.finditer(up_part(text)):
        name = match["name"]
        name = name[1:-1] if name.startswith('"') else name.lower()
        row = conn.execute(_INVALID_INDEX, (name, match["table"])).fetchone()
        if row is None:
            continue
        try:
            for setting in ("lock_timeout", "statement_timeout"):
                conn.execute("select set_config(%s, %s, false)", (setting, settings[setting]))
            conn.execute(sql.SQL("drop index concurrently if exists {}").format(sql.SQL(row[0])))
        except psycopg.Error as exc:
            raise MigrationError(
                f"a failed concurrent build left the invalid index {row[0]}; dropping it failed: "
                f"{from_psycopg(exc)} ({exc.sqlstate}); "
                f"drop it with `drop index concurrently {row[0]}`"
            ) from None
        say(f"dropped the invalid index {row[0]} that a failed concurrent build left")


_INVALID_INDEX = """
select format('%%I.%%I', n.nspname, c.relname)
from pg_index i
join pg_class c on c.oid = i.indexrelid
join pg_namespace n on n.oid = c.relnamespace
where not i.indisvalid and c.relname = %s and i.indrelid = to_regclass(%s)
"""


def up_part(text: str) -> str:
    """The SQL of the ``-- migrate:up`` blocks of a migration, without the directive lines."""
    blocks = re.split(r"(?m)^--\s*migrate:up\b[^\n]*$", text)[1:]
    return "\n".join(re.split(r"(?m)^--\s*migrate:down\b", block)[0] for block in blocks)


def version(path: Path) -> str:
    return path.name.split("_", 1)[0]


def _setting(
    name: str, given: float | None, default: float, *, minimum: float = 0.0, whole: bool = False
) -> float:
    variable = f"CODEZEST_MIGRATE_{name}"
    value: float | None = given
    if value is None:
        text = (_env.getenv(variable) or "").strip()
        if not text:
            return default
        try:
            value = int(text) if whole else float(text)
        except ValueError:
            value = None
        if value is None:
            kind = "a whole number" if whole else "a number of seconds"
            raise ConfigurationError(f"{variable} must be {kind}, got {text!r}")
    if not minimum <= value < float("inf"):
        raise ConfigurationError(f"{variable} must be at least {minimum:g}, got {value!r}")
    return value


def backoff(attempt: int) -> float:
    """Seconds to pause before retry *attempt* + 1: 1, 2, 4, ... at most 30."""
    return float(min(_BACKOFF_FIRST * 2**attempt, _BACKOFF_MAX))
