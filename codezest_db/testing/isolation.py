"""Connections whose work is always undone: the ``conn`` and ``aconn`` of a test.

An isolated connection opens an outer transaction that nothing in the test
can end. Its ``commit()`` keeps the work done so far (it releases a savepoint
and takes a new one) and its ``rollback()`` undoes the work since the last
commit (back to that savepoint), so code that commits behaves as it would in
production, while the test's fixture rolls the outer transaction back at the
end. ``conn.transaction()`` blocks (and so ``codezest_db.transaction(conn)``)
are savepoints inside it, as psycopg nests them.

Only SQL that ends the transaction itself (``conn.execute("commit")``) gets
out; `IsolatedConnection.discard` notices it and raises `IsolationBroken`.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import errors as e
from psycopg.pq import TransactionStatus

__all__ = ["AsyncIsolatedConnection", "IsolatedConnection", "IsolationBroken"]

_SAVEPOINT = b"codezest_test"


class IsolationBroken(AssertionError):
    """The test ended the outer transaction itself: its writes may have been committed."""


class _Isolation(psycopg.BaseConnection[Any]):
    """The commit and rollback of a test connection, for the sync and asyncio twins.

    psycopg runs ``commit()`` and ``rollback()`` of both connection classes
    through these generators, so overriding them serves both.
    """

    def _begin_isolation_gen(self) -> Any:
        yield from self._exec_command(b"BEGIN")
        yield from self._exec_command(b"SAVEPOINT " + _SAVEPOINT)

    def _commit_gen(self) -> Any:
        self._refuse_inside_block("commit", "committed on successful exit")
        if self.pgconn.transaction_status == TransactionStatus.INERROR:
            # COMMIT of a failed transaction rolls it back: so does ours.
            yield from self._rollback_gen()
            return
        yield from self._exec_command(b"RELEASE SAVEPOINT " + _SAVEPOINT)
        yield from self._exec_command(b"SAVEPOINT " + _SAVEPOINT)
        if self._pipeline:
            yield from self._pipeline._sync_gen()

    def _rollback_gen(self) -> Any:
        self._refuse_inside_block("rollback", "rolled back if an exception propagates")
        if self._pipeline:
            yield from self._pipeline._sync_gen()
        yield from self._exec_command(b"ROLLBACK TO SAVEPOINT " + _SAVEPOINT)
        # As psycopg does after a rollback: statements prepared since may be gone.
        self._prepared.clear()
        yield from self._prepared.maintain_gen(self)

    def _discard_gen(self) -> Any:
        intact = self.pgconn.transaction_status != TransactionStatus.IDLE
        if intact:
            try:  # fails if SQL ended our transaction and psycopg began another
                yield from self._exec_command(b"ROLLBACK TO SAVEPOINT " + _SAVEPOINT)
            except e.Error:
                intact = False
            yield from self._exec_command(b"ROLLBACK")
        if not intact:
            raise IsolationBroken(
                "the test ended its outer transaction with SQL (COMMIT or ROLLBACK): "
                "its writes may have leaked; use conn.commit() and conn.rollback() instead"
            )

    def _refuse_inside_block(self, action: str, what: str) -> None:
        # Same rule and wording as psycopg: a block owns its savepoint.
        if self._num_transactions:
            raise e.ProgrammingError(
                f"Explicit {action}() forbidden within a Transaction context. "
                f"(Transaction will be automatically {what}.)"
            )


class IsolatedConnection(_Isolation, psycopg.Connection[Any]):
    """A psycopg connection whose outer transaction only `discard` ends (rolling it back)."""

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> IsolatedConnection:
        """Connect to *url* and open the outer transaction."""
        conn = cls.connect(url, **kwargs)
        with conn.lock:
            conn.wait(conn._begin_isolation_gen())
        return conn

    def discard(self) -> None:
        """Roll back everything and close; raises IsolationBroken if SQL ended the transaction."""
        try:
            if not self.closed:
                with self.lock:
                    self.wait(self._discard_gen())
        finally:
            self.close()


class AsyncIsolatedConnection(_Isolation, psycopg.AsyncConnection[Any]):
    """The asyncio twin of `IsolatedConnection`."""

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> AsyncIsolatedConnection:
        """Connect to *url* and open the outer transaction."""
        conn = await cls.connect(url, **kwargs)
        async with conn.lock:
            await conn.wait(conn._begin_isolation_gen())
        return conn

    async def discard(self) -> None:
        """Roll back everything and close; raises IsolationBroken if SQL ended the transaction."""
        try:
            if not self.closed:
                async with self.lock:
                    await self.wait(self._discard_gen())
        finally:
            await self.close()
