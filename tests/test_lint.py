"""``codezest-db lint``: each rule fires on a bad migration and not on its fixed form.

Every case lays out a checkout in a temporary folder (db/migrations with a
base migration that creates the "existing" tables, queries/ with the queries
the running release sends) and lints the migrations after the base one.
squawk runs for real (the ``[lint]`` extra); no database is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from codezest_db import migrate
from codezest_db.cli import main
from codezest_db.tools import lint

REPO = Path(__file__).resolve().parent.parent
LINE = re.compile(r"^(?P<file>[^:\s]+\.sql):(?P<line>\d+): (?P<rule>[a-z-]+): (?P<message>.+)$")

BASE = """\
-- migrate:up
create schema app;
create table app.items (id uuid primary key, a bigint, b text, legacy text);
create table app.old (id uuid primary key);
create table app.unused (id uuid primary key);
create function app.f() returns bigint language sql as $$ select 1 $$;
create function app.g() returns bigint language sql as $$ select 2 $$;

-- migrate:down
drop schema app cascade;
"""

QUERIES = """\
-- name: get_item(id)^
-- record_class: Item
select id, a, b from app.items where id = :id;

-- name: list_old()
-- record_class: Old
select id from app.old;

-- name: call_f()$
select app.f();
"""


def up(body: str, options: str = "") -> str:
    first = f"-- migrate:up {options}".rstrip()
    return f"{first}\n{body.strip()}\n\n-- migrate:down\n"


@dataclass(frozen=True)
class Case:
    rule: str
    bad: tuple[str, ...]  # migrations after the base one
    fixed: tuple[str, ...]


TX_FALSE = "transaction:false"
CASES = [
    # squawk's rules
    Case(
        "require-concurrent-index-creation",
        (up("create index items_a on app.items (a);"),),
        (up("create index concurrently if not exists items_a on app.items (a);", TX_FALSE),),
    ),
    Case(
        "require-concurrent-index-deletion",
        (up("drop index app.items_pkey;"),),
        (up("drop index concurrently if exists app.items_pkey;", TX_FALSE),),
    ),
    Case(
        "constraint-missing-not-valid",
        (up("alter table app.items add constraint items_a_check check (a > 0);"),),
        (
            up("alter table app.items add constraint items_a_check check (a > 0) not valid;"),
            up("alter table app.items validate constraint items_a_check;"),
        ),
    ),
    Case(
        "disallowed-unique-constraint",
        (up("alter table app.items add constraint items_a_key unique (a);"),),
        (
            up(
                "create unique index concurrently if not exists items_a_key on app.items (a);",
                TX_FALSE,
            ),
            up("alter table app.items add constraint items_a_key unique using index items_a_key;"),
        ),
    ),
    Case(  # a transaction:false migration that fails half-way is run again
        "prefer-robust-stmts",
        (up("create index concurrently items_a on app.items (a);", TX_FALSE),),
        (up("create index concurrently if not exists items_a on app.items (a);", TX_FALSE),),
    ),
    # this repository's rules
    Case(
        "drop-used-by-queries",
        (up("alter table app.items drop column b;"),),
        (up("alter table app.items drop column legacy;"),),
    ),
    Case(
        "drop-used-by-queries",
        (up("drop table app.old;"),),
        (up("drop table app.unused;"),),
    ),
    Case(
        "drop-used-by-queries",
        (up("drop function app.f();"),),
        (up("drop function app.g();"),),
    ),
    Case(
        "rename-used-by-queries",
        (up("alter table app.items rename column a to amount;"),),
        (up("alter table app.items rename column legacy to legacy_text;"),),
    ),
    Case(
        "rename-used-by-queries",
        (up("alter table app.old rename to older;"),),
        (up("alter table app.unused rename to spare;"),),
    ),
    Case(
        "rename-used-by-queries",
        (up("alter table app.old set schema public;"),),
        (up("alter table app.unused set schema public;"),),
    ),
    Case(
        "constraint-not-valid",
        (up("alter table app.items add column c bigint check (c > 0);"),),
        (
            up(
                "alter table app.items add column c bigint;\n"
                "alter table app.items add constraint items_c_check check (c > 0) not valid;"
            ),
            up("alter table app.items validate constraint items_c_check;"),
        ),
    ),
    Case(
        "set-not-null-without-check",
        (up("alter table app.items alter column b set not null;"),),
        (
            up("alter table app.items add constraint items_b_nn check (b is not null) not valid;"),
            up("alter table app.items validate constraint items_b_nn;"),
            up("alter table app.items alter column b set not null;"),
        ),
    ),
    Case(
        "concurrently-needs-transaction-false",
        (up("create index concurrently if not exists items_a on app.items (a);"),),
        (up("create index concurrently if not exists items_a on app.items (a);", TX_FALSE),),
    ),
    Case(
        "concurrently-needs-transaction-false",
        (up("drop index concurrently if exists app.items_pkey;"),),
        (up("drop index concurrently if exists app.items_pkey;", TX_FALSE),),
    ),
    Case(
        "concurrently-needs-transaction-false",
        (up("reindex index concurrently app.items_pkey;"),),
        (up("reindex index concurrently app.items_pkey;", TX_FALSE),),
    ),
    Case(
        "concurrently-alone",
        (
            up(
                "create index concurrently if not exists items_a on app.items (a);\n"
                "create index concurrently if not exists items_b on app.items (b);",
                TX_FALSE,
            ),
        ),
        (
            up("create index concurrently if not exists items_a on app.items (a);", TX_FALSE),
            up("create index concurrently if not exists items_b on app.items (b);", TX_FALSE),
        ),
    ),
    Case(
        "backfill-under-lock",
        (
            up(
                "alter table app.items add column c text;\n"
                "with moved as (select id, b from app.items) "
                "update app.items set c = moved.b from moved where moved.id = app.items.id;"
            ),
        ),
        (
            up("alter table app.items add column c text;"),
            up(
                "with moved as (select id, b from app.items) "
                "update app.items set c = moved.b from moved where moved.id = app.items.id;"
            ),
        ),
    ),
    Case(
        "backfill-under-lock",
        (up("alter table app.items add column c text;\nupdate app.items set c = b;"),),
        (
            up("alter table app.items add column c text;"),
            up("update app.items set c = b where c is null;"),
        ),
    ),
]


def checkout(root: Path, migrations: tuple[str, ...]) -> list[Path]:
    """A checkout under *root*; returns the paths of *migrations* (after the base one)."""
    folder = root / "db" / "migrations"
    folder.mkdir(parents=True)
    (root / "queries").mkdir()
    (root / "queries" / "app.sql").write_text(QUERIES)
    (folder / "20260101000000_base.sql").write_text(BASE)
    paths = []
    for number, text in enumerate(migrations, 1):
        path = folder / f"2026010100000{number}_change.sql"
        path.write_text(text)
        paths.append(path)
    return paths


def findings(paths: list[Path]) -> list[lint.Finding]:
    found, _ = lint.lint(paths)
    return found


@pytest.mark.parametrize("case", CASES, ids=[f"{c.rule}-{i}" for i, c in enumerate(CASES)])
def test_each_rule_fires_on_a_bad_migration_and_not_on_its_fixed_form(
    tmp_path: Path, case: Case
) -> None:
    bad = findings(checkout(tmp_path / "bad", case.bad))
    assert case.rule in {f.rule for f in bad}, bad
    # On the statement's own line (the second line of the file, after -- migrate:up).
    assert {f.line for f in bad if f.rule == case.rule} <= {2, 3}, bad
    fixed = findings(checkout(tmp_path / "fixed", case.fixed))
    assert fixed == [], fixed


def test_the_base_migration_itself_is_clean(tmp_path: Path) -> None:
    checkout(tmp_path, ())
    assert findings([tmp_path / "db" / "migrations" / "20260101000000_base.sql"]) == []


def test_tables_created_in_the_same_migration_are_new_and_exempt(tmp_path: Path) -> None:
    (path,) = checkout(
        tmp_path,
        (
            up(
                "create table app.fresh (id uuid primary key, a bigint, b text);\n"
                "create index fresh_a on app.fresh (a);\n"
                "alter table app.fresh add constraint fresh_a_check check (a > 0);\n"
                "alter table app.fresh alter column b set not null;\n"
                "alter table app.fresh add column c bigint check (c > 0);"
            ),
        ),
    )
    assert findings([path]) == []


def test_only_the_up_part_is_linted_and_lines_are_the_files(tmp_path: Path) -> None:
    text = (
        "-- migrate:up\n"
        "-- a comment\n"
        "/* a block\n   comment */\n"
        "select 'a string;\nover two lines';\n"
        "create index items_a on app.items (a);\n"  # line 7
        "\n-- migrate:down\n"
        "drop index app.items_a;\n"
        "drop table app.items;\n"
    )
    (path,) = checkout(tmp_path, (text,))
    found = findings([path])
    assert [(f.line, f.rule) for f in found] == [(7, "require-concurrent-index-creation")]


def test_a_dollar_quoted_body_is_not_read_as_statements(tmp_path: Path) -> None:
    (path,) = checkout(
        tmp_path,
        (
            up(
                "do $body$ begin\n"
                "  execute 'select 1';\n"
                "end $body$;\n"
                "create function app.h() returns void language plpgsql as $$\n"
                "begin drop table app.old; end $$;"
            ),
        ),
    )
    assert [f.rule for f in findings([path])] == []


def test_another_releases_queries_count_too(tmp_path: Path) -> None:
    (path,) = checkout(tmp_path, (up("alter table app.items drop column legacy;"),))
    assert findings([path]) == []
    previous = tmp_path / "previous" / "queries"
    previous.mkdir(parents=True)
    (previous / "app.sql").write_text(
        "-- name: get_legacy(id)$\nselect legacy from app.items where id = :id;\n"
    )
    found, _ = lint.lint([path], queries=[previous])
    assert [f.rule for f in found] == ["drop-used-by-queries"]
    assert "get_legacy" in found[0].message and "app.items.legacy" in found[0].message


def test_the_previous_recorded_release_counts_by_default(tmp_path: Path) -> None:
    """db/releases/<version>/queries of the newest release other than queries/ (the code
    still serving while the migration runs) counts without --queries; older ones do not."""
    (path,) = checkout(tmp_path, (up("alter table app.items drop column legacy;"),))
    legacy = "-- name: get_legacy(id)$\nselect legacy from app.items where id = :id;\n"
    for version, text in (("0.1.0", legacy), ("0.2.0", QUERIES)):
        folder = tmp_path / "db" / "releases" / version
        (folder / "queries").mkdir(parents=True)
        (folder / "queries" / "app.sql").write_text(text)
        (folder / "shapes.json").write_text("{}")
    # queries/ is 0.2.0 as recorded: the code serving beside it is 0.1.0, which reads legacy.
    found = findings([path])
    assert [f.rule for f in found] == ["drop-used-by-queries"]
    assert "get_legacy" in found[0].message
    # A change since 0.2.0: 0.2.0 is the one serving now, and it does not read legacy.
    (tmp_path / "queries" / "app.sql").write_text(QUERIES + "\n-- a change since 0.2.0\n")
    assert findings([path]) == []


def write_acknowledgments(root: Path, text: str) -> Path:
    path = root / "db" / lint.ACKNOWLEDGED_FILE
    path.write_text(text)
    return path


def test_acknowledged_findings_pass_and_stale_ones_are_reported(tmp_path: Path) -> None:
    (path,) = checkout(tmp_path, (up("create index items_a on app.items (a);"),))
    ack = """\
[[acknowledged]]
file = "20260101000001_change.sql"
rule = "require-concurrent-index-creation"
lines = [2]
reason = "applied while the table was empty"
"""
    write_acknowledgments(tmp_path, ack)
    assert lint.lint([path]) == ([], 1)
    assert run_cli(tmp_path, str(path)).returncode == 0
    # The finding moves (here: a line down): the acknowledgment no longer matches.
    path.write_text("-- migrate:up\n\ncreate index items_a on app.items (a);\n-- migrate:down\n")
    found, acknowledged = lint.lint([path])
    assert acknowledged == 0
    assert sorted((f.line, f.rule) for f in found) == [
        (2, "stale-acknowledgment"),
        (3, "require-concurrent-index-creation"),
    ]
    # An acknowledgment of a migration that is no longer there is stale too.
    write_acknowledgments(tmp_path, ack.replace("01_change.sql", "09_gone.sql"))
    found, acknowledged = lint.lint([path])
    assert acknowledged == 0
    stale = [f for f in found if f.rule == "stale-acknowledgment"]
    assert [(f.path.name, f.line) for f in stale] == [("20260101000009_gone.sql", 2)]
    assert "no such file" in stale[0].message


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('[[acknowledged]]\nfile = "x.sql"\nrule = "r"\nlines = [1]\nreason = " "\n', "no reason"),
        ('[[acknowledged]]\nfile = "x.sql"\nrule = "r"\nlines = [1]\n', "exactly"),
        ('[[acknowledged]]\nfile = "x.sql"\nrule = "r"\nlines = "1"\nreason = "r"\n', "lines"),
        (
            '[[acknowledged]]\nfile = "x.sql"\nrule = "r"\nlines = [1, 1]\nreason = "why"\n',
            "acknowledged twice",
        ),
        ("[[acknowledged]\n", "cannot read"),
    ],
)
def test_a_broken_acknowledgments_file_exits_2_in_one_line(
    tmp_path: Path, text: str, error: str
) -> None:
    (path,) = checkout(tmp_path, (up("select 1;"),))
    write_acknowledgments(tmp_path, text)
    result = run_cli(tmp_path, str(path))
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and error in result.stderr
    assert "Traceback" not in result.stderr


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", "lint", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_exit_codes_and_output_format(tmp_path: Path) -> None:
    bad = checkout(tmp_path / "bad", (up("drop index app.items_pkey;\ndrop table app.old;"),))
    result = run_cli(tmp_path / "bad", *map(str, bad))
    assert result.returncode == 1
    matches = [LINE.match(line) for line in result.stdout.splitlines()]
    assert all(matches), result.stdout
    assert [m["rule"] for m in matches if m] == [
        "require-concurrent-index-deletion",
        "drop-used-by-queries",
    ]
    # The file relative to the working directory, and the line of each statement.
    assert {(m["file"], m["line"]) for m in matches if m} == {
        ("db/migrations/20260101000001_change.sql", "2"),
        ("db/migrations/20260101000001_change.sql", "3"),
    }
    assert result.stderr.strip() == "codezest-db lint: 2 findings (0 acknowledged)"

    clean = checkout(tmp_path / "clean", (up("alter table app.items add column c text;"),))
    result = run_cli(tmp_path / "clean", *map(str, clean))
    assert (result.returncode, result.stdout) == (0, "")

    result = run_cli(tmp_path, str(tmp_path / "missing.sql"))
    assert result.returncode == 2
    assert (
        result.stderr.strip() == f"codezest-db lint: no migration file {tmp_path / 'missing.sql'}"
    )


def test_the_shipped_migrations_pass_with_their_acknowledgments() -> None:
    result = run_cli(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""
    # Every acknowledgment is in use: none stale, none for a finding that is gone.
    found, acknowledged = lint.lint()
    assert found == []
    assert acknowledged == 31


def test_the_shipped_migrations_have_findings_without_acknowledgments(tmp_path: Path) -> None:
    """The acknowledgments are what makes them pass: lint does see the shipped problems."""
    empty = tmp_path / "none.toml"
    empty.write_text("")
    found, acknowledged = lint.lint(acknowledged=empty)
    assert acknowledged == 0
    rules = {f.rule for f in found}
    assert {
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "rename-used-by-queries",
        "backfill-under-lock",
    } <= rules
    assert len(found) == 31


def test_new_writes_a_template_that_passes_lint(tmp_path: Path) -> None:
    (folder,) = {p.parent for p in checkout(tmp_path, (up("select 1;"),))}
    path = lint.write_template("add_streaks", folder)
    text = path.read_text()
    assert re.fullmatch(r"\d{14}_add_streaks\.sql", path.name)
    assert text.startswith("-- migrate:up\n") and "\n-- migrate:down\n" in text
    for reminder in ("_version.py", "CHANGELOG.md", "migrations.lock.json", "lock_timeout"):
        assert reminder in text
    assert lint.lint([path]) == ([], 0)
    # Filled in the way it says, it still passes.
    path.write_text(
        text.replace(
            "\n\n-- migrate:down", "\nalter table app.items add column c text;\n\n-- migrate:down"
        )
    )
    assert lint.lint([path]) == ([], 0)


def test_new_command_writes_the_template(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``codezest-db new`` writes through the same function into the checkout's migrations."""
    folder = tmp_path / "db" / "migrations"
    folder.mkdir(parents=True)
    real_new = migrate.new
    monkeypatch.setattr(migrate, "new", lambda name, migrations=None: real_new(name, folder))
    assert main(["new", "add_badges"]) == 0
    (path,) = folder.glob("*_add_badges.sql")
    assert path.read_text() == lint.template("add_badges")


def test_an_installed_wheel_lints_its_own_migrations_clean(
    built_wheel: Path, tmp_path: Path
) -> None:
    """The wheel carries db/lint-acknowledged.toml beside its migrations (CI lints from one)."""
    site = tmp_path / "site"
    with zipfile.ZipFile(built_wheel) as wheel:
        assert "codezest_db/_sql/db/lint-acknowledged.toml" in wheel.namelist()
        wheel.extractall(site)
    result = subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", "lint"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr.strip() == "codezest-db lint: 0 findings (31 acknowledged)"


def test_missing_squawk_or_queries_exit_2_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (path,) = checkout(tmp_path, (up("select 1;"),))
    assert main(["lint", str(path), "--queries", str(tmp_path / "nowhere")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"codezest-db lint: no queries folder {tmp_path / 'nowhere'}\n"
    # No squawk beside this Python, nor on PATH: the [lint] extra is missing.
    monkeypatch.setattr(sys, "executable", str(tmp_path / "bin" / "python"))
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert main(["lint", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "codezest-db lint: squawk is missing: pip install 'codezest-db[lint]'\n"
    )
