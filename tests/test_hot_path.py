"""The pooled call: one round trip, no needless prepare, observable, with statistics.

Round trips are counted on the wire: libpq's own protocol trace of the pooled
connection records every message, and each round trip ends in ReadyForQuery.
"""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from psycopg import pq

import codezest_db as db
from codezest_db import aio, pool, queries
from codezest_db._query.domains import Queries
from tests.conftest import unique_email

CALLS = 20


@contextmanager
def wire(conn: Any) -> Iterator[list[tuple[str, str]]]:
    """The (direction, message) pairs *conn* exchanges inside the block."""
    fd, name = tempfile.mkstemp(prefix="codezest-trace-")
    messages: list[tuple[str, str]] = []
    conn.pgconn.trace(fd)
    conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
    try:
        yield messages
    finally:
        conn.pgconn.untrace()
        for line in Path(name).read_text().splitlines():
            fields = line.split("\t")
            if len(fields) > 2 and fields[0] in ("F", "B"):
                messages.append((fields[0], fields[2]))
        os.close(fd)
        os.unlink(name)


def round_trips(messages: list[tuple[str, str]]) -> int:
    return messages.count(("B", "ReadyForQuery"))


def sent(messages: list[tuple[str, str]], kind: str) -> int:
    return messages.count(("F", kind))


def test_a_pooled_call_is_one_round_trip(configured: str) -> None:
    """No health check, no BEGIN/COMMIT: N calls, N round trips (+1 when psycopg prepares)."""
    db.configure(configured, min_size=1, max_size=1)
    try:
        user = queries.auth.create_user(
            email=unique_email("rt"), password_hash="h", name="R", role="STUDENT"
        )
        with db.connection() as conn:  # the pool's only connection
            pass
        with wire(conn) as messages:
            for _ in range(CALLS):
                assert queries.auth.get_user_by_email(email=user.email) == user
        assert round_trips(messages) == CALLS + 1  # psycopg's one-off Parse of the 6th call
        assert sent(messages, "Query") == 0  # no simple-protocol BEGIN, COMMIT or empty check
        assert sent(messages, "Execute") == CALLS
    finally:
        db.close()


def test_a_pooled_write_is_one_round_trip_and_commits(configured: str) -> None:
    db.configure(configured, min_size=1, max_size=1, prepare_threshold=None)
    try:
        with db.connection() as conn:
            pass
        emails = [unique_email("rtw") for _ in range(5)]
        with wire(conn) as messages:
            for email in emails:
                queries.auth.create_user(email=email, password_hash="h", name="W", role="STUDENT")
        assert round_trips(messages) == len(emails)
        assert sent(messages, "Parse") == len(emails)  # unnamed statements: never prepared
        db.close()  # another connection sees every row: each call committed by itself
        for email in emails:
            assert queries.auth.get_user_by_email(email=email) is not None
    finally:
        db.close()


def test_an_async_pooled_call_is_one_round_trip(configured: str) -> None:
    async def main() -> None:
        aio.configure(configured, min_size=1, max_size=1)
        try:
            user = await aio.queries.auth.create_user(
                email=unique_email("art"), password_hash="h", name="R", role="STUDENT"
            )
            async with aio.connection() as conn:
                pass
            with wire(conn) as messages:
                for _ in range(CALLS):
                    assert await aio.queries.auth.get_user_by_email(email=user.email) == user
            assert round_trips(messages) == CALLS + 1
            assert sent(messages, "Query") == 0
        finally:
            await aio.close()

    asyncio.run(main())


def test_a_connection_block_keeps_its_transaction(configured: str) -> None:
    email = unique_email("tx")
    with pytest.raises(RuntimeError), db.connection() as conn:  # noqa: PT012
        queries.auth.create_user(conn, email=email, password_hash="h", name="T", role="STUDENT")
        assert conn.info.transaction_status == pq.TransactionStatus.INTRANS
        raise RuntimeError("undo")
    assert queries.auth.get_user_by_email(email=email) is None
    with db.connection() as conn:
        assert not conn.autocommit
    with db.connection() as conn:
        conn.execute("select 1")
    # Back in the pool, the connection is in autocommit again for the next call.
    db.configure(configured, min_size=1, max_size=1)
    try:
        with db.connection() as conn:
            pass
        assert conn.autocommit
    finally:
        db.close()


def test_a_plan_custom_query_is_never_prepared(configured: str, tmp_path: Path) -> None:
    (tmp_path / "auth.sql").write_text(
        "-- name: by_email(email)$\n-- plan: custom\n-- Custom-planned.\n"
        "select count(*) from auth.users where lower(email) = lower(:email);\n\n"
        "-- name: by_email_prepared(email)$\n"
        "select count(*) from auth.users where lower(email) = lower(:email);\n"
    )
    root = Queries(pool.run, asyncio=False, root=tmp_path)
    assert root.auth.by_email.__doc__ == "Custom-planned."
    db.configure(configured, min_size=1, max_size=1)
    try:
        with db.connection() as conn:
            pass
        with wire(conn) as custom:
            for _ in range(CALLS):
                root.auth.by_email(email="nobody@example.com")
        with wire(conn) as prepared:
            for _ in range(CALLS):
                root.auth.by_email_prepared(email="nobody@example.com")
        assert sent(custom, "Parse") == CALLS  # planned anew on every call
        assert round_trips(custom) == CALLS
        assert sent(prepared, "Parse") == 1  # psycopg prepared it once, after five calls
    finally:
        db.close()


def test_every_call_logs_its_name_and_time_never_its_values(
    configured: str, caplog: pytest.LogCaptureFixture
) -> None:
    secret = unique_email("do-not-log")
    with caplog.at_level(logging.DEBUG, logger="codezest_db.queries"):
        queries.auth.get_user_by_email(email=secret)
    records = [r for r in caplog.records if r.name == "codezest_db.queries"]
    assert len(records) == 1
    assert records[0].query == "auth.get_user_by_email"  # type: ignore[attr-defined]
    assert records[0].duration_ms >= 0  # type: ignore[attr-defined]
    assert secret not in caplog.text


def test_every_call_is_a_span_named_after_the_query(configured: str) -> None:
    from opentelemetry import trace  # opentelemetry-sdk is in the [dev] extra
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from codezest_db._query import observe as call

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    secret = unique_email("do-not-trace")
    assert call._active_tracer() is None  # no SDK configured: no span, no cost
    saved = call._tracer
    call._tracer = provider.get_tracer("codezest_db")
    try:
        queries.auth.get_user_by_email(email=secret)
        asyncio.run(_async_call(secret))
    finally:
        call._tracer = saved
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["auth.get_user_by_email"] * 2
    for span in spans:
        assert span.kind is trace.SpanKind.CLIENT
        assert span.attributes is not None
        assert span.attributes["db.system"] == "postgresql"
        assert "lower(:email)" not in str(span.attributes["db.statement"])
        assert secret not in str(dict(span.attributes))


async def _async_call(email: str) -> None:
    try:
        await aio.queries.auth.get_user_by_email(email=email)
    finally:
        await aio.close()


def test_pool_statistics_are_public(configured: str) -> None:
    queries.learning.list_languages()
    stats = db.pool_stats()
    assert stats["primary"]["requests_num"] >= 1
    assert "replica" not in stats

    async def main() -> dict[str, dict[str, int]]:
        try:
            await aio.queries.learning.list_languages()
            return aio.pool_stats()
        finally:
            await aio.close()

    assert asyncio.run(main())["primary"]["requests_num"] >= 1
