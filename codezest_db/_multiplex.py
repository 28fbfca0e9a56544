"""asyncio pooled reads share connections when every connection is busy: they go pipelined.

A pooled read that finds a connection free and nobody waiting runs at once,
on the plain path of `codezest_db.aio` (nothing of this module is involved).
Only when every connection of the pool is claimed does a read join this
queue; whoever gives a connection back next hands the lead to the oldest
waiting read, and that leader sends every queued read (at most `MAX_BATCH`,
its own first) in one pipeline (libpq's pipeline mode, through psycopg's
public ``conn.pipeline()``): one checkout, one write and one wait for a batch
instead of for each call. It is the multiplexing of Npgsql and the automatic
batching of Drogon, for reads only: writes, transactions and
``connection()`` blocks never come here.

A batch is one pipeline with one Sync, so it is one implicit transaction of
reads, and its statements are never prepared (``prepare=False``): a read
that fails makes the server skip the reads after it, and with nothing
prepared in the batch, psycopg's record of prepared statements cannot get
out of step with the server's. The skipped reads had not run: they go back
to the head of the queue. Behind PgBouncer in transaction mode a batch is
one transaction too, so the same batch works there. A batch that loses its
connection runs the reads that got no result again, once, on a fresh
connection, as a single read would be retried. A leader cancelled in the
middle of a batch hands the others' reads back to the queue and closes its
connection (a pipeline cut short leaves it in no known state).

A read waits in the queue at most the pool's ``timeout`` and then fails with
ConnectionFailed, as a wait for a connection would; ``max_waiting`` caps the
queue. Nothing here starts a task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg
from psycopg_pool import PoolTimeout, TooManyRequests

from . import _config, _watchdog
from ._pools import Role, lost
from ._query.execute_async import collect, execute
from ._query.statement import Params, Statement
from .errors import from_psycopg

__all__ = ["MAX_BATCH", "Multiplexer"]

MAX_BATCH = 32  # reads in one pipeline: bounds a leader's wait for its own result

AsyncConnection = psycopg.AsyncConnection[Any]
Checkout = Callable[[Role[Any], float | None], Awaitable[AsyncConnection]]
Checkin = Callable[[Role[Any], AsyncConnection], Awaitable[None]]
_LEAD = object()  # a waiting read's future gets this: it leads the next batch


class _Read:
    """One read waiting, or in a batch: its statement, and where its outcome goes."""

    __slots__ = (
        "deadline",
        "done",
        "error",
        "future",
        "leads",
        "params",
        "result",
        "retried",
        "stmt",
        "timer",
    )

    def __init__(self, stmt: Statement, params: Params, future: asyncio.Future[Any]) -> None:
        self.stmt, self.params, self.future = stmt, params, future
        self.timer: asyncio.TimerHandle | None = None
        self.deadline = 0.0  # on the loop's clock
        self.leads = False  # its caller leads the batch: the outcome is kept here
        self.retried = False
        self.done = False
        self.result: Any = None
        self.error: BaseException | None = None

    def settle(self, result: Any = None, error: BaseException | None = None) -> None:
        self.done = True
        if self.leads:
            self.result, self.error = result, error
        elif not self.future.done():
            if error is not None:
                self.future.set_exception(error)
            else:
                self.future.set_result(result)

    @property
    def abandoned(self) -> bool:
        """Its caller gave up (timed out, cancelled): nobody waits for its result."""
        return not self.leads and self.future.done()


class Multiplexer:
    """The batched reads of one pool: `codezest_db.aio` makes one per pool (`Role`)."""

    def __init__(
        self, role: Role[Any], settings: _config.Settings, checkout: Checkout, checkin: Checkin
    ) -> None:
        self.role, self.settings = role, settings
        self.checkout, self.checkin = checkout, checkin
        self.limit: int = role.pool.max_size
        self.timeout: float = role.pool.timeout
        self.max_waiting: int = role.pool.max_waiting
        self.pending: deque[_Read] = deque()
        self.batches = 0  # pipelines sent
        self.batched = 0  # reads that went in them
        self.retries = 0  # reads run again after their connection was lost

    @staticmethod
    def supported() -> bool:
        """Whether this psycopg and its libpq have pipeline mode (else each read runs alone)."""
        return psycopg.AsyncPipeline.is_supported()

    @property
    def waiting(self) -> int:
        """Reads in the queue (those that gave up are not counted)."""
        return sum(not req.abandoned for req in self.pending)

    def stats(self) -> dict[str, int]:
        return {
            "reads_waiting": self.waiting,
            "read_batches": self.batches,
            "batched_reads": self.batched,
            "read_retries": self.retries,
        }

    def _callers_waiting(self) -> int:
        """Who waits for a connection: claims beyond the pool's size, and queued reads.

        (Reads that gave up are not counted; the queue is only walked when it is
        long enough to matter.)
        """
        beyond = max(self.role.busy - self.limit, 0)
        if beyond + len(self.pending) < self.max_waiting:
            return beyond + len(self.pending)
        return beyond + self.waiting

    def must_wait(self) -> bool:
        """Whether a read now must queue: every connection is claimed, or reads wait already."""
        return bool(self.pending) or self.role.busy >= self.limit

    async def read(self, stmt: Statement, params: Params) -> Any:
        """Queue one read; return its result when its batch is done (or raise its error)."""
        if self.max_waiting and self._callers_waiting() >= self.max_waiting:
            raise from_psycopg(TooManyRequests(f"{self.max_waiting} callers already waiting"))
        loop = asyncio.get_running_loop()
        req = _Read(stmt, params, loop.create_future())
        req.deadline = loop.time() + self.timeout
        self._enqueue(req)
        if self.role.busy < self.limit:
            self.released()  # a connection is free: only the queue was in the way
        try:
            outcome = await req.future
        except asyncio.CancelledError:
            if _led(req.future):  # cancelled after being handed the lead: pass it on
                self.released()
            raise
        finally:
            if req.timer is not None:
                req.timer.cancel()
        if outcome is not _LEAD:
            return outcome
        req.leads = True
        return await self._lead(req)

    def released(self) -> None:
        """A connection was given back (or is free): the oldest waiting read leads."""
        while self.pending:
            req = self.pending.popleft()
            if not req.future.done():
                if req.timer is not None:
                    req.timer.cancel()
                req.future.set_result(_LEAD)
                return

    def _enqueue(self, req: _Read, *, head: bool = False) -> None:
        loop = req.future.get_loop()
        # Like the pool's own wait: no connection for it within the timeout, it fails.
        req.timer = loop.call_at(req.deadline, self._expire, req)
        if head:
            self.pending.appendleft(req)
        else:
            self.pending.append(req)

    def _expire(self, req: _Read) -> None:
        if not req.future.done():
            waited = f"no connection for a read within {self.timeout:g}s"
            error = _config.timed_out(self.settings, self.timeout, PoolTimeout(waited))
            req.future.set_exception(error)

    async def _lead(self, own: _Read) -> Any:
        loop = own.future.get_loop()
        while not own.done:
            conn = await self.checkout(self.role, max(own.deadline - loop.time(), 0.0))
            batch = [own]
            call = _watchdog.watch(conn, self.role)  # a silent server: the batch is cut
            try:
                while self.pending and len(batch) < MAX_BATCH:
                    req = self.pending.popleft()
                    if not req.abandoned:
                        if req.timer is not None:
                            req.timer.cancel()  # it has a connection now
                        batch.append(req)
                if len(batch) == 1:
                    await self._alone(conn, own, call)
                else:
                    await self._pipelined(conn, batch, call)
            except BaseException:
                # Cancelled (or worse) mid-batch: the others' reads go back to the
                # queue, and the connection is closed, never reused. (A read alone is
                # psycopg's usual cancellation: the pool resets the connection.)
                self._requeue([r for r in batch[1:] if not r.done])
                if len(batch) > 1:
                    await conn.close()
                raise
            finally:
                _watchdog.unwatch(call)
                await self.checkin(self.role, conn)  # the pool replaces a closed connection
        if own.error is not None:
            raise own.error
        return own.result

    async def _alone(self, conn: AsyncConnection, req: _Read, call: _watchdog.Call) -> None:
        try:  # what a call without batching runs
            result = await execute(conn, req.stmt, req.params)
        except psycopg.OperationalError as exc:
            if _watchdog.was_cut(call):  # its server is silent: not retried there
                req.settle(error=_watchdog.failure(call, exc, sent=True))
            elif lost(conn) and not req.retried:
                req.retried = True  # once, on a fresh connection: requeued, or the leader loops
                self.retries += 1
            else:
                req.settle(error=exc)
        except Exception as exc:
            req.settle(error=exc)
        else:
            req.settle(result)

    async def _pipelined(
        self, conn: AsyncConnection, batch: list[_Read], call: _watchdog.Call
    ) -> None:
        self.batches += 1
        self.batched += len(batch)
        sent, raised, cut = await _send(conn, batch)
        failed = []  # the reads without a result
        for req in batch:  # sent or not: a lost connection may have cut the sending short
            if req.done:
                continue
            got = sent.get(req)
            if got is not None and got.pgresult is not None:  # its result came
                try:
                    req.settle(await collect(got, req.stmt))
                except Exception as error:
                    req.settle(error=error)
            else:
                failed.append(req)
        if lost(conn) and _watchdog.was_cut(call):  # its server is silent: not retried there
            cause = cut or psycopg.OperationalError("connection lost")
            for req in failed:
                req.settle(error=_watchdog.failure(call, cause, sent=req in sent))
        elif lost(conn):
            self._lost(failed, cut)
        elif failed:
            await self._skipped(conn, failed, raised, call)

    def _lost(self, failed: list[_Read], cut: psycopg.Error | None) -> None:
        """The batch lost its connection: each read without a result runs again, once."""
        for req in failed:
            if req.retried:
                req.settle(error=cut or psycopg.OperationalError("connection lost"))
            else:
                req.retried = True  # once, on a fresh connection: requeued, or looped
                self.retries += 1
        self._requeue([r for r in failed if not r.done and not r.leads])

    async def _skipped(
        self,
        conn: AsyncConnection,
        failed: list[_Read],
        raised: list[psycopg.Error],
        call: _watchdog.Call,
    ) -> None:
        """One transaction: the first read without a result failed, the others were skipped.

        The skipped reads had not run: back to the head of the queue.
        """
        raised = [exc for exc in raised if not isinstance(exc, psycopg.errors.PipelineAborted)]
        failing = failed.pop(0)
        if raised:
            failing.settle(error=raised[0])
        else:
            await self._alone(conn, failing, call)
        if not failing.done and not failing.leads:
            failed.insert(0, failing)  # lost its connection when alone: retry
        self._requeue([r for r in failed if not r.done and not r.leads])

    def _requeue(self, reads: list[_Read]) -> None:
        """Put *reads* back at the head of the queue, in their order."""
        for req in reversed(reads):
            if not req.abandoned:
                self._enqueue(req, head=True)


async def _send(
    conn: AsyncConnection, batch: list[_Read]
) -> tuple[dict[_Read, Any], list[psycopg.Error], psycopg.Error | None]:
    """Send *batch* in one pipeline, one Sync, nothing prepared.

    Returns each read sent with its cursor, the server's errors in the order
    they came, and the error that lost the connection (if it was lost). A read
    whose values cannot be sent is settled with its own error here.
    """
    sent: dict[_Read, Any] = {}
    raised: list[psycopg.Error] = []
    try:
        async with conn.pipeline():
            for req in batch:
                cur = conn.cursor(row_factory=req.stmt.row_factory)
                try:
                    await cur.execute(req.stmt.sql, req.params, prepare=False)
                except psycopg.Error as exc:
                    if lost(conn):
                        raise
                    if _client_side(exc):  # its parameters could not be sent: its own error
                        req.settle(error=exc)
                        continue
                    raised.append(exc)  # an earlier read's (this one was queued)
                except Exception as exc:  # a value psycopg could not adapt: nothing was sent
                    req.settle(error=exc)
                    continue
                sent[req] = cur
    except psycopg.Error as exc:
        if not lost(conn) and exc.sqlstate is None and not _aborted(exc):
            # libpq's own complaint at the end of the pipeline ("cannot exit
            # pipeline mode while busy"): the connection is in no known state.
            # Close it: the reads without a result run again, as after a loss.
            await conn.close()
        if lost(conn):
            return sent, raised, exc
        raised.append(exc)
    return sent, raised, None


def _led(future: asyncio.Future[Any]) -> bool:
    return (
        future.done()
        and not future.cancelled()
        and future.exception() is None
        and future.result() is _LEAD
    )


def _client_side(exc: psycopg.Error) -> bool:
    """Raised before the statement was queued (its parameters would not adapt)."""
    return (
        exc.sqlstate is None and not isinstance(exc, psycopg.OperationalError) and not _aborted(exc)
    )


def _aborted(exc: psycopg.Error) -> bool:
    return isinstance(exc, psycopg.errors.PipelineAborted)
