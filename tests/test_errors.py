"""Every error class, provoked for real; the connection and pool survive each."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

import codezest_db as db
from codezest_db import errors, migrate, queries
from codezest_db._query.parse import load_specs
from tests.conftest import unique_email

Conn = psycopg.Connection[Any]


def test_the_tree() -> None:
    for cls in (
        errors.ConfigurationError,
        errors.ConnectionFailed,
        errors.MigrationError,
        errors.QueryError,
        errors.AlreadyExists,
        errors.MissingReference,
        errors.ConstraintViolation,
        errors.InvalidParameters,
    ):
        assert issubclass(cls, errors.DatabaseError)
        assert cls.__module__ == "codezest_db.errors"
    assert issubclass(errors.InvalidParameters, ValueError)


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


@pytest.mark.parametrize(
    ("fields", "cause"),
    [
        ({"email": "not-an-email"}, psycopg.errors.CheckViolation),
        ({"role": "GOD"}, psycopg.errors.InvalidTextRepresentation),
        ({"name": None}, psycopg.errors.NotNullViolation),
    ],
)
def test_constraint_violation(autocommit: Conn, fields: dict[str, Any], cause: type) -> None:
    values = {"email": unique_email(), "password_hash": "h", "name": "N", "role": "STUDENT"}
    with pytest.raises(errors.ConstraintViolation) as caught:
        queries.auth.create_user(autocommit, **{**values, **fields})
    assert isinstance(caught.value.__cause__, cause)
    still_usable(autocommit)


def test_malformed_input_is_a_constraint_violation(autocommit: Conn) -> None:
    with pytest.raises(errors.ConstraintViolation):
        queries.auth.get_user_by_id(autocommit, id="not-a-uuid")
    still_usable(autocommit)


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
    with pytest.raises(errors.InvalidParameters, match="missing limit"):
        queries.auth.list_users(conn, after_id=None)


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
    with pytest.raises(errors.MigrationError) as caught:
        migrate.up(url)
    text = str(caught.value)
    assert "\n" not in text
    assert "hunter2-secret" not in text
    assert text.startswith("dbmate up failed")


def test_query_error_on_a_bad_query_file(tmp_path: Path) -> None:
    (tmp_path / "auth.sql").write_text(
        "-- name: get_one(id)^\n-- record_class: NoSuchModel\nselect 1 where :id is null;\n"
    )
    with pytest.raises(errors.QueryError, match="unknown model 'NoSuchModel'"):
        load_specs(tmp_path)
