"""``migrate --dry-run``: the pending migrations, their statements and the locks they take.

Nothing runs in the target database. The locks are read, not guessed: a
scratch database on the same server gets the migrations the target has
applied, then each pending statement runs there on its own, and
``pg_locks`` tells which locks it took on relations that existed before its
migration. The scratch tables are empty, so a statement that would fail on
the real rows (a ``not null`` without a default) is not caught here, and how
long a lock is held is not measured. Statements that cannot run in a
transaction hold their locks only while they run; theirs come from
PostgreSQL's documentation instead (marked so).
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from . import _online, schema
from .errors import MigrationError, from_psycopg

__all__ = ["report", "statements"]

# The locks of statements that cannot run in a transaction (PostgreSQL's docs).
_DOCUMENTED = (
    (r"(create|drop)\s+(unique\s+)?index\s+concurrently", "ShareUpdateExclusiveLock"),
    (r"reindex\s+.*\bconcurrently", "ShareUpdateExclusiveLock"),
    (r"refresh\s+materialized\s+view\s+concurrently", "ExclusiveLock"),
    (r"vacuum\b", "ShareUpdateExclusiveLock"),
)
# Relations that existed before a migration: not the catalogs, not TOAST.
_EXISTING = """
select c.oid, c.oid::regclass::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast')
    and c.relkind not in ('i', 'I')
"""
_HELD = """
select l.relation, l.mode from pg_locks l
where l.pid = pg_backend_pid() and l.granted and l.locktype = 'relation'
    and l.relation = any(%s)
"""
_MODES = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
]
# What a mode blocks, for the reader of the report.
_BLOCKS = {
    "AccessExclusiveLock": "blocks reads and writes",
    "ExclusiveLock": "blocks writes",
    "ShareRowExclusiveLock": "blocks writes",
    "ShareLock": "blocks writes",
}


def report(
    url: str,
    files: list[Path],
    done: set[str],
    *,
    exists: bool,
    prepare: Callable[..., object],
) -> str:
    """The dry-run report for the database at *url*, which has applied the versions *done*.

    *files* are the migrations; ``prepare(scratch_url, migrations=folder)``
    applies a folder of them to the scratch database. Changes nothing at *url*.
    Raises MigrationError when a migration does not run on the scratch copy,
    or no scratch database can be created.
    """
    pending = [path for path in files if _online.version(path) not in done]
    head = f"Pending: {len(pending)} (dry run: nothing was changed)"
    if not exists:
        head += "; the database does not exist yet: migrate will create it"
    if not pending:
        return head
    lines = [head, ""]
    with _Scratch(url) as scratch:
        applied = [path for path in files if _online.version(path) in done]
        if applied:
            with tempfile.TemporaryDirectory(prefix="codezest-dryrun-") as folder:
                for path in applied:
                    shutil.copy(path, folder)
                prepare(scratch, migrations=Path(folder), log=lambda message: None)
        with schema.connect(scratch) as conn:
            for path in pending:
                lines += _migration(conn, path)
    return "\n".join(lines).rstrip()


def statements(text: str) -> list[str]:
    """The SQL statements of *text*, without comments; quotes and dollar quotes respected."""
    found, current, i = [], [], 0
    while i < len(text):
        match = _TOKEN.match(text, i)
        assert match is not None  # the pattern matches any character
        token = match[0]
        i = match.end()
        if token.startswith("--") or token.startswith("/*"):
            current.append(" ")
        elif token == ";":
            found.append("".join(current).strip())
            current = []
        else:
            current.append(token)
    found.append("".join(current).strip())
    return [statement for statement in found if statement]


_TOKEN = re.compile(
    r"""--[^\n]*|/\*.*?\*/|[Ee]'(?:\\.|''|[^'\\])*'|'(?:''|[^'])*'|"(?:""|[^"])*"
    |(?P<tag>\$\w*\$).*?(?P=tag)|[^-/'"$;Ee]+|.""",
    re.DOTALL | re.VERBOSE,
)


def _migration(conn: psycopg.Connection[Any], path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    first = re.search(r"(?m)^--\s*migrate:up\b(.*)$", text)
    in_transaction = not (first and "transaction:false" in first[1].split())
    how = "in one transaction" if in_transaction else "transaction:false, statement by statement"
    lines = [f"{path.name} ({how})"]
    # Named as they were before the migration: it may rename or drop them.
    existing = {int(oid): str(name) for oid, name in conn.execute(_EXISTING).fetchall()}
    held: set[tuple[str, str]] = set()
    try:
        if in_transaction:
            conn.execute("begin")
        for number, statement in enumerate(statements(_online.up_part(text)), 1):
            lines.append(f"  {number}. {_one_line(statement)}")
            locks = _run(conn, statement, existing, held, in_transaction)
            lines.append(f"     locks: {locks}")
        if in_transaction:
            conn.execute("commit")  # the next migration sees this one's changes
            lines.append(f"  held until it commits: {_strongest(held) or 'nothing'}")
    except psycopg.Error as exc:
        raise MigrationError(
            f"{path.name} fails on a copy of the schema: {from_psycopg(exc)}"
        ) from None
    return [*lines, ""]


def _run(
    conn: psycopg.Connection[Any],
    statement: str,
    existing: dict[int, str],
    held: set[tuple[str, str]],
    in_transaction: bool,
) -> str:
    """Run *statement* on the scratch copy; describe the locks it added on existing relations."""
    if not in_transaction:
        conn.execute(statement)
        return _documented(statement)
    conn.execute(statement)
    rows = conn.execute(_HELD, (list(existing),)).fetchall()
    now = {(existing[int(oid)], str(mode)) for oid, mode in rows}
    new = now - held
    held |= now
    return _strongest(new) or "no new lock on a relation that existed before"


def _strongest(locks: set[tuple[str, str]]) -> str:
    """The strongest of *locks* on each relation, with what it blocks."""
    strongest: dict[str, str] = {}
    for name, mode in sorted(locks, key=lambda lock: (lock[0], _MODES.index(lock[1]))):
        strongest[name] = mode  # weakest first: the last one stays
    return "; ".join(
        f"{mode} on {name}" + (f" ({_BLOCKS[mode]})" if mode in _BLOCKS else "")
        for name, mode in sorted(strongest.items())
    )


def _documented(statement: str) -> str:
    for pattern, mode in _DOCUMENTED:
        if re.match(pattern, statement, re.IGNORECASE):
            table = re.search(r"\bon\s+(?:only\s+)?([\w.\"]+)", statement, re.IGNORECASE)
            target = table[1] if table else "its table"
            return f"{mode} on {target} while it runs (documented; writes go on)"
    return "not observed: runs outside a transaction"


class _Scratch:
    """A throwaway database on the server of *url*, dropped at the end."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.name = f"codezest_dryrun_{uuid.uuid4().hex[:12]}"

    def __enter__(self) -> str:
        self._admin("create database {}")
        params = {**schema.conninfo(self.url), "dbname": self.name}
        return psycopg.conninfo.make_conninfo("", **params)

    def __exit__(self, *exc: object) -> None:
        self._admin("drop database if exists {} with (force)")

    def _admin(self, statement: str) -> None:
        try:
            with schema.connect(self.url, dbname="postgres") as conn:
                conn.execute(sql.SQL(statement).format(sql.Identifier(self.name)))
        except psycopg.Error as exc:
            raise MigrationError(
                f"--dry-run works on a scratch database, which failed: {from_psycopg(exc)}"
            ) from None


def _one_line(statement: str, width: int = 110) -> str:
    flat = " ".join(statement.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
