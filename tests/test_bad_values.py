"""One bad value fails one call, with an error of the tree, before anything is sent.

Text UTF-8 cannot encode (a lone surrogate), JSON values JSON cannot carry
(NaN, bytes, a key that is not text), nesting or size beyond the documented
limits: each is refused as InvalidValue by the parameter check, sync and
asyncio, and a datetime, UUID or Decimal inside a JSON value is converted by
pydantic's ``mode="json"`` rule, the same for a dict and a model. In an
asyncio batch the one bad read fails alone.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from psycopg.pq import TransactionStatus
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from codezest_db import aio, errors, queries
from codezest_db._query import params
from tests.conftest import run_async, unique_email
from tests.test_multiplex import behind_a_leader, mux, one_connection, value

Conn = psycopg.Connection[Any]
SURROGATE = "bad\ud800@example.com"


def deep(levels: int) -> dict[str, Any]:
    top: dict[str, Any] = {}
    node = top
    for _ in range(levels):
        node["a"] = {}
        node = node["a"]
    return top


BAD_JSON: dict[str, Any] = {
    "nan": {"score": float("nan")},
    "infinity": {"score": float("inf")},
    "surrogate": {"ok": ["fine", {"note": "x\udfff"}]},
    "surrogate-key": {"k\ud800": 1},
    "int-key": {1: "one"},
    "bytes": {"raw": b"\x01\x02"},
    "nul": {"text": "a\x00b"},
    "set": {"tags": {"a", "b"}},
    "object": {"what": object()},
    "huge-int": {"n": 10**2000},
    "deep": deep(100_000),
    "large": {"text": "x" * (params.MAX_JSON + 1)},
    "many": {"items": [0] * (params.MAX_JSON + 1)},
}


def nothing_sent(conn: Conn) -> None:
    """A statement sent and refused by the server would have aborted the transaction."""
    assert conn.info.transaction_status != TransactionStatus.INERROR
    assert conn.execute("select 1").fetchone() == (1,)


def notes_of(conn: Conn, user_id: uuid.UUID) -> int:
    row = conn.execute(
        "select count(*) from notifications.notifications where user_id = %s", (user_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_lone_surrogate_is_refused_naming_query_and_parameter(conn: Conn) -> None:
    with pytest.raises(errors.InvalidValue) as caught:
        queries.auth.get_user_by_email(conn, email=SURROGATE)
    message = str(caught.value)
    assert "auth.get_user_by_email" in message and "email" in message
    assert "surrogate" in message and "example.com" not in message  # never the value
    assert isinstance(caught.value, errors.ConstraintViolation)
    with pytest.raises(errors.InvalidValue):
        queries.auth.create_user(
            conn, email=unique_email(), password_hash="h", name="\ud800", role="STUDENT"
        )
    nothing_sent(conn)
    # Non-ASCII text that encodes is untouched.
    assert queries.auth.get_user_by_email(conn, email="élève-☃@example.com") is None


def test_a_string_larger_than_max_text_is_refused(conn: Conn) -> None:
    with pytest.raises(errors.InvalidValue, match="at most"):
        queries.auth.get_user_by_email(conn, email="x" * (20 * 1024 * 1024))
    nothing_sent(conn)


@pytest.mark.parametrize("kind", sorted(BAD_JSON))
def test_a_json_value_json_cannot_carry_is_refused_and_nothing_written(
    conn: Conn, kind: str
) -> None:
    user_id = uuid.uuid4()
    with pytest.raises(errors.InvalidValue) as caught:
        queries.notifications.create_notification_with_data(
            conn, user_id=user_id, type="t", title="t", body="b", data=BAD_JSON[kind]
        )
    assert "create_notification_with_data" in str(caught.value) and "data" in str(caught.value)
    assert len(str(caught.value)) < 4000
    nothing_sent(conn)
    assert notes_of(conn, user_id) == 0


def test_the_same_bad_values_inside_jsonb_and_models_are_refused(conn: Conn) -> None:
    class Data(BaseModel):
        payload: Any

    # (A model's NaN and bytes are pydantic's to write, by the model's config: null, text.)
    cases: list[Any] = [Jsonb(BAD_JSON[k]) for k in ("nan", "surrogate", "deep", "bytes")]
    cases += [Data(payload=BAD_JSON[k]) for k in ("surrogate", "deep", "nul")]
    for given in cases:
        with pytest.raises(errors.InvalidValue):
            queries.activity.record_activity(
                conn, user_id=uuid.uuid4(), type="t", entity_type=None, entity_id=None,
                metadata=given,
            )  # fmt: skip
    nothing_sent(conn)


def test_datetimes_uuids_and_decimals_in_json_follow_pydantics_rule(conn: Conn) -> None:
    class Data(BaseModel):
        at: datetime
        day: date
        ref: uuid.UUID
        amount: Decimal
        pair: tuple[int, int]

    data = Data(
        at=datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
        day=date(2024, 5, 6),
        ref=uuid.UUID(int=7),
        amount=Decimal("19.90"),
        pair=(1, 2),
    )
    expected = data.model_dump(mode="json")
    assert expected["at"] == "2024-05-06T07:08:09Z"
    stored = []
    for given in (data, dict(data), Jsonb(dict(data)), {"nested": data}):
        note = queries.notifications.create_notification_with_data(
            conn, user_id=uuid.uuid4(), type="t", title="t", body="b", data=given
        )
        stored.append(note.data.get("nested", note.data))
    assert stored == [expected] * 4


def test_json_exactly_at_the_depth_limit_goes_through(conn: Conn) -> None:
    note = queries.notifications.create_notification_with_data(
        conn, user_id=uuid.uuid4(), type="t", title="t", body="b",
        data=deep(params.MAX_JSON_DEPTH - 1),
    )  # fmt: skip
    depth, node = 1, note.data
    while node:
        depth, node = depth + 1, node["a"]
    assert depth == params.MAX_JSON_DEPTH


def test_the_walk_visits_each_item_once_and_stops_at_the_limits() -> None:
    """Linear, not timed: a value shared 2**40 times over is refused after MAX_JSON items."""
    shared: Any = [1]
    for _ in range(40):
        shared = [shared, shared]
    with pytest.raises(errors.InvalidValue, match="more than"):
        params.json_value("q", "p", shared)
    cycle: dict[str, Any] = {}
    cycle["self"] = cycle
    with pytest.raises(errors.InvalidValue, match="deeper"):
        params.json_value("q", "p", cycle)
    nested: list[Any] = []
    node = nested
    for _ in range(100_000):
        node.append([])
        node = node[0]
    with pytest.raises(errors.InvalidValue, match="deeper"):
        params._check_list("q", "p", nested)


def test_what_psycopg_raises_adapting_a_value_becomes_invalid_value(conn: Conn) -> None:
    """A Jsonb with a dumps of the caller's own is not walked: its TypeError is mapped."""
    bad = Jsonb({"at": datetime.now(UTC)}, dumps=json.dumps)
    with pytest.raises(errors.InvalidValue) as caught:
        queries.activity.record_activity(
            conn, user_id=uuid.uuid4(), type="t", entity_type=None, entity_id=None, metadata=bad
        )
    assert isinstance(caught.value.__cause__, TypeError)
    nothing_sent(conn)


def test_a_connection_of_the_wrong_kind_is_still_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        queries.auth.get_user_by_email("not a connection", email="a@b.c")  # type: ignore[arg-type]
    assert not isinstance(caught.value, errors.DatabaseError)


def test_asyncio_calls_refuse_the_same_values(configured: str) -> None:
    async def main() -> None:
        aio.configure(configured, replica_url="", min_size=1, max_size=2)
        with pytest.raises(errors.InvalidValue):
            await aio.queries.auth.get_user_by_email(email=SURROGATE)
        user_id = uuid.uuid4()
        for kind in ("nan", "deep", "surrogate", "large"):
            with pytest.raises(errors.InvalidValue):
                await aio.queries.notifications.create_notification_with_data(
                    user_id=user_id, type="t", title="t", body="b", data=BAD_JSON[kind]
                )
        bad = Jsonb({"at": datetime.now(UTC)}, dumps=json.dumps)
        with pytest.raises(errors.InvalidValue) as caught:
            await aio.queries.notifications.create_notification_with_data(
                user_id=user_id, type="t", title="t", body="b", data=bad
            )
        assert isinstance(caught.value.__cause__, TypeError)
        assert await aio.queries.notifications.count_unread_notifications(user_id=user_id) == 0

    run_async(main())


def test_one_bad_value_in_a_batch_of_50_fails_that_read_alone(configured: str) -> None:
    email = unique_email("bad-batch")

    async def main() -> None:
        aio.configure(configured, replica_url="", min_size=2, max_size=2)
        await aio.queries.auth.create_user(email=email, password_hash="h", name="n", role="STUDENT")
        before = aio.pool_stats()["primary"]["batched_reads"]
        emails = [email] * 50
        emails[23] = SURROGATE
        outcomes = await asyncio.gather(
            *(aio.queries.auth.get_user_by_email(email=e) for e in emails),
            return_exceptions=True,
        )
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        assert len(failed) == 1 and isinstance(outcomes[23], errors.InvalidValue)
        assert all(o.email == email for i, o in enumerate(outcomes) if i != 23)  # type: ignore[union-attr]
        assert aio.pool_stats()["primary"]["batched_reads"] > before  # batching happened

    run_async(main())


@pytest.mark.parametrize("position", [0, 2, 4])
def test_a_value_psycopg_cannot_encode_fails_its_read_alone_in_a_pipeline(
    configured: str, position: int
) -> None:
    """Below the parameter check: the batch settles the raw error on its own read only."""

    async def main() -> None:
        one_connection(configured)
        reads = [value("select %(i)s::int * 10", i=i) for i in range(5)]
        reads[position].close()
        reads[position] = value("select %(s)s::text", s=SURROGATE)
        before = (await mux()).batches
        outcomes = await behind_a_leader(*reads)
        for i, outcome in enumerate(outcomes):
            if i == position:
                assert isinstance(outcome, UnicodeEncodeError)
                assert isinstance(params.unsent("q", outcome), errors.InvalidValue)
            else:
                assert outcome == i * 10
        assert (await mux()).batches > before

    run_async(main())
