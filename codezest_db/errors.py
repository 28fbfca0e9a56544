"""The errors codezest-db raises.

Every error is a `DatabaseError`; a database failure keeps the original
`psycopg.Error` reachable as ``__cause__``. One class per kind of failure, so
a caller can decide what to do by class alone (docs/errors.md has the full
SQLSTATE table)::

    DatabaseError
     ├── ConfigurationError      no URL, a bad URL or option, a missing binary
     ├── ConnectionFailed        connection lost, refused or not had in time (08xxx
     │                           but a non-fatal 08P01, 57P01-57P05, 25P03, pool
     │                           timeout or saturation);
     │                           .statement_may_have_run says if a retry could repeat it
     ├── QueryCanceled           the statement was canceled (57014): conn.cancel(), ...
     │    └── StatementTimeout   ... or statement_timeout ran out
     ├── LockNotAvailable        a lock was not had within lock_timeout (55P03), e.g. a
     │                           partition job that gave way to a long reader
     ├── MigrationError          dbmate refused or failed
     ├── SchemaOutOfDate         migrations of this package are not applied; .pending lists them
     ├── QueryError              a query file cannot be loaded
     ├── AlreadyExists           unique violation (23505); .constraint names it
     ├── MissingReference        foreign key violation (23503)
     ├── ConstraintViolation     a value was refused: check, not-null, bad enum label,
     │                           malformed or out-of-range input (22xxx), a type the
     │                           statement cannot take (42804, 42846, 42883), too large
     ├── InvalidParameters       nothing was sent: a missing or unknown parameter
     │                           (also a ValueError)
     └── InvalidValue            a value refused before anything was sent, by the
                                 query's parameter check or by psycopg (a NUL byte, a
                                 type it cannot send): an InvalidParameters and a
                                 ConstraintViolation

The rule for bad input: `ConstraintViolation` means a value was refused,
whoever noticed (catch it for every bad value); `InvalidParameters` means
nothing reached the server. `InvalidValue` is both.

No message ever carries a password: URLs are shown through `redact_url`, and
text echoed from the server is cut to a few hundred characters and passed
through `redact_text`. Both run in time linear in their input.
"""

from __future__ import annotations

import re

import psycopg
from psycopg_pool import PoolTimeout, TooManyRequests

__all__ = [
    "AlreadyExists",
    "ConfigurationError",
    "ConnectionFailed",
    "ConstraintViolation",
    "DatabaseError",
    "InvalidParameters",
    "InvalidValue",
    "LockNotAvailable",
    "MigrationError",
    "MissingReference",
    "QueryCanceled",
    "QueryError",
    "SchemaOutOfDate",
    "StatementTimeout",
    "from_psycopg",
    "redact_text",
    "redact_url",
]


class DatabaseError(Exception):
    """Base of every error raised by codezest-db."""

    sqlstate: str | None = None
    constraint: str | None = None


class ConfigurationError(DatabaseError):
    """The package is not configured well enough to reach a database."""


class ConnectionFailed(DatabaseError):
    """The connection was lost or refused, or none could be had in time.

    `statement_may_have_run` is False when nothing was sent (no connection
    from the pool, a connection already known closed), True when the
    connection broke after a statement was sent: it may have run and, in
    autocommit or during COMMIT, committed. Retry then only what is idempotent.
    """

    statement_may_have_run: bool = False


class QueryCanceled(DatabaseError):
    """The server canceled the statement (57014); the connection is still usable."""


class StatementTimeout(QueryCanceled):
    """The statement ran longer than ``statement_timeout`` and was canceled."""


class LockNotAvailable(DatabaseError):
    """A lock was not had within ``lock_timeout`` (55P03); nothing of the statement stayed.

    The partition jobs raise it after their last attempt, naming who held the
    lock; try again later.
    """


class MigrationError(DatabaseError):
    """dbmate could not apply, roll back or report the migrations."""


class SchemaOutOfDate(DatabaseError):
    """The database lacks migrations this package ships; `pending` lists their versions."""

    def __init__(self, message: str, pending: list[str] | None = None) -> None:
        super().__init__(message)
        self.pending: list[str] = list(pending or [])


class QueryError(DatabaseError):
    """A query file is malformed: bad name line, duplicate name, unknown model."""


class AlreadyExists(DatabaseError):
    """A unique constraint refused the row; `constraint` names the constraint."""


class MissingReference(DatabaseError):
    """A foreign key points at a row that does not exist."""


class ConstraintViolation(DatabaseError):
    """PostgreSQL refused a value: a constraint, a malformed value or a type it cannot take."""


class InvalidParameters(DatabaseError, ValueError):
    """A query was called with a missing or unknown parameter; nothing was sent."""


class InvalidValue(InvalidParameters, ConstraintViolation):
    """A value of the wrong type, size or form, refused before anything was sent.

    Also a ConstraintViolation: a bad enum label or a malformed uuid is one
    whether the server or the client notices.
    """


for _cls in (
    DatabaseError,
    ConfigurationError,
    ConnectionFailed,
    QueryCanceled,
    StatementTimeout,
    LockNotAvailable,
    MigrationError,
    SchemaOutOfDate,
    QueryError,
    AlreadyExists,
    MissingReference,
    ConstraintViolation,
    InvalidParameters,
    InvalidValue,
):
    _cls.__module__ = "codezest_db.errors"

# Exact SQLSTATEs first, then whole classes (_BY_CLASS); anything else is a
# plain DatabaseError with its .sqlstate.
_BY_SQLSTATE: dict[str, type[DatabaseError]] = {
    "23505": AlreadyExists,
    "23503": MissingReference,
    # The server ended the session: shutdown or pg_terminate_backend (57P01),
    # crash of another backend (57P02), starting up or in recovery (57P03),
    # database dropped (57P04), idle timeouts (57P05, 25P03).
    "57P01": ConnectionFailed,
    # A write on a node in recovery (a demoted primary): the server is the
    # wrong one, not the statement; nothing ran (see _may_have_run).
    "25006": ConnectionFailed,
    "57P02": ConnectionFailed,
    "57P03": ConnectionFailed,
    "57P04": ConnectionFailed,
    "57P05": ConnectionFailed,
    "25P03": ConnectionFailed,
    "57014": QueryCanceled,
    "55P03": LockNotAvailable,
    # A parameter of a type the statement cannot take: datatype mismatch,
    # cannot coerce, no such operator/function for that type.
    "42804": ConstraintViolation,
    "42846": ConstraintViolation,
    "42883": ConstraintViolation,
    # A value too large for its index (or another hard limit).
    "54000": ConstraintViolation,
}
_BY_CLASS: dict[str, type[DatabaseError]] = {
    "08": ConnectionFailed,  # connection exception
    "22": ConstraintViolation,  # data exception: malformed, out of range, bad label
    "23": ConstraintViolation,  # integrity: check, not-null, exclusion
}
# psycopg's own wording (never translated) when nothing was sent: a call on
# a connection it already knows is closed, or a connection attempt that failed.
_NOTHING_SENT = ("the connection is closed", "connection failed:", "connection timeout expired")


def from_psycopg(exc: psycopg.Error) -> DatabaseError:
    """Translate a psycopg (or psycopg_pool) error into ours; chain it with ``from``.

    Runs in time linear in the error's size: the server's text is cut before
    it is redacted.
    """
    cls = _classify(exc)
    message = _describe(exc)
    if exc.sqlstate in _MISSING_OBJECT:
        message = f"{message}; {_NOT_MIGRATED}"
    error = cls(message)
    error.sqlstate = exc.sqlstate
    error.constraint = exc.diag.constraint_name
    if isinstance(error, ConnectionFailed):
        error.statement_may_have_run = _may_have_run(exc)
    return error


# A table, column or schema the queries name is missing: most often a
# database never migrated, or behind this package's migrations.
_MISSING_OBJECT = frozenset({"42P01", "42703", "3F000"})
_NOT_MIGRATED = (
    "is the database migrated? `codezest-db migrate` applies this package's migrations "
    "(codezest_db.pending_migrations() lists what is missing)"
)


def _classify(exc: psycopg.Error) -> type[DatabaseError]:
    sqlstate = exc.sqlstate
    if sqlstate is None:
        # Raised by psycopg (or its pool) itself, not by the server.
        if isinstance(exc, psycopg.OperationalError):
            return ConnectionFailed
        message = str(exc)
        # psycopg refused to send a value (its own wording, never translated).
        if isinstance(exc, psycopg.DataError) and "NUL (0x00)" in message:
            return InvalidValue
        if isinstance(exc, psycopg.ProgrammingError) and message.startswith("cannot adapt"):
            return InvalidValue
        if isinstance(exc, psycopg.DataError):
            return ConstraintViolation  # a value psycopg cannot load (year 10000, ...)
        return DatabaseError
    if sqlstate == "08P01" and not _fatal(exc):
        # A protocol violation the session survived: the server refused the
        # statement as sent ("bind message supplies 1 parameters, but prepared
        # statement requires 2"), as it refuses bad SQL. The connection is fine.
        return DatabaseError
    cls = _BY_SQLSTATE.get(sqlstate) or _BY_CLASS.get(sqlstate[:2], DatabaseError)
    if cls is QueryCanceled and "statement timeout" in (exc.diag.message_primary or ""):
        # 57014 covers both; only the (English) message tells them apart. A
        # server with translated messages gives QueryCanceled for both.
        return StatementTimeout
    return cls


def _fatal(exc: psycopg.Error) -> bool:
    """Whether the server (or PgBouncer) ended the session with the error."""
    diag = exc.diag
    return (diag.severity_nonlocalized or diag.severity) in ("FATAL", "PANIC")


def _may_have_run(exc: psycopg.Error) -> bool:
    if isinstance(exc, PoolTimeout | TooManyRequests):
        return False
    if exc.sqlstate == "25006":  # refused by a read-only node before it ran
        return False
    return not (exc.sqlstate is None and str(exc).startswith(_NOTHING_SENT))


# PostgreSQL echoes the bad value in its message (a 10 MB string for a uuid
# comes back whole); messages keep only this much of each part.
_ECHO_LIMIT = 300


def _describe(exc: psycopg.Error) -> str:
    diag = exc.diag
    text = _cut(diag.message_primary or str(exc).strip())
    detail = diag.message_detail
    if detail:
        text = f"{text} ({_cut(detail)})"
    return redact_text(text)


def _cut(text: str, limit: int = _ECHO_LIMIT) -> str:
    if len(text) <= limit:
        return text
    head = text[:limit]
    # The cut may fall inside a URL or a password=value, where the pattern
    # that masks it would no longer match: drop that last word entirely.
    word = head[max(head.rfind(" "), head.rfind("\t"), head.rfind("\n")) + 1 :]
    if "://" in word or "password" in word.lower():
        head = head[: len(head) - len(word)]
    return f"{head}… [cut: {len(text):,} characters]"


# Each pattern starts with a fixed text that re finds at C speed, and every
# repetition is possessive over a class that excludes what follows it, so no
# match backtracks: the cost is linear in the text, whatever it holds.
# URL userinfo as libpq reads it: the password runs from the first ':' to the
# first '@' (a password holding '/' or '@' must be percent-encoded).
_URL_PASSWORD = re.compile(r"(?P<head>://[^:@/\s]*+:)[^@/\s]*+@")
# key=value conninfo (also sslpassword=, and ?password= in a URL query):
# a quoted value (backslash escapes; unterminated runs to the end) or a word.
_KW_PASSWORD = re.compile(
    r"(?P<head>(?i:password)\s*+=\s*+)(?:'(?:[^'\\]++|\\[\s\S]?)*+(?:'|\Z)|[^\s&]++)"
)


def redact_url(url: str) -> str:
    """Return *url* (a URL or a key=value conninfo) with any password masked.

    Unlike `redact_text`, the whole string is one URL: everything between
    ``user:`` and the last ``@`` is masked, even an unencoded ``/`` or ``@``.
    """
    scheme, sep, rest = url.partition("://")
    if sep:
        at = rest.rfind("@")
        user, colon, _ = rest[: max(at, 0)].partition(":")
        if colon:
            url = f"{scheme}://{user}:***{rest[at:]}"
    return _KW_PASSWORD.sub(r"\g<head>***", url)


def redact_text(text: str) -> str:
    """Mask every password embedded in *text* as a URL or as ``password=...``."""
    text = _URL_PASSWORD.sub(r"\g<head>***@", text)
    return _KW_PASSWORD.sub(r"\g<head>***", text)
