"""json and jsonb values decoded by pydantic-core's parser (`codezest_db._query.jsonb`).

The values must be the ones psycopg gives with its default ``json.loads``,
whatever the document: drawn by Hypothesis, stored in real json and jsonb
columns, read back on one connection with psycopg's default and on one with
ours, in text and binary format. The pools' connections decode with ours; a
connection passed as ``conn`` is never changed, only the cursors of list
queries whose rows may hold JSON.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import codezest_db
from codezest_db import aio, queries
from codezest_db._query import jsonb

_text = st.text(alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]))
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _text  # jsonb takes no \u0000, Python's UTF-8 no lone surrogate
)
documents = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=30,
)


def deep(levels: int) -> Any:
    """A document nested *levels* deep: past jiter's limit of 200, json.loads decides."""
    value: Any = {"leaf": 1}
    for i in range(levels):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.fixture
def pair(database_url: str) -> Iterator[tuple[psycopg.Connection[Any], psycopg.Connection[Any]]]:
    """(psycopg's default decoding, ours), each in a transaction rolled back after."""
    with psycopg.connect(database_url) as default, psycopg.connect(database_url) as ours:
        jsonb.install(ours)
        yield default, ours
        default.rollback()
        ours.rollback()


def read_back(conn: psycopg.Connection[Any], text: str, binary: bool) -> tuple[Any, Any]:
    row = conn.execute("select %s::json, %s::jsonb", (text, text), binary=binary).fetchone()
    assert row is not None
    return row[0], row[1]


def same(a: Any, b: Any, key_order: bool = True) -> bool:
    """Equal, and of the same types all the way down (1 and 1.0 and True differ);
    keys in the same order unless not *key_order* (jsonb sorts an object's keys)."""
    todo = [(a, b)]
    while todo:
        x, y = todo.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, dict):
            if (list(x) != list(y)) if key_order else (x.keys() != y.keys()):
                return False
            todo.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            todo.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(document=documents, binary=st.booleans())
def test_every_document_reads_as_json_loads_reads_it(
    pair: tuple[psycopg.Connection[Any], psycopg.Connection[Any]], document: Any, binary: bool
) -> None:
    default, ours = pair
    text = json.dumps(document)
    expected = read_back(default, text, binary)
    got = read_back(ours, text, binary)
    assert same(got[0], expected[0]) and same(got[1], expected[1]), (text, expected, got)


@pytest.mark.parametrize(
    "text",
    [
        "123456789012345678901234567890",  # past 64 bits
        "1e400",  # past a float: inf from json.loads
        "-0",
        "12345678901234567890.5",
        '"\\ud83d\\ude00"',  # an escaped surrogate pair
        '{"a": 1, "a": 2}',  # json keeps both keys' text, jsonb the last
        '{"k": [' * 150 + "1" + "]}" * 150,  # 300 levels
        "[" * 500 + "]" * 500,
    ],
)
def test_edge_documents_read_as_json_loads_reads_them(
    pair: tuple[psycopg.Connection[Any], psycopg.Connection[Any]], text: str
) -> None:
    default, ours = pair
    for binary in (False, True):
        assert all(
            same(g, e)
            for g, e in zip(
                read_back(ours, text, binary), read_back(default, text, binary), strict=True
            )
        )


def feed(conn: psycopg.Connection[Any], metadata: Any) -> uuid.UUID:
    user = queries.auth.create_user(
        conn,
        email=f"j-{uuid.uuid4().hex[:8]}@example.com",
        password_hash="h",
        name="J",
        role="STUDENT",
    )
    for i in range(3):  # (a query's JSON parameter may nest 64 levels: written raw)
        conn.execute(
            "insert into activity.user_activities (user_id, type, metadata)"
            " values (%s, 'lesson_completed', %s)",
            (user.id, psycopg.types.json.Jsonb({"i": i, "doc": metadata})),
        )
    return user.id


def test_a_list_query_on_a_callers_connection_decodes_fast_and_leaves_the_connection_alone(
    database_url: str,
) -> None:
    document = {"deep": deep(300), "n": 2**70, "x": 1.5}
    with psycopg.connect(database_url) as conn:
        user_id = feed(conn, document)
        page = queries.activity.list_user_activity(conn, user_id=user_id, limit=10)
        assert sorted(entry.metadata["i"] for entry in page) == [0, 1, 2]
        assert all(same(entry.metadata["doc"], document, key_order=False) for entry in page)
        assert not jsonb.installed(conn)  # the caller's own decoding is unchanged
        row = conn.execute("select '{\"a\": 1}'::jsonb").fetchone()
        assert row == ({"a": 1},)
        conn.rollback()


def test_the_pools_connections_decode_json_with_ours(database_url: str) -> None:
    document = {"deep": deep(300), "big": 2**70}
    with psycopg.connect(database_url) as setup:
        user_id = feed(setup, document)
        setup.commit()
    codezest_db.configure(database_url, min_size=0, max_size=1)
    try:
        page = queries.activity.list_user_activity(user_id=user_id, limit=10)
        assert [e.metadata["i"] for e in page] and all(
            same(e.metadata["doc"], document, key_order=False) for e in page
        )
        with codezest_db.connection() as pooled:
            assert jsonb.installed(pooled)
    finally:
        codezest_db.close()


def test_the_asyncio_pools_connections_decode_json_with_ours(database_url: str) -> None:
    document = {"deep": deep(250), "big": -(2**70)}
    with psycopg.connect(database_url) as setup:
        user_id = feed(setup, document)
        setup.commit()
    asyncio.run(read_async(database_url, user_id, document))


async def read_async(database_url: str, user_id: uuid.UUID, document: Any) -> None:
    aio.configure(database_url, min_size=0, max_size=1)
    try:
        page = await aio.queries.activity.list_user_activity(user_id=user_id, limit=10)
        assert [e.metadata["i"] for e in page] and all(
            same(e.metadata["doc"], document, key_order=False) for e in page
        )
        async with aio.connection() as pooled:
            assert jsonb.installed(pooled)
    finally:
        await aio.close()


def test_only_list_queries_whose_models_can_hold_json_install_it_on_a_cursor() -> None:
    """The ~7 us of installing on a cursor is paid where rows may hold JSON and be many."""
    from codezest_db._query.parse import load_specs
    from codezest_db._query.statement import statement

    chosen = {
        spec.qualname: statement(spec).json_rows
        for specs in load_specs().values()
        for spec in specs
    }
    assert chosen["activity.list_user_activity"] is True  # metadata: dict[str, Any]
    assert chosen["activity.list_events_by_name"] is True  # properties
    assert chosen["auth.get_user_by_email"] is False  # one row
    assert chosen["activity.record_activity"] is False  # one row, though it holds JSON
    assert chosen["auth.list_user_sessions"] is False  # many rows, no JSON field
    assert 0 < sum(chosen.values()) < len(chosen) / 2
