"""The isolated test connection, asyncio: the source of its sync twin.

``_isolation_async.py`` is written; ``_isolation_sync.py`` is generated from it
by ``tools/async_to_sync.py``. See `codezest_db.testing.isolation`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncTransaction
from psycopg import errors as e
from psycopg.pq import PipelineStatus, TransactionStatus

from ._isolation import (
    COMMIT_HINT,
    RELEASE,
    ROLLBACK_HINT,
    ROLLBACK_TO,
    SAVEPOINT,
    broken,
    refuse_inside_block,
)

__all__ = ["AsyncIsolatedConnection"]


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
            await conn.execute(SAVEPOINT, prepare=False)
        except BaseException:
            await conn.close()
            raise
        return conn

    async def commit(self) -> None:
        """Keep the work so far: release the test's savepoint and take a new one.

        Raises ProgrammingError inside a ``transaction()`` block. In a failed
        transaction it rolls back instead, as PostgreSQL's COMMIT does.
        """
        refuse_inside_block(self.__blocks, "commit", COMMIT_HINT)
        await self.__sync()  # errors queued in a pipeline surface here, as in psycopg
        if self.info.transaction_status == TransactionStatus.INERROR:
            await self.__undo()
        else:
            await self.execute(RELEASE, prepare=False)
            await self.execute(SAVEPOINT, prepare=False)
        await self.__sync()

    async def rollback(self) -> None:
        """Undo the work since the last `commit` (back to the test's savepoint).

        Raises ProgrammingError inside a ``transaction()`` block.
        """
        refuse_inside_block(self.__blocks, "rollback", ROLLBACK_HINT)
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
        await self.execute(ROLLBACK_TO, prepare=False)
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
            raise broken()  # SQL ended the transaction and nothing began another
        try:
            await self.execute(ROLLBACK_TO, prepare=False)
        except e.InvalidSavepointSpecification:
            raise broken() from None  # the transaction psycopg began after it has no savepoint
        await super().rollback()
