"""The errors codezest-db raises.

Every error is a `DatabaseError`; a database failure keeps the original
`psycopg.Error` reachable as ``__cause__``::

    DatabaseError
     ├── ConfigurationError      no URL, a bad option, a missing binary
     ├── ConnectionFailed        the server cannot be reached in time
     ├── MigrationError          dbmate refused or failed
     ├── SchemaOutOfDate         migrations of this package are not applied; .pending lists them
     ├── QueryError              a query file cannot be loaded
     ├── AlreadyExists           unique violation (23505); .constraint names it
     ├── MissingReference        foreign key violation (23503)
     ├── ConstraintViolation     check, not-null, bad enum value, malformed input
     ├── InvalidParameters       a missing or unknown query parameter (also a ValueError)
     │    └── InvalidValue       a value of the wrong type, size or form; also a
     │                           ConstraintViolation: nothing was sent

No message ever carries a password: URLs are shown through `redact_url`.
"""

from __future__ import annotations

import re

import psycopg

__all__ = [
    "AlreadyExists",
    "ConfigurationError",
    "ConnectionFailed",
    "ConstraintViolation",
    "DatabaseError",
    "InvalidParameters",
    "InvalidValue",
    "MigrationError",
    "MissingReference",
    "QueryError",
    "SchemaOutOfDate",
    "from_psycopg",
    "redact_url",
]


class DatabaseError(Exception):
    """Base of every error raised by codezest-db."""

    sqlstate: str | None = None
    constraint: str | None = None


class ConfigurationError(DatabaseError):
    """The package is not configured well enough to reach a database."""


class ConnectionFailed(DatabaseError):
    """No connection to the database could be had in time."""


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
    """A check or not-null constraint, a bad enum value or malformed input."""


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

# SQLSTATE classes: 23 integrity, 22 data exception (bad enum label, malformed
# uuid, out of range, bad json...).
_BY_SQLSTATE: dict[str, type[DatabaseError]] = {
    "23505": AlreadyExists,
    "23503": MissingReference,
    "23514": ConstraintViolation,
    "23502": ConstraintViolation,
    "23P01": ConstraintViolation,
}


def from_psycopg(exc: psycopg.Error) -> DatabaseError:
    """Translate a psycopg error into ours; the caller chains it with ``from``."""
    if isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None:
        return ConnectionFailed(redact_text(str(exc)))
    sqlstate = exc.sqlstate or ""
    cls = _BY_SQLSTATE.get(sqlstate)
    if cls is None:
        cls = ConstraintViolation if sqlstate.startswith(("22", "23")) else DatabaseError
    diag = exc.diag
    error = cls(_describe(exc))
    error.sqlstate = exc.sqlstate
    error.constraint = diag.constraint_name
    return error


def _describe(exc: psycopg.Error) -> str:
    diag = exc.diag
    text = diag.message_primary or str(exc).strip()
    if diag.message_detail:
        text = f"{text} ({diag.message_detail})"
    return redact_text(text)


_URL_PASSWORD = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^:/?#@\s]*:)(?P<pw>[^@/?#\s]*)@", re.I)
_KW_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'|[^\s&]+)", re.I)


def redact_url(url: str) -> str:
    """Return *url* (a URL or a key=value conninfo) with any password masked."""
    return redact_text(url)


def redact_text(text: str) -> str:
    """Mask every password that looks embedded in *text*."""
    text = _URL_PASSWORD.sub(r"\g<head>***@", text)
    return _KW_PASSWORD.sub(r"\g<head>***", text)
