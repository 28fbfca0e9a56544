"""Bulk ingest of analytics events through binary COPY.

`record_events` and `arecord_events` are registered in the query loader as
``queries.activity.record_events`` and its asyncio twin, so they are called
like any SQL query (``conn`` optional, keyword-only ``events``)::

    queries.activity.record_events(conn, events=(AnalyticsEventIn(name="page_view")
                                                 for _ in range(1_000_000)))

The events are streamed: each one is validated, encoded into the COPY buffer
and dropped, so a generator of millions runs in constant memory. An event
without ``occurred_at`` gets one timestamp taken (client side, UTC) when the
call starts, shared by every such event of the call.

This module imports neither the loader nor the query modules: the loader
imports it.
"""

from __future__ import annotations

import itertools
import secrets
import time
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg.abc import Buffer
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types.json import Jsonb
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import to_json

from codezest_db.errors import ConstraintViolation, InvalidParameters
from codezest_db.models import AnalyticsEventIn

__all__ = ["arecord_events", "record_events", "time_ordered_ids"]

_COPY = (
    "copy activity.analytics_events (id, name, user_id, properties, occurred_at)"
    " from stdin (format binary)"
)
_TYPES = ("uuid", "text", "uuid", "jsonb", "timestamptz")
_JSONB_OID = 3802
_validate = TypeAdapter(AnalyticsEventIn).validator.validate_python

Row = tuple[uuid.UUID, str, Any, dict[str, Any], datetime]


def time_ordered_ids() -> Iterator[uuid.UUID]:
    """Time-ordered ids (UUIDv7 layout, RFC 9562, counter in rand_b): each new
    key lands at the right edge of the primary key index instead of at a random
    page, which is what makes a random-uuid bulk insert slow."""
    ms = time.time_ns() // 1_000_000
    rand_a = secrets.randbits(12)
    prefix = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62)
    counter = secrets.randbits(40)  # leaves 2**22 headroom below 2**62
    for offset in itertools.count():
        yield uuid.UUID(int=prefix | (counter + offset))


class _PropertiesDumper(Dumper):
    """Binary jsonb through pydantic's serialiser: faster than json.dumps, and it
    also writes the UUIDs, datetimes and decimals an event's properties may hold."""

    format = Format.BINARY
    oid = _JSONB_OID

    def dump(self, obj: Any) -> Buffer:
        return b"\x01" + to_json(obj)


def _check(events: object) -> None:
    # The loader sends a dict or a model parameter as Jsonb: one event, not many.
    if isinstance(events, str | bytes | Mapping | BaseModel | Jsonb) or not isinstance(
        events, Iterable | AsyncIterable
    ):
        raise InvalidParameters(
            "activity.record_events: events must be an iterable of AnalyticsEventIn "
            f"(or dicts shaped like it), got {type(events).__name__}"
        )


def _row(item: Any, index: int, now: datetime, id: uuid.UUID) -> Row:
    # A model instance is valid already (frozen, validated when it was built).
    event: AnalyticsEventIn = item if type(item) is AnalyticsEventIn else _event(item, index)
    return (id, event.name, event.user_id, event.properties, event.occurred_at or now)


def _event(item: Any, index: int) -> AnalyticsEventIn:
    try:
        event: AnalyticsEventIn = _validate(item)
    except ValidationError as exc:
        raise _bad(index, exc) from exc
    return event


def _bad(index: int, exc: Exception) -> ConstraintViolation:
    return ConstraintViolation(f"activity.record_events: event {index} (0-based) is invalid: {exc}")


def _prepare(cur: psycopg.Cursor[Any] | psycopg.AsyncCursor[Any]) -> None:
    cur.adapters.register_dumper(None, _PropertiesDumper)


def record_events(conn: psycopg.Connection[Any], *, events: Iterable[Any]) -> int:
    """Insert analytics events with one binary COPY; return how many were stored.

    *events* is any iterable (a generator of millions streams in constant
    memory) of `AnalyticsEventIn` or dicts shaped like it. Raises
    ConstraintViolation naming the 0-based index of an invalid event; the COPY
    is then aborted and nothing of it is stored (on *conn* the transaction is
    left failed: roll it back). An event without ``occurred_at`` gets the time
    the call started.
    """
    _check(events)
    now = datetime.now(UTC)
    count = 0
    with conn.cursor() as cur:
        _prepare(cur)
        with cur.copy(_COPY) as copy:
            copy.set_types(_TYPES)
            write_row = copy.write_row
            for item, id in zip(events, time_ordered_ids(), strict=False):  # ids never end
                row = _row(item, count, now, id)
                try:
                    write_row(row)
                except ValueError as exc:  # properties that cannot be written as JSON
                    raise _bad(count, exc) from exc
                count += 1
    return count


async def arecord_events(
    conn: psycopg.AsyncConnection[Any], *, events: Iterable[Any] | AsyncIterable[Any]
) -> int:
    """The asyncio twin of `record_events`; *events* may also be an async iterable."""
    _check(events)
    now = datetime.now(UTC)
    count = 0
    async with conn.cursor() as cur:
        _prepare(cur)
        async with cur.copy(_COPY) as copy:
            copy.set_types(_TYPES)
            write_row = copy.write_row
            items = events if isinstance(events, AsyncIterable) else _aiter(events)
            ids = time_ordered_ids()
            async for item in items:
                row = _row(item, count, now, next(ids))
                try:
                    await write_row(row)
                except ValueError as exc:
                    raise _bad(count, exc) from exc
                count += 1
    return count


async def _aiter(items: Iterable[Any]) -> AsyncIterator[Any]:
    for item in items:
        yield item
