"""``codezest-db check``: each kind of finding, on query files written for the test."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from codezest_db import migrate
from codezest_db._query.parse import load_specs
from codezest_db._resources import queries_dir
from codezest_db.cli import main
from codezest_db.tools.check import Finding, check_database

USER_COLUMNS = (
    "id, email, name, role, email_verified_at, last_login_at, created_at, updated_at, deleted_at"
)


def check(url: str, root: Path, **files: str) -> list[Finding]:
    for domain, text in files.items():
        (root / f"{domain}.sql").write_text(text)
    return check_database(url, root)


def only(findings: list[Finding], query: str, column: str | None = None) -> Finding:
    found = [f for f in findings if f.query == query and (column is None or f.column == column)]
    assert len(found) == 1, "\n".join(str(f) for f in findings)
    return found[0]


def line_of(path: Path, text: str) -> int:
    return path.read_text().splitlines().index(text) + 1


def test_every_shipped_query_checks_out(database_url: str) -> None:
    findings = check_database(database_url)
    assert not findings, "\n".join(str(f) for f in findings)


def test_check_cli_on_a_url(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--url", database_url]) == 0, capsys.readouterr().err
    assert "every query checks out" in capsys.readouterr().out


def test_check_cli_defaults_to_a_throwaway_embedded_database(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert main(["check"]) == 0, capsys.readouterr().err
    assert "every query checks out" in capsys.readouterr().out


def test_a_renamed_column_fails_the_check_naming_it(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    migrate.up(empty_database_url)
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        conn.execute("alter table auth.users rename column last_login_at to last_seen_at")
    findings = check_database(empty_database_url)
    by_query = {f.query: str(f) for f in findings}
    assert "auth.get_user_by_id" in by_query
    assert 'column "last_login_at" does not exist' in by_query["auth.get_user_by_id"]
    assert "auth.record_login" in by_query  # its update sets the column
    auth = [f for f in findings if f.query.startswith("auth.")]
    assert all(f.column == "last_login_at" for f in auth), "\n".join(map(str, auth))
    line = line_of(queries_dir() / "auth.sql", "-- name: get_user_by_id(id)^")
    assert (
        f"auth.sql:{line}: auth.get_user_by_id: column last_login_at: the SQL does not prepare"
        in str(only(findings, "auth.get_user_by_id"))
    )
    assert main(["check", "--url", empty_database_url]) == 1
    assert "last_login_at" in capsys.readouterr().err


def test_columns_must_match_the_model_fields_by_name(database_url: str, tmp_path: Path) -> None:
    findings = check(
        database_url,
        tmp_path,
        auth="-- name: get_user(id)^\n-- record_class: User\n"
        "select id, email, name, role, email_verified_at, last_login_at, created_at, updated_at,\n"
        "       password_hash\n  from auth.users\n where id = :id;\n",
    )
    extra = only(findings, "auth.get_user", "password_hash")
    assert "User has no such field" in extra.message
    assert "`password_hash: str | None`" in extra.message
    missing = only(findings, "auth.get_user", "deleted_at")
    assert "the query returns no such column" in missing.message
    assert extra.source.endswith("auth.sql:1")
    assert len(findings) == 2


def test_types_must_fit_the_annotations(database_url: str, tmp_path: Path) -> None:
    columns = USER_COLUMNS.replace("role,", "role::text as role,")
    findings = check(
        database_url,
        tmp_path,
        auth=f"-- name: get_user(id)^\n-- record_class: User\nselect {columns}\n"
        "  from auth.users\n where id = :id;\n",
        activity="-- name: count_today()\n-- record_class: EventCountRow\n"
        "select name, now() as day, count(*) as count\n  from activity.analytics_events\n"
        " group by name;\n",
    )
    role = only(findings, "auth.get_user", "role")
    assert "it is text but User.role is `Role`: annotate it `str`" in role.message
    day = only(findings, "activity.count_today", "day")
    assert "it is timestamptz but EventCountRow.day is `date`" in day.message
    assert len(findings) == 2


def test_nullability_must_match_the_table_columns(database_url: str, tmp_path: Path) -> None:
    columns = USER_COLUMNS.replace("created_at,", "last_login_at as created_at,").replace(
        "deleted_at", "created_at as deleted_at"
    )
    findings = check(
        database_url,
        tmp_path,
        auth=f"-- name: get_user(id)^\n-- record_class: User\nselect {columns}\n"
        "  from auth.users\n where id = :id;\n",
    )
    created = only(findings, "auth.get_user", "created_at")
    assert "can be NULL (auth.users.last_login_at allows NULL)" in created.message
    assert "make it `AwareDatetime | None`" in created.message
    deleted = only(findings, "auth.get_user", "deleted_at")
    assert "never NULL (auth.users.created_at is NOT NULL)" in deleted.message
    assert "make it `AwareDatetime`" in deleted.message
    assert len(findings) == 2


def test_the_outer_side_of_a_join_is_nullable_unless_asserted(
    database_url: str, tmp_path: Path
) -> None:
    select = (
        "select u.id, u.email, u.name, u.role, u.email_verified_at, u.last_login_at,\n"
        "       u.created_at, u.updated_at, u.deleted_at\n"
        "  from auth.user_profiles p\n  left join auth.users u on u.id = p.user_id\n"
        " where p.user_id = :user_id;\n"
    )
    findings = check(
        database_url,
        tmp_path,
        auth=f"-- name: profile_user(user_id)^\n-- record_class: User\n{select}\n"
        "-- name: asserted(user_id)^\n-- record_class: User\n"
        "-- The profile's user: the foreign key guarantees one.\n"
        "-- not null: id, email, name, role, created_at, updated_at\n"
        f"{select}",
    )
    assert {f.column for f in findings} == {
        "id",
        "email",
        "name",
        "role",
        "created_at",
        "updated_at",
    }
    email = only(findings, "auth.profile_user", "email")
    assert "auth.users.email is on the outer side of a join" in email.message
    assert "add `-- not null: email`" in email.message
    asserted = next(spec for spec in load_specs(tmp_path)["auth"] if spec.name == "asserted")
    assert asserted.doc == "The profile's user: the foreign key guarantees one."


def test_expressions_are_nullable_unless_inferred_or_asserted(
    database_url: str, tmp_path: Path
) -> None:
    query = (
        "select name, (occurred_at at time zone 'UTC')::date as day, count(*) as count\n"
        "  from activity.analytics_events\n where occurred_at >= :since\n group by name, day;\n"
    )
    findings = check(
        database_url,
        tmp_path,
        activity=f"-- name: per_day(since)\n-- record_class: EventCountRow\n{query}\n"
        "-- name: per_day_asserted(since)\n-- record_class: EventCountRow\n"
        f"-- not null: day, total\n{query}\n"
        "-- name: two_values()$\nselect 1, 2;\n",
    )
    day = only(findings, "activity.per_day", "day")
    assert "it can be NULL (an expression)" in day.message
    assert "add `-- not null: day`" in day.message
    unknown = only(findings, "activity.per_day_asserted", "total")
    assert "`not null: total` names no result column" in unknown.message
    value = only(findings, "activity.two_values")
    assert "returns 2 columns" in value.message
    assert len(findings) == 3  # count(*) is never NULL


def test_invalid_sql_and_untyped_parameters_are_findings(database_url: str, tmp_path: Path) -> None:
    findings = check(
        database_url,
        tmp_path,
        auth="-- name: broken(id)^\n-- record_class: User\n"
        f"select {USER_COLUMNS}\n  from auth.users\n wher id = :id;\n\n"
        "-- name: untyped(id, since)!\nupdate auth.users set name = name\n"
        " where id = :id and :since is null;\n",
    )
    broken = only(findings, "auth.broken")
    assert "the SQL does not prepare: syntax error at or near" in broken.message
    untyped = only(findings, "auth.untyped")
    assert "could not determine data type of parameter :since" in untyped.message
    assert untyped.source.endswith(
        f"auth.sql:{line_of(tmp_path / 'auth.sql', '-- name: untyped(id, since)!')}"
    )
    assert len(findings) == 2


def test_each_domain_runs_as_its_service_role(database_url: str, tmp_path: Path) -> None:
    findings = check(
        database_url,
        tmp_path,
        learning=f"-- name: peek_user(id)^\n-- record_class: User\nselect {USER_COLUMNS}\n"
        "  from auth.users\n where id = :id;\n\n"
        "-- name: count_languages()$\nselect count(*) from learning.programming_languages;\n",
        activity="-- name: wipe_notifications()!\ndelete from notifications.notifications;\n",
    )
    peek = only(findings, "learning.peek_user")
    assert "as role codezest_learning: permission denied for schema auth" in peek.message
    assert "may use only its own schema (learning)" in peek.message
    wipe = only(findings, "activity.wipe_notifications")
    assert "as role codezest_activity: permission denied" in wipe.message
    assert len(findings) == 2
