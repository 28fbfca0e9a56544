"""What the two isolated connections share, without I/O: their SQL, their refusals.

See `codezest_db.testing.isolation`.
"""

from __future__ import annotations

from psycopg import errors as e

__all__ = [
    "COMMIT_HINT",
    "RELEASE",
    "ROLLBACK_HINT",
    "ROLLBACK_TO",
    "SAVEPOINT",
    "IsolationBroken",
    "broken",
    "refuse_inside_block",
]

SAVEPOINT = b"SAVEPOINT codezest_test"
RELEASE = b"RELEASE SAVEPOINT codezest_test"
ROLLBACK_TO = b"ROLLBACK TO SAVEPOINT codezest_test"

# psycopg's own words when commit() or rollback() is called inside a block.
COMMIT_HINT = "Transaction will be automatically committed on successful exit from context."
ROLLBACK_HINT = "Either raise Rollback() or allow an exception to propagate out of the context."


class IsolationBroken(AssertionError):
    """The test ended the outer transaction itself: its writes may have been committed."""


def refuse_inside_block(blocks: int, action: str, hint: str) -> None:
    """Raise ProgrammingError if a ``transaction()`` block is open (it owns its savepoint)."""
    if blocks:
        raise e.ProgrammingError(
            f"Explicit {action}() forbidden within a Transaction context. ({hint})"
        )


def broken() -> IsolationBroken:
    return IsolationBroken(
        "the test ended its outer transaction with SQL (COMMIT or ROLLBACK): "
        "its writes may have leaked; use conn.commit() and conn.rollback() instead"
    )
