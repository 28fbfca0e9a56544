"""Make a query callable: keyword parameters in, checked; the statement runs; rows come out.

``call_async.py`` is written; ``call.py``, its sync twin, is generated from it
by ``tools/async_to_sync.py``. A call with a connection runs on it, in the
caller's transaction. A call without one goes to the pool's ``run``
(`codezest_db.pool.run` or `codezest_db.aio.run`): one autocommit statement on
a borrowed connection, on the replica when the SQL only reads and a replica
is configured. Every call is observed (`codezest_db._query.observe`).

Values are checked before anything is sent (`codezest_db._query.params`);
what psycopg still raises adapting one that is not its own error (a
UnicodeEncodeError, RecursionError, OverflowError, or a TypeError or ValueError
of a JSON ``dumps``) becomes InvalidValue here, the original as ``__cause__``,
also for a read that failed alone in an asyncio batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import AsyncConnection

from .._poolers import CONN_FIX, Notice, due, known
from ..errors import from_psycopg
from .execute_async import behind_pooler, execute
from .observe import observed, observing
from .params import UNSENT, ParamCheck, unsent
from .parse import QuerySpec
from .statement import AsyncRun, Params, statement

__all__ = ["make_query"]

# A connection passed as ``conn`` is checked for a pooler before the call that
# could be its first to prepare (`codezest_db._poolers`); said once a process.
_notice = Notice("a connection passed as conn", CONN_FIX)


def make_query(
    spec: QuerySpec, run: AsyncRun, python: Callable[..., Any] | None = None
) -> Callable[..., Any]:
    """The function of *spec*; *python* implements a query written in Python."""
    check = ParamCheck(spec.qualname, spec.params, spec.optional)
    stmt = statement(spec, python)

    async def query(conn: AsyncConnection[Any] | None = None, /, **params: Any) -> Any:
        if conn is not None and not isinstance(conn, AsyncConnection):
            raise TypeError(
                f"{spec.qualname}: conn must be a psycopg {AsyncConnection.__name__}, got {conn!r}"
            )
        params = check(params)
        if observing():
            with observed(spec):
                return await send(conn, params)
        try:  # as send() does, without a coroutine more on the common path
            if conn is None:
                return await run(stmt, params)
            if due(conn):
                await _check(conn)
            return await execute(conn, stmt, params)
        except psycopg.Error as exc:
            raise from_psycopg(exc) from exc
        except UNSENT as exc:
            if (error := unsent(spec.qualname, exc, python=python is not None)) is None:
                raise
            raise error from exc

    async def send(conn: AsyncConnection[Any] | None, params: Params) -> Any:
        try:
            if conn is None:
                return await run(stmt, params)
            if due(conn):
                await _check(conn)
            return await execute(conn, stmt, params)
        except psycopg.Error as exc:
            raise from_psycopg(exc) from exc
        except UNSENT as exc:
            if (error := unsent(spec.qualname, exc, python=python is not None)) is None:
                raise
            raise error from exc

    return query


async def _check(conn: AsyncConnection[Any]) -> None:
    if await behind_pooler(conn):
        _notice.found(conn)
    known(conn)
