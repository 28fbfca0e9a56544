"""Rows out: each row a frozen model, exactly what the model's own validator makes.

The reference is ``Model.model_validate(dict(zip(names, row)))``. `model_row`
(a row factory, for one row) and `model_page` (every row at once, for a list)
skip that dict where the model cannot tell (a named tuple read as
attributes); these tests hold every way to the reference: same values of the
same types, same errors on bad rows.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row, tuple_row
from pydantic import BaseModel, Field, ValidationError, model_validator

from codezest_db import queries
from codezest_db._query.rows import _row_type, model_page, model_row
from codezest_db.models import User, UserActivity

Conn = psycopg.Connection[Any]
FEED = 300
COLUMNS = "id, user_id, type, entity_type, entity_id, metadata, created_at"


def seed_feed(conn: Conn, rows: int = FEED) -> uuid.UUID:
    """A user with *rows* varied feed entries: nulls, nested JSON, distinct times."""
    user_id = uuid.uuid4()
    conn.execute(
        """
        insert into activity.user_activities
               (user_id, type, entity_type, entity_id, metadata, created_at)
        select %(user)s, 'lesson.viewed',
               case when i %% 3 = 0 then null else 'lesson' end,
               case when i %% 3 = 0 then null else gen_random_uuid() end,
               case when i %% 5 = 0 then '{}'::jsonb
                    else jsonb_build_object('i', i, 'nested', '{"xs": [1, 2.5]}'::jsonb) end,
               %(now)s - i * interval '1 second'
          from generate_series(1, %(rows)s) as i
        """,
        {"user": user_id, "rows": rows, "now": datetime.now(UTC)},
    )
    return user_id


def reference(model: type[BaseModel], conn: Conn, sql: str, params: Any = None) -> list[Any]:
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute(sql, params)
    names = [column.name for column in cur.description or ()]
    return [model.model_validate(dict(zip(names, row, strict=True))) for row in cur.fetchall()]


def assert_same(got: list[Any], expected: list[Any], model: type[BaseModel]) -> None:
    assert len(got) == len(expected)
    for mine, theirs in zip(got, expected, strict=True):
        assert type(mine) is model
        assert mine == theirs
        for name in model.model_fields:
            ours, ref = getattr(mine, name), getattr(theirs, name)
            assert type(ours) is type(ref), name
            assert ours == ref, name
        assert mine.model_fields_set == theirs.model_fields_set
        with pytest.raises(ValidationError, match="frozen"):
            mine.id = uuid.uuid4()  # type: ignore[attr-defined]


def fetch_rows(conn: Conn, rows: Any, sql: str, params: Any = None) -> list[Any]:
    cur = conn.cursor(row_factory=rows)
    cur.execute(sql, params)
    return cur.fetchall()


def fetch_page(conn: Conn, page: Any, sql: str, params: Any = None) -> list[Any]:
    cur = conn.cursor(row_factory=tuple_row)
    cur.execute(sql, params)
    return page(cur, cur.fetchall())  # type: ignore[no-any-return]


def by_row(model: type[BaseModel]) -> Any:
    """Read every row with `model_row`, or (below) with `model_page`: one signature."""
    rows = model_row(model)
    return lambda conn, sql, params=None: fetch_rows(conn, rows, sql, params)


def by_page(model: type[BaseModel]) -> Any:
    page = model_page(model)
    return lambda conn, sql, params=None: fetch_page(conn, page, sql, params)


WAYS = pytest.mark.parametrize("way", [by_row, by_page], ids=["model_row", "model_page"])


def test_the_feed_skips_the_dict_per_row() -> None:
    """UserActivity is plain: its rows go the fast way (else the tests below prove little)."""
    assert _row_type(UserActivity, COLUMNS.split(", ")) is not None
    assert _row_type(User, list(User.model_fields)) is not None


def test_a_page_of_real_rows_is_the_reference(conn: Conn) -> None:
    user_id = seed_feed(conn)
    page = queries.activity.list_user_activity(conn, user_id=user_id, limit=FEED)
    sql = queries.activity.list_user_activity.sql  # type: ignore[attr-defined]
    params = {"user_id": user_id, "limit": FEED, "before": None, "before_id": None}
    expected = reference(UserActivity, conn, sql, params)
    assert len(expected) == FEED
    assert_same(page, expected, UserActivity)
    assert {type(row.metadata["nested"]["xs"][1]) for row in page if row.metadata} == {float}
    for way in (by_row(UserActivity), by_page(UserActivity)):
        for _ in range(2):  # the first result and a later one alike
            assert_same(way(conn, sql, params), expected, UserActivity)


def test_one_row_and_a_dict_row_connection(conn: Conn) -> None:
    user_id = seed_feed(conn, 3)
    sql = f"select {COLUMNS} from activity.user_activities where user_id = %s order by id"
    expected = reference(UserActivity, conn, sql, (user_id,))
    conn.row_factory = dict_row
    rows = model_row(UserActivity)
    cur = conn.cursor(row_factory=rows)
    cur.execute(sql, (user_id,))
    assert_same([cur.fetchone(), *cur.fetchall()], expected, UserActivity)


def numbered(columns: str) -> str:
    """*columns* of the feed of ``%(u)s`` in id order, ``rn`` numbering the rows."""
    return (
        f"select {columns} from (select *, row_number() over (order by id) as rn"
        " from activity.user_activities where user_id = %(u)s) as feed order by rn"
    )


BAD_ROWS = {  # the third row is bad, or every row is
    "not a uuid": COLUMNS.replace(
        "entity_id", "case when rn = 3 then 'nope' else entity_id::text end as entity_id"
    ),
    "not an object": COLUMNS.replace(
        "metadata", "case when rn = 3 then to_jsonb(1) else metadata end as metadata"
    ),
    "naive time": COLUMNS.replace("created_at", "created_at::timestamp as created_at"),
    "a column too many": f"{COLUMNS}, 1 as extra",
    "a column missing": COLUMNS.replace(", metadata", ""),
}


@WAYS
@pytest.mark.parametrize("bad", sorted(BAD_ROWS))
def test_a_bad_row_raises_the_reference_error(conn: Conn, bad: str, way: Any) -> None:
    sql, params = numbered(BAD_ROWS[bad]), {"u": seed_feed(conn, 4)}
    with pytest.raises(ValidationError) as expected:
        reference(UserActivity, conn, sql, params)
    with pytest.raises(ValidationError) as got:
        way(UserActivity)(conn, sql, params)
    assert got.value.title == expected.value.title == "UserActivity"
    assert got.value.errors() == expected.value.errors()
    assert str(got.value) == str(expected.value)


@WAYS
def test_the_bad_row_is_named_after_good_ones(conn: Conn, way: Any) -> None:
    params = {"u": seed_feed(conn, 4)}
    with pytest.raises(ValidationError) as got:
        way(UserActivity)(conn, numbered(BAD_ROWS["not a uuid"]), params)
    [error] = got.value.errors()
    assert (error["loc"], error["input"]) == (("entity_id",), "nope")


# -- models that could tell a named tuple from a dict: validated from the dict --------------


class Before(BaseModel, frozen=True):
    id: uuid.UUID
    seen: str = ""

    @model_validator(mode="before")
    @classmethod
    def keep_input(cls, data: Any) -> Any:
        return {**data, "seen": type(data).__name__}


class Inner(BaseModel, frozen=True):
    n: int


class Nested(BaseModel, frozen=True):
    id: uuid.UUID
    inner: Inner


class Aliased(BaseModel, frozen=True):
    id: uuid.UUID
    kind: str = Field(alias="type")


ONE = "'00000000-0000-0000-0000-000000000001'::uuid as id"


@WAYS
def test_what_the_named_tuple_could_change_is_left_to_the_dict(conn: Conn, way: Any) -> None:
    assert _row_type(Before, ["id"]) is None  # a model validator sees the raw row
    assert _row_type(Nested, ["id", "inner"]) is None  # from_attributes would reach Inner
    assert _row_type(Aliased, ["id", "type"]) is None
    assert _row_type(UserActivity, [*COLUMNS.split(", "), "extra"]) is None
    assert _row_type(UserActivity, ["id", "id"]) is None
    cases: list[tuple[type[BaseModel], str]] = [
        (Before, f"select {ONE}"),
        (Nested, f"select {ONE}, '{{\"n\": 1}}'::jsonb as inner"),
        (Aliased, f"select {ONE}, 'x' as type"),
    ]
    for model, sql in cases:
        [expected] = reference(model, conn, sql)
        [row] = way(model)(conn, sql)
        assert type(row) is model
        assert row == expected
    [before] = way(Before)(conn, cases[0][1])
    assert before.seen == "dict"
