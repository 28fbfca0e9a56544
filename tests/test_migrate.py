"""Migrations through dbmate, the committed schema dump, and the command line."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from codezest_db import embedded, migrate
from codezest_db._resources import migrations_dir, schema_file
from codezest_db.cli import main
from codezest_db.errors import ConfigurationError, MigrationError
from codezest_db.testing import TestServer

REPO = Path(__file__).resolve().parent.parent


def versions() -> list[str]:
    return sorted(p.name.split("_", 1)[0] for p in migrations_dir().glob("*.sql"))


def test_up_rollback_everything_then_up_again_through_the_cli(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = empty_database_url
    assert main(["migrate", "--url", url]) == 0
    assert migrate.applied(url) == versions()
    assert main(["status", "--url", url]) == 0
    assert f"Applied: {len(versions())}" in capsys.readouterr().out
    assert main(["rollback", "--url", url]) == 0
    assert migrate.applied(url) == versions()[:-1]
    assert main(["rollback", "--all", "--url", url]) == 0
    assert migrate.applied(url) == []
    with psycopg.connect(url) as conn:
        ours = conn.execute(
            "select nspname from pg_namespace where nspname in "
            "('auth', 'learning', 'payments', 'notifications', 'activity')"
        ).fetchall()
    assert ours == []
    assert main(["rollback", "--url", url]) == 0  # nothing left: still fine
    assert main(["migrate", "--url", url]) == 0
    assert migrate.applied(url) == versions()


def _normalized(text: str) -> str:
    # pg_dump versions differ in headers and session settings, not in the schema;
    # some servers also stamp private column options (pg_attver) into the dump.
    kept = []
    for line in text.splitlines():
        if line.startswith(
            ("--", "SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict")
        ):
            continue
        if "SET (pg_attver=" in line:
            continue
        # pg_dump 18 names the NOT NULL constraints a partition inherits; 15 has no names.
        line = re.sub(r"CONSTRAINT \w+_not_null NOT NULL", "NOT NULL", line)
        kept.append(line.rstrip())
    # The monthly event partitions migrate made depend on the day it ran: not schema.
    statements = "\n".join(kept).split(";\n")
    kept = [s for s in statements if not re.search(r"analytics_events_p\d{4}_\d{2}", s)]
    return re.sub(r"\n{3,}", "\n\n", ";\n".join(kept)).strip()


def test_committed_schema_matches_the_migrations(database_url: str, tmp_path: Path) -> None:
    dumped = migrate.dump_schema(database_url, tmp_path / "schema.sql")
    committed = schema_file().read_text()
    assert _normalized(dumped.read_text()) == _normalized(committed), (
        "db/schema.sql is stale: run `codezest-db dump-schema` and commit it"
    )


# The catalog of the five schemas and dbmate's table, partitions aside (their
# months depend on the day the migrations ran): (kind, owner, definition) rows.
_OURS = "('auth', 'learning', 'payments', 'notifications', 'activity', 'public')"
_CATALOG = f"""
with rel as (
    select c.oid, n.nspname || '.' || c.relname as name, c.relkind
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname in {_OURS} and not c.relispartition
)
select 'relation', name, c.relkind::text || coalesce(' ' || pg_get_partkeydef(c.oid), '')
from rel c where c.relkind not in ('i', 'I')
union all
select 'column', r.name,
    format('%s %s %s default %s identity %s generated %s',
        a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
        pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated)
from rel r join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
union all
select 'column order', r.name,
    string_agg(a.attname, ',' order by a.attnum)
from rel r join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
where r.relkind in ('r', 'p', 'v', 'm')
group by r.name
union all
select 'index', r.name, pg_get_indexdef(i.indexrelid) || ' valid ' || i.indisvalid
from rel r join pg_index i on i.indrelid = r.oid
union all
select 'constraint', coalesce(r.name, t.typname), c.conname || ' ' || pg_get_constraintdef(c.oid)
from pg_constraint c join pg_namespace n on n.oid = c.connamespace
left join rel r on r.oid = c.conrelid
left join pg_type t on t.oid = c.contypid
where n.nspname in {_OURS} and (r.oid is not null or c.contypid <> 0)
union all
select 'function', n.nspname || '.' || p.proname, pg_get_functiondef(p.oid)
from pg_proc p join pg_namespace n on n.oid = p.pronamespace
where n.nspname in {_OURS} and p.prokind in ('f', 'p')
union all
select 'trigger', r.name, pg_get_triggerdef(t.oid)
from rel r join pg_trigger t on t.tgrelid = r.oid and not t.tgisinternal
union all
select 'type', n.nspname || '.' || t.typname,
    t.typtype::text || coalesce(' ' || (
        select string_agg(e.enumlabel, ',' order by e.enumsortorder)
        from pg_enum e where e.enumtypid = t.oid), '')
from pg_type t join pg_namespace n on n.oid = t.typnamespace
where n.nspname in {_OURS} and t.typtype in ('e', 'd', 'c')
    and (t.typtype <> 'c' or (select relkind from pg_class where oid = t.typrelid) = 'c')
union all
select 'schema', nspname, coalesce(obj_description(oid, 'pg_namespace'), '')
from pg_namespace where nspname in {_OURS}
"""


def catalog(url: str) -> list[tuple[str, str, str]]:
    with psycopg.connect(url) as conn:
        rows = conn.execute(_CATALOG).fetchall()
    return sorted((str(kind), str(owner), str(definition)) for kind, owner, definition in rows)


def load_schema(url: str, tool: str) -> None:
    """Load the committed db/schema.sql into the empty database at *url*, with *tool*."""
    if tool == "dbmate":
        migrate.run(url, "load", schema_file=schema_file())
        return
    psql = shutil.which("psql", path=migrate._path_with_pg_dump()) if tool == "psql" else None
    assert psql, "no psql"
    subprocess.run(
        [psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(schema_file()), url],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def newest_server() -> Iterator[TestServer]:
    """A temporary embedded PostgreSQL (the newest supported major version)."""
    server = embedded.start(temporary=True)
    try:
        yield TestServer(server.url("postgres"), "embedded")
    finally:
        server.stop()


@pytest.mark.parametrize("which", ["test server", "newest server"])
def test_the_committed_dump_loads_into_an_empty_database_and_equals_the_migrations(
    which: str, request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str]
) -> None:
    """db/schema.sql provisions a database: same catalog as migrating, and current."""
    server: TestServer = request.getfixturevalue(
        "test_server" if which == "test server" else "newest_server"
    )
    tools = ["dbmate", "psql"]
    made = [server.create_database("codezest_load") for _ in tools]
    migrated = server.create_database("codezest_migrated")
    try:
        migrate.up(migrated)
        expected = catalog(migrated)
        kinds = {kind for kind, _, _ in expected}
        assert {"relation", "column", "index", "constraint", "function", "trigger"} <= kinds
        assert any(kind == "type" and d.startswith("e ") for kind, _, d in expected)  # enums
        for tool, url in zip(tools, made, strict=True):
            load_schema(url, tool)
            loaded = catalog(url)
            assert set(loaded) - set(expected) == set(), tool
            assert set(expected) - set(loaded) == set(), tool
            assert main(["status", "--exit-code", "--url", url]) == 0, tool
            assert "Pending: 0" in capsys.readouterr().out
    finally:
        for url in (*made, migrated):
            server.drop_database(url)


def test_portable_dump_guards_only_settings_an_older_server_lacks() -> None:
    text = "SET lock_timeout = 0;\nSET transaction_timeout = 0;\nSET some_future = 'a b';\n"
    assert migrate.portable_dump(text).splitlines() == [
        "SET lock_timeout = 0;",
        "SELECT pg_catalog.set_config('transaction_timeout', '0', false) "
        "WHERE pg_catalog.current_setting('transaction_timeout', true) IS NOT NULL;",
        "SELECT pg_catalog.set_config('some_future', 'a b', false) "
        "WHERE pg_catalog.current_setting('some_future', true) IS NOT NULL;",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        # No sslmode: libpq's default, prefer (dbmate's driver would require TLS).
        (
            "postgresql://postgres@127.0.0.1:5432/app",
            "postgres://postgres@127.0.0.1:5432/app?sslmode=prefer",
        ),
        ("postgresql://postgres@db:5432/app", "postgres://postgres@db:5432/app?sslmode=prefer"),
        (
            "postgresql://u:p%40ss@db.internal/app?sslmode=require",
            "postgres://u:p%40ss@db.internal/app?sslmode=require",
        ),
        (
            "postgresql://u@db/app?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgres://u@db/app?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        ),
        # A unix socket never uses TLS, as in libpq.
        (
            "postgresql://postgres@/codezest?host=/tmp/pg",
            "postgres://postgres@/codezest?socket=%2Ftmp%2Fpg&sslmode=disable",
        ),
        ("host=localhost dbname=app user=me", "postgres://me@localhost/app?sslmode=prefer"),
        ("postgresql://me@[::1]:5433/app", "postgres://me@[::1]:5433/app?sslmode=prefer"),
        ("postgresql://me@db", "postgres://me@db/me?sslmode=prefer"),  # dbname: the user's
    ],
)
def test_dbmate_url(url: str, expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PGSSLMODE", raising=False)
    monkeypatch.delenv("PGDATABASE", raising=False)
    assert migrate.dbmate_url(url) == expected


def test_dbmate_url_drops_client_tuning_and_refuses_what_dbmate_cannot_honour() -> None:
    url = "postgresql://u@db/app?keepalives_idle=30&channel_binding=prefer&application_name=job"
    assert migrate.dbmate_url(url) == "postgres://u@db/app?application_name=job&sslmode=prefer"
    for setting in ("channel_binding=require", "sslcrl=/etc/crl.pem", "requirepeer=postgres"):
        with pytest.raises(ConfigurationError, match=setting):
            migrate.dbmate_url(f"postgresql://u@db/app?{setting}")


def test_dbmate_url_follows_pgsslmode_like_libpq(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGSSLMODE", "require")
    assert migrate.dbmate_url("postgresql://u@db/app").endswith("?sslmode=require")
    assert migrate.dbmate_url("postgresql://u@db/app?sslmode=disable").endswith("sslmode=disable")


def test_cli_failure_is_one_line_without_traceback_or_password() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "codezest_db.cli",
            "migrate",
            "--url",
            "postgresql://app:topsecret@127.0.0.1:1/none",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "topsecret" not in result.stderr + result.stdout
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith("codezest-db migrate: connection failed")


def test_new_writes_an_empty_migration(tmp_path: Path) -> None:
    path = migrate.new("add_streaks", migrations=tmp_path)
    assert re.fullmatch(r"\d{14}_add_streaks\.sql", path.name)
    assert "-- migrate:up" in path.read_text()
    with pytest.raises(MigrationError, match="lower-case"):
        migrate.new("Add Streaks", migrations=tmp_path)


def test_the_wheel_ships_queries_and_migrations(built_wheel: Path) -> None:
    wheel = built_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    for domain in ("auth", "learning", "payments", "notifications", "activity"):
        assert f"codezest_db/_sql/queries/{domain}.sql" in names
    for migration in migrations_dir().glob("*.sql"):
        assert f"codezest_db/_sql/db/migrations/{migration.name}" in names
    assert "codezest_db/py.typed" in names


def test_the_password_never_reaches_dbmate_argv(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`ps` shows every process's arguments: the URL goes through the environment."""
    seen: list[list[str]] = []
    real_run = subprocess.run

    def spy(command: list[str], **kwargs: object) -> object:
        seen.append(list(command))
        return real_run(command, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", spy)
    params = psycopg.conninfo.conninfo_to_dict(empty_database_url)
    params["password"] = "pw-in-argv"
    migrate.run(psycopg.conninfo.make_conninfo("", **params), "status")
    assert seen
    assert not any("pw-in-argv" in part for command in seen for part in command)


@pytest.mark.parametrize("steps", ["0", "-3", "two"])
def test_rollback_refuses_a_bad_step_count(
    steps: str, empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--url", empty_database_url]) == 0
    with pytest.raises(SystemExit) as exited:
        main(["rollback", "--steps", steps, "--url", empty_database_url])
    assert exited.value.code == 2
    assert "at least 1" in capsys.readouterr().err
    assert migrate.applied(empty_database_url) == versions()  # nothing rolled back
