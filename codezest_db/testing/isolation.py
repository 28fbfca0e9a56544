"""Connections whose work is always undone: the ``conn`` and ``aconn`` of a test.

An isolated connection opens an outer transaction that nothing in the test
can end. Its ``commit()`` keeps the work done so far (it releases a savepoint
and takes a new one) and its ``rollback()`` undoes the work since the last
commit (back to that savepoint), so code that commits behaves as it would in
production, while the test's fixture rolls the outer transaction back at the
end. ``conn.transaction()`` blocks (and so ``codezest_db.transaction(conn)``)
are savepoints inside it, as psycopg nests them; ``commit()`` and
``rollback()`` inside one are refused, as psycopg refuses them.

Only SQL that ends the transaction itself (``conn.execute("commit")``) gets
out; `IsolatedConnection.discard` notices it and raises `IsolationBroken`.

Both classes are psycopg connections that override public methods only
(``commit``, ``rollback``, ``transaction``) and talk to the server through
``execute``. `AsyncIsolatedConnection` is the source: `IsolatedConnection` is
its twin line by line, without ``async`` and ``await``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import psycopg
from psycopg import AsyncTransaction, Transaction
from psycopg import errors as e
from psycopg.pq import PipelineStatus, TransactionStatus

__all__ = ["AsyncIsolatedConnection", "IsolatedConnection", "IsolationBroken"]

_SAVEPOINT = b"SAVEPOINT codezest_test"
_RELEASE = b"RELEASE SAVEPOINT codezest_test"
_ROLLBACK_TO = b"ROLLBACK TO SAVEPOINT codezest_test"

# psycopg's own words when commit() or rollback() is called inside a block.
_COMMIT_HINT = "Transaction will be automatically committed on successful exit from context."
_ROLLBACK_HINT = "Either raise Rollback() or allow an exception to propagate out of the context."


class IsolationBroken(AssertionError):
    """The test ended the outer transaction itself: its writes may have been committed."""


def _refuse_inside_block(blocks: int, action: str, hint: str) -> None:
    """Raise ProgrammingError if a ``transaction()`` block is open (it owns its savepoint)."""
    if blocks:
        raise e.ProgrammingError(
            f"Explicit {action}() forbidden within a Transaction context. ({hint})"
        )


def _broken() -> IsolationBroken:
    return IsolationBroken(
        "the test ended its outer transaction with SQL (COMMIT or ROLLBACK): "
        "its writes may have leaked; use conn.commit() and conn.rollback() instead"
    )


class AsyncIsolatedConnection(psycopg.AsyncConnection[Any]):
    """A psycopg connection whose outer transaction only `discard` ends (rolling it back)."""

    __blocks = 0  # transaction() blocks open on this connection

    @classmethod
    async def open(cls, url: str, **kwargs: Any) -> AsyncIsolatedConnection:
        """Connect to *url* and open the outer transaction.

        Raises psycopg's NoActiveSqlTransaction if *kwargs* ask for autocommit.
        """
        conn = await cls.connect(url, **kwargs)
        try:
            # Not in autocommit, psycopg begins the outer transaction before it.
            await conn.execute(_SAVEPOINT, prepare=False)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def commit(self) -> None:
        """Keep the work so far: release the test's savepoint and take a new one.

        Raises ProgrammingError inside a ``transaction()`` block. In a failed
        transaction it rolls back instead, as PostgreSQL's COMMIT does.
        """
        _refuse_inside_block(self.__blocks, "commit", _COMMIT_HINT)
        await self.__sync()  # errors queued in a pipeline surface here, as in psycopg
        if self.info.transaction_status == TransactionStatus.INERROR:
            await self.__undo()
        else:
            await self.execute(_RELEASE, prepare=False)
            await self.execute(_SAVEPOINT, prepare=False)
        await self.__sync()

    async def rollback(self) -> None:
        """Undo the work since the last `commit` (back to the test's savepoint).

        Raises ProgrammingError inside a ``transaction()`` block.
        """
        _refuse_inside_block(self.__blocks, "rollback", _ROLLBACK_HINT)
        await self.__sync()
        await self.__undo()
        await self.__sync()

    @asynccontextmanager
    async def transaction(
        self, savepoint_name: str | None = None, force_rollback: bool = False
    ) -> AsyncIterator[AsyncTransaction]:
        """psycopg's transaction block (a savepoint here), counted to refuse commit() inside."""
        async with super().transaction(savepoint_name, force_rollback) as tx:
            self.__blocks += 1
            try:
                yield tx
            finally:
                self.__blocks -= 1

    async def discard(self) -> None:
        """Roll back everything and close; raises IsolationBroken if SQL ended the transaction."""
        try:
            if not self.closed:
                await self.__end()
        finally:
            await self.close()

    async def __undo(self) -> None:
        await self.execute(_ROLLBACK_TO, prepare=False)
        # Statements prepared since the savepoint may plan against tables now
        # gone. psycopg forgets its prepared statements when one of its blocks
        # rolls back (a ROLLBACK seen by execute() does it only the first time)
        # and no public call does it alone: so roll back an empty block.
        async with super().transaction(force_rollback=True):
            pass

    async def __sync(self) -> None:
        if self.pgconn.pipeline_status != PipelineStatus.OFF:
            async with self.pipeline() as pipeline:  # the pipeline in progress
                await pipeline.sync()

    async def __end(self) -> None:
        if self.info.transaction_status == TransactionStatus.IDLE:
            raise _broken()  # SQL ended the transaction and nothing began another
        try:
            await self.execute(_ROLLBACK_TO, prepare=False)
        except e.InvalidSavepointSpecification:
            raise _broken() from None  # the transaction psycopg began after it has no savepoint
        await super().rollback()


class IsolatedConnection(psycopg.Connection[Any]):
    """A psycopg connection whose outer transaction only `discard` ends (rolling it back)."""

    __blocks = 0  # transaction() blocks open on this connection

    @classmethod
    def open(cls, url: str, **kwargs: Any) -> IsolatedConnection:
        """Connect to *url* and open the outer transaction.

        Raises psycopg's NoActiveSqlTransaction if *kwargs* ask for autocommit.
        """
        conn = cls.connect(url, **kwargs)
        try:
            # Not in autocommit, psycopg begins the outer transaction before it.
            conn.execute(_SAVEPOINT, prepare=False)
        except BaseException:
            conn.close()
            raise
        return conn

    def commit(self) -> None:
        """Keep the work so far: release the test's savepoint and take a new one.

        Raises ProgrammingError inside a ``transaction()`` block. In a failed
        transaction it rolls back instead, as PostgreSQL's COMMIT does.
        """
        _refuse_inside_block(self.__blocks, "commit", _COMMIT_HINT)
        self.__sync()  # errors queued in a pipeline surface here, as in psycopg
        if self.info.transaction_status == TransactionStatus.INERROR:
            self.__undo()
        else:
            self.execute(_RELEASE, prepare=False)
            self.execute(_SAVEPOINT, prepare=False)
        self.__sync()

    def rollback(self) -> None:
        """Undo the work since the last `commit` (back to the test's savepoint).

        Raises ProgrammingError inside a ``transaction()`` block.
        """
        _refuse_inside_block(self.__blocks, "rollback", _ROLLBACK_HINT)
        self.__sync()
        self.__undo()
        self.__sync()

    @contextmanager
    def transaction(
        self, savepoint_name: str | None = None, force_rollback: bool = False
    ) -> Iterator[Transaction]:
        """psycopg's transaction block (a savepoint here), counted to refuse commit() inside."""
        with super().transaction(savepoint_name, force_rollback) as tx:
            self.__blocks += 1
            try:
                yield tx
            finally:
                self.__blocks -= 1

    def discard(self) -> None:
        """Roll back everything and close; raises IsolationBroken if SQL ended the transaction."""
        try:
            if not self.closed:
                self.__end()
        finally:
            self.close()

    def __undo(self) -> None:
        self.execute(_ROLLBACK_TO, prepare=False)
        # Statements prepared since the savepoint may plan against tables now
        # gone. psycopg forgets its prepared statements when one of its blocks
        # rolls back (a ROLLBACK seen by execute() does it only the first time)
        # and no public call does it alone: so roll back an empty block.
        with super().transaction(force_rollback=True):
            pass

    def __sync(self) -> None:
        if self.pgconn.pipeline_status != PipelineStatus.OFF:
            with self.pipeline() as pipeline:  # the pipeline in progress
                pipeline.sync()

    def __end(self) -> None:
        if self.info.transaction_status == TransactionStatus.IDLE:
            raise _broken()  # SQL ended the transaction and nothing began another
        try:
            self.execute(_ROLLBACK_TO, prepare=False)
        except e.InvalidSavepointSpecification:
            raise _broken() from None  # the transaction psycopg began after it has no savepoint
        super().rollback()
