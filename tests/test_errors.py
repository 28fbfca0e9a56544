"""Every error class, provoked for real; the connection and pool survive each."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

import codezest_db as db
from codezest_db import aio, errors, migrate, queries
from codezest_db._query.parse import load_specs
from tests.conftest import unique_email

Conn = psycopg.Connection[Any]


def test_the_tree() -> None:
    classes = [
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type) and issubclass(obj, errors.DatabaseError)
    ]
    assert set(classes) == {getattr(errors, name) for name in errors.__all__ if name[0].isupper()}
    for cls in classes:
        assert issubclass(cls, errors.DatabaseError)
        assert cls.__module__ == "codezest_db.errors"
        # The module docstring draws every class in its tree.
        assert re.search(rf"\s{cls.__name__}\s", errors.__doc__ or ""), cls
    assert issubclass(errors.InvalidParameters, ValueError)
    assert issubclass(errors.StatementTimeout, errors.QueryCanceled)


def test_the_docs_table_names_every_class() -> None:
    table = (Path(__file__).parent.parent / "docs" / "errors.md").read_text()
    for name in errors.__all__:
        if name[0].isupper() and name != "DatabaseError":
            assert f"`{name}`" in table, name


@pytest.fixture
def autocommit(database_url: str) -> Any:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


def still_usable(conn: Conn) -> None:
    assert conn.execute("select 1").fetchone() == (1,)


def test_already_exists_names_the_constraint(autocommit: Conn) -> None:
    email = unique_email("dup")
    queries.auth.create_user(autocommit, email=email, password_hash="h", name="D", role="STUDENT")
    with pytest.raises(errors.AlreadyExists) as caught:
        queries.auth.create_user(
            autocommit, email=email, password_hash="h", name="D", role="STUDENT"
        )
    assert caught.value.constraint == "users_email_key"
    assert caught.value.sqlstate == "23505"
    assert isinstance(caught.value.__cause__, psycopg.errors.UniqueViolation)
    still_usable(autocommit)


def test_missing_reference(autocommit: Conn) -> None:
    with pytest.raises(errors.MissingReference) as caught:
        queries.auth.upsert_user_profile(
            autocommit, user_id=uuid.uuid4(), bio=None, avatar_url=None
        )
    assert isinstance(caught.value.__cause__, psycopg.errors.ForeignKeyViolation)
    assert caught.value.constraint is not None
    still_usable(autocommit)


def test_constraint_violation(autocommit: Conn) -> None:
    values = {"email": "not-an-email", "password_hash": "h", "name": "N", "role": "STUDENT"}
    with pytest.raises(errors.ConstraintViolation) as caught:
        queries.auth.create_user(autocommit, **values)
    assert isinstance(caught.value.__cause__, psycopg.errors.CheckViolation)
    still_usable(autocommit)


@pytest.mark.parametrize(
    ("query", "fields", "message"),
    [
        ("create_user", {"role": "GOD"}, r"role expects a Role \(STUDENT, INSTRUCTOR, ADMIN\)"),
        ("create_user", {"name": None}, "name cannot be None"),
        ("create_user", {"name": ["x", "y"]}, "name expects text .* got list of 2 items"),
        ("create_user", {"password_hash": {"a": 1}}, "password_hash expects text"),
        ("get_user_by_id", {"id": "not-a-uuid"}, "id expects a uuid"),
        ("list_users", {"limit": 0}, "limit expects a whole number from 1 to 1000"),
        ("list_users", {"limit": 1001}, "limit expects a whole number from 1 to 1000"),
        ("list_users", {"limit": 2.5}, "limit expects an integer .* got float"),
        ("list_users", {"limit": True}, "limit expects an integer .* got bool"),
    ],
)
def test_bad_values_are_refused_before_anything_is_sent(
    database_url: str, query: str, fields: dict[str, Any], message: str
) -> None:
    closed = psycopg.connect(database_url)
    closed.close()  # any send would fail: the check comes first
    values: dict[str, Any] = {
        "create_user": {
            "email": unique_email(),
            "password_hash": "h",
            "name": "N",
            "role": "STUDENT",
        },
        "get_user_by_id": {"id": uuid.uuid4()},
        "list_users": {"limit": 10},
    }[query]
    with pytest.raises(errors.InvalidValue, match=message) as caught:
        getattr(queries.auth, query)(closed, **{**values, **fields})
    assert isinstance(caught.value, errors.ConstraintViolation)  # bad enum, malformed input
    assert isinstance(caught.value, errors.InvalidParameters)  # nothing was sent


def test_an_oversized_value_is_refused_with_its_size(database_url: str) -> None:
    closed = psycopg.connect(database_url)
    closed.close()
    huge = "x" * 10_000_000
    with pytest.raises(errors.InvalidValue, match="got str of 10000000 characters") as caught:
        queries.auth.create_user(closed, email=huge, password_hash="h", name="N", role="STUDENT")
    assert len(str(caught.value)) < 300  # never the whole value
    with pytest.raises(errors.InvalidValue, match="at most 1024 characters"):
        queries.auth.get_user_by_id(closed, id=huge)


def test_money_is_never_rounded(conn: Conn) -> None:
    with pytest.raises(errors.InvalidValue, match="amount_minor expects an integer"):
        queries.payments.record_transaction(
            conn,
            user_id=uuid.uuid4(),
            subscription_id=None,
            amount_minor=1999.5,
            currency="INR",
            status="SUCCEEDED",
            provider_payment_id=f"pi_{uuid.uuid4().hex}",
        )


def test_a_value_too_large_for_its_index_is_a_constraint_violation(autocommit: Conn) -> None:
    user = queries.auth.create_user(
        autocommit, email=unique_email(), password_hash="h", name="N", role="STUDENT"
    )
    expires = datetime.now(UTC) + timedelta(days=1)
    # Random, so it cannot compress below the btree limit of token_hash's index.
    with pytest.raises(errors.ConstraintViolation) as caught:
        queries.auth.create_session(
            autocommit, user_id=user.id, token_hash=os.urandom(6000).hex(), expires_at=expires
        )
    assert type(caught.value) is errors.ConstraintViolation
    assert caught.value.sqlstate == "54000"
    still_usable(autocommit)


def test_a_nul_byte_is_an_invalid_value(autocommit: Conn) -> None:
    # Text passes the parameter check; psycopg refuses it before sending,
    # since PostgreSQL text cannot hold NUL.
    with pytest.raises(errors.InvalidValue) as caught:
        queries.auth.get_user_by_email(autocommit, email="a\x00@example.com")
    assert caught.value.sqlstate is None
    assert type(caught.value.__cause__) is psycopg.DataError
    still_usable(autocommit)


def test_a_value_psycopg_cannot_send_is_an_invalid_value(autocommit: Conn) -> None:
    # The query layer refuses it first; plain psycopg (a connection() block) says the same.
    with pytest.raises(psycopg.ProgrammingError, match="cannot adapt type 'object'") as raw:
        autocommit.execute("select %s", (object(),))
    assert type(errors.from_psycopg(raw.value)) is errors.InvalidValue
    still_usable(autocommit)


@pytest.mark.parametrize(
    ("sql", "params", "sqlstate"),
    [
        ("select lower(%s)", (5,), "42883"),  # no such function for that type
        ("update auth.users set id = %s where false", (5,), "42804"),  # datatype mismatch
        ("select %s::int4::uuid", (5,), "42846"),  # cannot coerce
        ("select %s::int4", (2**40,), "22003"),  # out of range
        ("select %s::date", ("2024-13-45",), "22008"),  # datetime field out of range
        ("select %s::jsonb", ("{",), "22P02"),  # invalid text representation
    ],
)
def test_a_value_of_the_wrong_type_is_a_constraint_violation(
    autocommit: Conn, sql: str, params: tuple[Any, ...], sqlstate: str
) -> None:
    """Rows of the table the query layer may refuse earlier: provoked in plain SQL."""
    with pytest.raises(psycopg.Error) as raw:
        autocommit.execute(sql, params)
    assert raw.value.sqlstate == sqlstate
    error = errors.from_psycopg(raw.value)
    assert type(error) is errors.ConstraintViolation
    assert error.sqlstate == sqlstate
    still_usable(autocommit)


def test_async_refused_values(database_url: str) -> None:
    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            with pytest.raises(errors.InvalidValue):
                await aio.queries.auth.get_user_by_id(conn, id="not-a-uuid")
            with pytest.raises(errors.InvalidValue) as caught:
                await aio.queries.auth.get_user_by_email(conn, email="a\x00@example.com")
            assert type(caught.value.__cause__) is psycopg.DataError
            with pytest.raises(errors.ConstraintViolation) as caught:
                await aio.queries.auth.create_user(
                    conn, email="not-an-email", password_hash="h", name="N", role="STUDENT"
                )
            assert caught.value.sqlstate == "23514"
            assert await aio.queries.auth.get_user_by_email(conn, email="a@example.com") is None

    asyncio.run(main())


def test_other_failures_keep_their_sqlstate(autocommit: Conn) -> None:
    with pytest.raises(psycopg.Error) as raw:
        autocommit.execute("select * from no_such_table")
    error = errors.from_psycopg(raw.value)
    assert type(error) is errors.DatabaseError
    assert error.sqlstate == "42P01"


def test_an_unmigrated_database_says_to_migrate(test_server: Any) -> None:
    """A query on a database without the schema: the error names `codezest-db migrate`."""
    url = test_server.create_database("codezest_unmigrated")
    try:
        with psycopg.connect(url) as conn, pytest.raises(errors.DatabaseError) as caught:
            queries.auth.get_user_by_email(conn, email="a@example.com")
        message = str(caught.value)
        assert 'relation "auth.users" does not exist' in message
        assert "`codezest-db migrate`" in message and "pending_migrations()" in message
        assert caught.value.sqlstate == "42P01"

        async def main() -> str:
            async with await psycopg.AsyncConnection.connect(url) as aconn:
                with pytest.raises(errors.DatabaseError) as caught:
                    await aio.queries.auth.get_user_by_email(aconn, email="a@example.com")
            return str(caught.value)

        assert "`codezest-db migrate`" in asyncio.run(main())
    finally:
        test_server.drop_database(url)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, r"auth.get_user_by_email: missing email"),
        ({"email": "a@b.c", "mail": "x"}, r"unknown mail"),
        ({"emial": "a@b.c"}, r"missing email; unknown emial"),
    ],
)
def test_invalid_parameters_before_anything_is_sent(
    database_url: str, params: dict[str, Any], message: str
) -> None:
    closed = psycopg.connect(database_url)
    closed.close()
    # A closed connection would fail on any send: the check comes first.
    with pytest.raises(errors.InvalidParameters, match=message):
        queries.auth.get_user_by_email(closed, **params)
    with pytest.raises(ValueError, match="missing"):
        queries.auth.create_user(closed, email="x@y.z")


def test_optional_parameters_may_be_omitted(conn: Conn) -> None:
    assert isinstance(queries.auth.list_users(conn, limit=1), list)
    assert isinstance(queries.auth.list_users(conn), list)  # limit: 100 when omitted
    with pytest.raises(errors.InvalidParameters, match="missing limit"):  # pinned: required
        queries.activity.list_user_activity(conn, user_id=uuid.uuid4(), before=None)


def test_positional_parameters_are_refused(conn: Conn) -> None:
    with pytest.raises(TypeError):
        queries.auth.get_user_by_email(conn, "a@b.c")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="psycopg Connection"):
        queries.auth.get_user_by_email("a@b.c")  # type: ignore[arg-type]


def test_configuration_error_without_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(errors.ConfigurationError, match="DATABASE_URL"):
        db.configure()


def test_connection_failed_and_the_pool_recovers(configured: str) -> None:
    db.configure("postgresql://postgres@127.0.0.1:1/none", min_size=0, timeout=1, connect_timeout=1)
    with pytest.raises(errors.ConnectionFailed, match=r"127\.0\.0\.1"):
        queries.auth.get_user_by_email(email="a@b.c")
    db.configure(configured, min_size=0, max_size=2)
    assert queries.auth.get_user_by_email(email="nobody@example.com") is None


def test_errors_leave_the_pool_usable(configured: str) -> None:
    email = unique_email("pool")
    queries.auth.create_user(email=email, password_hash="h", name="P", role="STUDENT")
    for _ in range(10):  # more failures than the pool has connections
        with pytest.raises(errors.AlreadyExists):
            queries.auth.create_user(email=email, password_hash="h", name="P", role="STUDENT")
    with pytest.raises(errors.MissingReference):
        queries.auth.create_password_reset(
            user_id=uuid.uuid4(), token_hash="x", expires_at=datetime.now(UTC)
        )
    assert queries.auth.get_user_by_email(email=email) is not None
    with db.connection() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE


def test_migration_error_is_one_line_without_password(empty_database_url: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(empty_database_url)
    params.update(password="hunter2-secret", port="1", host="127.0.0.1")
    url = psycopg.conninfo.make_conninfo("", **params)
    with pytest.raises(errors.ConnectionFailed) as caught:  # migrate.up asks psycopg first
        migrate.up(url)
    text = str(caught.value)
    assert "\n" not in text
    assert "hunter2-secret" not in text
    assert text.startswith("connection failed")
    with pytest.raises(errors.MigrationError) as caught_dbmate:
        migrate.run(url, "up")
    assert str(caught_dbmate.value).startswith("dbmate up failed")
    assert "hunter2-secret" not in str(caught_dbmate.value)


def test_query_error_on_a_bad_query_file(tmp_path: Path) -> None:
    (tmp_path / "auth.sql").write_text(
        "-- name: get_one(id)^\n-- record_class: NoSuchModel\nselect 1 where :id is null;\n"
    )
    with pytest.raises(errors.QueryError, match="unknown model 'NoSuchModel'"):
        load_specs(tmp_path)
