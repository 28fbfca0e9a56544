"""Loading queries/: names, models, docstrings, signatures, row factories."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.rows import dict_row, namedtuple_row

from codezest_db import aio, errors, queries
from codezest_db._query.parse import load_specs
from codezest_db.models import User

DOMAINS = ["activity", "auth", "learning", "notifications", "payments"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return tmp_path


def test_every_domain_is_loaded_sync_and_async() -> None:
    assert sorted(load_specs()) == DOMAINS
    for domain in DOMAINS:
        sync_names = list(getattr(queries, domain))
        assert sync_names, domain
        assert list(getattr(aio.queries, domain)) == sync_names
        for name in sync_names:
            assert inspect.iscoroutinefunction(getattr(getattr(aio.queries, domain), name))


def test_docstring_and_signature_come_from_the_sql() -> None:
    fn = queries.auth.get_user_by_email
    assert fn.__name__ == "get_user_by_email"
    assert fn.__doc__ == "Fetch a live user by email, ignoring case."
    sig = inspect.signature(fn)
    assert [(p.name, p.kind) for p in sig.parameters.values()] == [
        ("conn", inspect.Parameter.POSITIONAL_ONLY),
        ("email", inspect.Parameter.KEYWORD_ONLY),
    ]
    listing = inspect.signature(queries.auth.list_users).parameters
    assert listing["after_id"].default is None
    assert listing["limit"].default is None  # optional, like every list query's
    assert inspect.signature(queries.auth.get_user_by_id).parameters["id"].default is (
        inspect.Parameter.empty
    )
    assert "optional:" not in (queries.auth.list_users.__doc__ or "")


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        "auth.sql",
        "-- name: count_users()$\nselect count(*) from auth.users;\n\n"
        "-- name: count_users()$\nselect 2;\n",
    )
    with pytest.raises(errors.QueryError, match=r"auth\.count_users is already defined"):
        load_specs(root)


def test_a_duplicate_in_one_file_names_both_lines(tmp_path: Path) -> None:
    root = write(tmp_path, "auth.sql", "-- name: one()$\nselect 1;\n\n-- name: one()$\nselect 2;\n")
    path = tmp_path / "auth.sql"
    with pytest.raises(errors.QueryError) as caught:
        load_specs(root)
    assert str(caught.value) == f"{path}:4: query auth.one is already defined at {path}:1"


def test_each_spec_comes_from_its_own_block(tmp_path: Path) -> None:
    text = (
        "-- Header.\n\n"
        "-- name: zeta(id)^\n-- record_class: User\n-- One user.\n-- optional: id\n"
        "select id, email, name, role, email_verified_at, last_login_at, created_at,"
        " updated_at, deleted_at from auth.users where id = :id;\n\n"
        "-- name: alpha(a, b)$\nselect ':a', :b::int + :a::int;\n\n"
        "-- name: mid(id)!\ndelete from auth.users where id = :id;\n"
    )
    path = write(tmp_path, "auth.sql", text) / "auth.sql"
    specs = load_specs(tmp_path)["auth"]
    assert [(s.name, s.source) for s in specs] == [
        ("zeta", f"{path}:3"),
        ("alpha", f"{path}:9"),
        ("mid", f"{path}:12"),
    ]
    zeta, alpha, mid = specs
    assert (zeta.model, zeta.doc, zeta.optional, zeta.operation.name) == (
        User,
        "One user.",
        frozenset({"id"}),
        "SELECT_ONE",
    )
    assert zeta.sql.endswith("where id = %(id)s;")
    # Declared order, not the order of use; quoted text is left alone.
    assert (alpha.params, alpha.model, alpha.reads) == (("a", "b"), None, True)
    assert alpha.sql == "select ':a', %(b)s::int + %(a)s::int;"
    assert (mid.operation.name, mid.reads) == ("INSERT_UPDATE_DELETE", False)


def test_names_aiosql_would_keep_for_itself_are_queries(tmp_path: Path) -> None:
    # Its own attributes and the ``<select>_cursor`` helpers it adds are not ours.
    text = "".join(
        f"-- name: {name}()\n-- record_class: User\nselect id from auth.users;\n\n"
        for name in ("list_x", "list_x_cursor", "available_queries", "add_query")
    )
    specs = load_specs(write(tmp_path, "auth.sql", text))["auth"]
    assert [s.name for s in specs] == ["list_x", "list_x_cursor", "available_queries", "add_query"]


def test_shipped_sql_is_sent_with_psycopg_placeholders() -> None:
    for specs in load_specs().values():
        for spec in specs:
            for param in spec.params:
                assert f"%({param})s" in spec.sql, spec.qualname
                assert not re.search(rf"(?<!:):{param}\b", spec.sql), spec.qualname


def test_duplicate_names_across_files_of_one_domain(tmp_path: Path) -> None:
    (tmp_path / "auth").mkdir()
    write(tmp_path / "auth", "a.sql", "-- name: one()$\nselect 1;\n")
    write(tmp_path / "auth", "b.sql", "-- name: one()$\nselect 1;\n")
    with pytest.raises(errors.QueryError, match="already defined"):
        load_specs(tmp_path)


def test_folder_per_domain(tmp_path: Path) -> None:
    (tmp_path / "auth").mkdir()
    write(tmp_path / "auth", "a.sql", "-- name: one()$\nselect 1;\n")
    write(tmp_path / "auth", "b.sql", "-- name: two()$\nselect 2;\n")
    specs = load_specs(tmp_path)
    assert [s.name for s in specs["auth"]] == ["one", "two"]


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("-- name: rows()\nselect 1;\n", "has no model declared"),
        ("-- name: rows()^\n-- record_class: Nope\nselect 1;\n", "unknown model 'Nope'"),
        ("-- name: n()$\n-- record_class: User\nselect 1;\n", "drop its record_class"),
        ("-- name: s(a)$\nselect 1;\n", "unused declared parameter"),
        ("-- name: s()$\nselect :a;\n", "undeclared parameter"),
        ("-- name: s$\nselect 1;\n", "missing mandatory parameter list"),
        ("-- name: s()<!\ninsert into t values (1);\n", "use '\\^'"),
        ("-- name: s(a)$\n-- optional: b\nselect :a;\n", "optional names unknown"),
    ],
)
def test_malformed_queries_are_refused_at_load(tmp_path: Path, sql: str, message: str) -> None:
    with pytest.raises(errors.QueryError, match=message):
        load_specs(write(tmp_path, "auth.sql", sql))


@pytest.mark.parametrize("row_factory", [dict_row, namedtuple_row])
def test_results_do_not_depend_on_the_connection_row_factory(
    database_url: str, row_factory: Any
) -> None:
    with psycopg.connect(database_url, row_factory=row_factory) as conn:
        user = queries.auth.create_user(
            conn, email="rf@example.com", password_hash="h", name="R", role="STUDENT"
        )
        assert isinstance(user, User)
        assert queries.auth.get_user_by_email(conn, email="RF@example.com") == user
        assert queries.auth.list_users(conn, limit=1000)[0].__class__ is User
        # Other tests commit tokens: a first call clears them, a second finds none.
        assert isinstance(queries.auth.delete_expired_tokens(conn), int)
        assert queries.auth.delete_expired_tokens(conn) == 0
        assert queries.auth.record_login(conn, id=user.id) == 1
        conn.rollback()


def test_async_results_do_not_depend_on_the_row_factory(database_url: str) -> None:
    import asyncio

    async def main() -> None:
        async with await psycopg.AsyncConnection.connect(
            database_url, row_factory=dict_row
        ) as conn:
            user = await aio.queries.auth.create_user(
                conn, email="arf@example.com", password_hash="h", name="R", role="STUDENT"
            )
            assert isinstance(user, User)
            assert isinstance(await aio.queries.auth.delete_expired_tokens(conn), int)
            assert await aio.queries.auth.delete_expired_tokens(conn) == 0
            assert await aio.queries.auth.get_user_by_id(conn, id=user.id) == user
            await conn.rollback()

    asyncio.run(main())


def test_a_sync_connection_is_refused_by_async_queries(conn: psycopg.Connection[Any]) -> None:
    import asyncio

    with pytest.raises(TypeError, match="AsyncConnection"):
        asyncio.run(aio.queries.auth.get_user_by_email(conn, email="a@b.c"))


def test_an_unknown_query_name_suggests_the_close_ones() -> None:
    import copy

    with pytest.raises(AttributeError, match=r"no query auth\.get_user_by_mail; did you mean"):
        queries.auth.get_user_by_mail  # noqa: B018
    assert copy.copy(queries.auth).get_user_by_email is queries.auth.get_user_by_email
