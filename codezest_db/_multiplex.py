"""asyncio pooled reads share connections: waiting reads go out together, pipelined.

With more pooled reads in flight than the pool has connections (100 tasks on a
pool of 10), a read no longer waits for a connection of its own. It joins a
queue, and whoever holds a connection next sends every queued read at once in
one pipeline (libpq's pipeline mode, through psycopg's ``conn.pipeline()``):
one checkout, one write and one wait for a batch instead of for each call. It
is the multiplexing of Npgsql and the automatic batching of Drogon, for reads
only: writes, transactions and ``connection()`` blocks never come here.

Each read is followed by its own Sync, so it is its own implicit transaction,
exactly as when it runs alone: a read that fails fails alone, and the reads
after it in the batch run as usual. Without prepared statements
(``prepare_threshold=None``, the PgBouncer setting) a batch ends with a single
Sync instead: PgBouncer in transaction mode hands the server connection on at
every Sync, so a batch must be one transaction there. A read that fails then
skips the reads after it, which go back to the head of the queue (they had
not run); with no prepared statements, nothing is left out of step by the
skipped messages. A batch that loses its connection runs
the reads that got no result again, once, on a fresh connection, as a single
read would be retried. A leader cancelled in the middle of a batch hands the
others' reads back to the queue and closes its connection (psycopg's record
of prepared statements may no longer match the server's).

Who sends a batch is one of the waiting callers (the leader): there are at
most as many leaders as the pool has connections; a caller that finds them
all busy waits on a future; a leader that is done hands the lead to the
oldest waiting caller. A leader takes its own read first, so it never waits
on others' reads for longer than one batch. Nothing here starts a task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from ._pools import lost
from ._query import rows

__all__ = ["MAX_BATCH", "Multiplexer"]

MAX_BATCH = 32  # reads in one pipeline: bounds a leader's wait for its own result

AsyncConnection = psycopg.AsyncConnection[Any]
_LEAD = object()  # a waiting caller's future gets this: it leads the next batch


async def _one(cur: Any) -> Any:
    return await cur.fetchone()


async def _all(cur: Any) -> Any:
    return await cur.fetchall()


async def _value(cur: Any) -> Any:
    row = await cur.fetchone()
    return None if row is None else row[0]


class _Read:
    """One read: its executor's arguments, and where its outcome goes."""

    __slots__ = (
        "deadline",
        "done",
        "error",
        "execute",
        "future",
        "models",
        "params",
        "prepare",
        "result",
        "retried",
        "sql",
        "timer",
    )

    def __init__(
        self, execute: Callable[..., Any], sql: str, params: Any, models: Any, prepare: Any
    ) -> None:
        self.execute, self.sql, self.params = execute, sql, params
        self.models, self.prepare = models, prepare
        self.future: asyncio.Future[Any] | None = None  # None for the leader's own read
        self.timer: asyncio.TimerHandle | None = None
        self.deadline = 0.0
        self.retried = False
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        self.done = True
        future = self.future
        if future is None:
            self.result, self.error = result, error
        elif not future.done():
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)

    @property
    def abandoned(self) -> bool:
        return self.future is not None and self.future.done()


class Multiplexer:
    """The batched reads of one pool (`codezest_db.aio` makes one per pool).

    *checkout(timeout)* lends a live connection (raising when none comes in
    time), *checkin(conn)* takes it back; *limit* is the pool's size.
    """

    def __init__(
        self,
        checkout: Callable[[float], Awaitable[AsyncConnection]],
        checkin: Callable[[AsyncConnection], Awaitable[None]],
        limit: int,
        timeout: float,
        max_waiting: int = 0,
        too_many: Callable[[], BaseException] | None = None,
        timed_out: Callable[[], BaseException] | None = None,
        sync_each: bool = True,
    ) -> None:
        self.checkout, self.checkin = checkout, checkin
        self.sync_each = sync_each
        self.limit, self.timeout = limit, timeout
        self.max_waiting, self.too_many = max_waiting, too_many
        self.timed_out = timed_out or (lambda: TimeoutError(f"no connection within {timeout}s"))
        self.pending: deque[_Read] = deque()
        self.leaders = 0
        self.batches = 0  # pipelines sent (for tests and stats)
        self.batched = 0  # reads that went in them
        self.retries = 0  # reads run again after their connection was lost

    @property
    def waiting(self) -> int:
        """Reads in the queue (those that gave up are not counted)."""
        return sum(not req.abandoned for req in self.pending)

    @staticmethod
    def batches_of(execute: Callable[..., Any]) -> bool:
        """Whether reads run by *execute* (an executor of `codezest_db._query.rows`) can batch."""
        return execute in _COLLECT

    async def read(
        self, execute: Callable[..., Any], sql: str, params: Any, models: Any, prepare: Any
    ) -> Any:
        """Run one read of *execute*'s kind, alone or in a batch; return what it returns."""
        req = _Read(execute, sql, params, models, prepare)
        req.deadline = monotonic() + self.timeout
        if self.leaders < self.limit:
            self.leaders += 1
        else:
            full = self.max_waiting and len(self.pending) >= self.max_waiting
            if full and self.too_many and self.waiting >= self.max_waiting:
                raise self.too_many()  # (reads that gave up do not count)
            loop = asyncio.get_running_loop()
            future = req.future = loop.create_future()
            self.pending.append(req)
            # Like the pool's own wait: no connection for it within the timeout, it fails.
            req.timer = loop.call_at(loop.time() + self.timeout, self._expire, future)
            try:
                outcome = await future
            except asyncio.CancelledError:
                if _led(future):  # cancelled after being handed the lead: pass it on
                    self._pass_lead()
                raise
            finally:
                req.timer.cancel()
            if outcome is not _LEAD:
                return outcome
            req.future = None  # the leader's own read
        try:
            return await self._lead(req)
        finally:
            self._pass_lead()

    def _expire(self, future: asyncio.Future[Any]) -> None:
        if not future.done():
            future.set_exception(self.timed_out())

    def _pass_lead(self) -> None:
        while self.pending:
            nxt = self.pending.popleft()
            if nxt.future is not None and not nxt.future.done():
                nxt.future.set_result(_LEAD)
                return
        self.leaders -= 1

    async def _lead(self, own: _Read) -> Any:
        while not own.done:
            remaining = max(own.deadline - monotonic(), 0.0)
            conn = await self.checkout(remaining)
            batch = [own]
            try:
                while self.pending and len(batch) < MAX_BATCH:
                    req = self.pending.popleft()
                    if not req.abandoned:
                        if req.timer is not None:
                            req.timer.cancel()  # it has a connection now
                        batch.append(req)
                await (self._alone(conn, own) if len(batch) == 1 else self._pipelined(conn, batch))
            except BaseException:
                # Cancelled (or worse) mid-batch: the others' reads go back to the queue,
                # and the connection is closed, never reused: a pipeline cut short can
                # leave psycopg's prepared statements out of step with the server's.
                # (A read alone is psycopg's usual cancellation: the pool resets it.)
                self._requeue([r for r in batch[1:] if not r.done])
                if len(batch) > 1:
                    await conn.close()
                raise
            finally:
                await self.checkin(conn)  # the pool replaces a closed connection
        if own.error is not None:
            raise own.error
        return own.result

    async def _alone(self, conn: AsyncConnection, req: _Read) -> None:
        try:  # the executor a call without batching would run
            result = await req.execute(conn, req.sql, req.params, req.models, req.prepare)
        except psycopg.OperationalError as exc:
            if lost(conn) and not req.retried:
                req.retried = True  # once, on a fresh connection: requeued, or the leader loops
                self.retries += 1
            else:
                req.settle(error=exc)
        except Exception as exc:
            req.settle(error=exc)
        else:
            req.settle(result)

    async def _pipelined(self, conn: AsyncConnection, batch: list[_Read]) -> None:
        self.batches += 1
        self.batched += len(batch)
        sent: list[tuple[_Read, Any]] = []  # each read with its cursor
        raised: list[psycopg.Error] = []  # the server's errors, in the order they came
        cut: psycopg.Error | None = None  # the error that lost the connection
        try:
            async with conn.pipeline() as pipeline:
                for req in batch:
                    as_models, _ = _COLLECT[req.execute]
                    cur = conn.cursor(row_factory=req.models if as_models else tuple_row)
                    try:
                        await cur.execute(req.sql, req.params, prepare=req.prepare)
                    except psycopg.Error as exc:
                        if lost(conn):
                            raise
                        if _client_side(exc):  # its parameters could not be sent: its own error
                            req.settle(error=exc)
                            continue
                        raised.append(exc)  # an earlier read's (the execute was queued)
                    sent.append((req, cur))
                    if self.sync_each:
                        _sync_point(pipeline)  # each read its own implicit transaction
        except psycopg.Error as exc:
            if lost(conn):
                cut = exc
            else:
                raised.append(exc)
        gone = lost(conn)
        failed = []
        results = dict(sent)
        for req in batch:  # sent or not: a lost connection may have cut the loop short
            if req.done:
                continue
            got = results.get(req)
            if got is not None and got.pgresult is not None:  # its result came
                try:
                    req.settle(await _COLLECT[req.execute][1](got))
                except Exception as error:
                    req.settle(error=error)
            else:
                failed.append(req)
        if gone:
            for req in failed:
                if req.retried:
                    req.settle(error=cut or psycopg.OperationalError("connection lost"))
                else:
                    req.retried = True  # once, on a fresh connection: requeued, or looped
                    self.retries += 1
            self._requeue([r for r in failed if not r.done and r.future is not None])
            return
        raised = [exc for exc in raised if not isinstance(exc, psycopg.errors.PipelineAborted)]
        if not self.sync_each:
            # One transaction: the first read without a result failed, and the
            # reads after it were skipped. They had not run: back to the queue.
            if failed:
                failing = failed.pop(0)
                if raised:
                    failing.settle(error=raised[0])
                else:
                    await self._alone(conn, failing)
                if not failing.done and failing.future is not None:
                    failed.insert(0, failing)  # lost its connection when alone: retry
                self._requeue([r for r in failed if not r.done and r.future is not None])
            return
        # psycopg raises one error per exchange with the server: the first one
        # is the first failed read's. If the counts differ, two reads failed in
        # one exchange, and the others run again alone (reads: no harm), each
        # to get an error of its own.
        if len(raised) == len(failed):
            for req, its_error in zip(failed, raised, strict=True):
                req.settle(error=its_error)
            return
        if failed and raised:
            failed.pop(0).settle(error=raised[0])
        for req in failed:
            await self._alone(conn, req)
            if not req.done:  # the connection went: the rest retry elsewhere
                self._requeue([r for r in failed if not r.done and r.future is not None])
                return

    def _requeue(self, reads: list[_Read]) -> None:
        """Put *reads* back at the head of the queue, in their order."""
        for req in reversed(reads):
            if not req.abandoned:
                self.pending.appendleft(req)


def _sync_point(pipeline: Any) -> None:
    """Queue a Sync after the read just queued: it commits alone, fails alone.

    psycopg's pipeline sends one Sync, at its end (``sync()`` waits for the
    results, so it cannot serve here); a Sync after every statement is what
    libpq's PQpipelineSync gives, through psycopg's own queue of commands.
    """
    pipeline._enqueue_sync()


def supported() -> bool:
    """Whether this psycopg and its libpq can batch reads (else each read runs alone)."""
    return psycopg.AsyncPipeline.is_supported() and hasattr(psycopg.AsyncPipeline, "_enqueue_sync")


def _led(future: asyncio.Future[Any]) -> bool:
    return (
        future.done()
        and not future.cancelled()
        and future.exception() is None
        and future.result() is _LEAD
    )


def _client_side(exc: psycopg.Error) -> bool:
    """Raised before the statement was queued (its parameters would not adapt)."""
    return exc.sqlstate is None and not isinstance(
        exc, psycopg.OperationalError | psycopg.errors.PipelineAborted
    )


# By executor of `codezest_db._query.rows`, for reads in a pipeline: (rows are the
# query's models, how to take the result from the cursor once the pipeline is over).
_COLLECT: dict[Callable[..., Any], tuple[bool, Any]] = {
    rows.afetch_one: (True, _one),
    rows.afetch_all: (True, _all),
    rows.afetch_value: (False, _value),
}
