"""``codezest-db check --against VERSION``: a recorded release's queries on the current schema.

Each release's queries are recorded in db/releases/<version>/ (tools/record_release.py);
the checks run them on real databases whose schema a scratch migration changed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import codezest_db
from codezest_db import migrate
from codezest_db._query.parse import domain_files, load_domain
from codezest_db._resources import migrations_dir, queries_dir, releases_dir
from codezest_db.cli import main
from codezest_db.errors import ConfigurationError
from codezest_db.tools.describe import Finding
from codezest_db.tools.releases import (
    SHAPES,
    check_against,
    known_versions,
    load_release,
    previous_release,
    record,
    version_key,
)

REPO = Path(__file__).resolve().parent.parent
LAST = previous_release(queries_dir())
HOW = "run `python tools/record_release.py VERSION` when cutting a release"


def migrated_with(url: str, tmp_path: Path, change: str) -> None:
    """Migrate *url* with the shipped migrations plus one more that runs *change*."""
    folder = tmp_path / "migrations"
    shutil.copytree(migrations_dir(), folder)
    (folder / "29991231000000_scratch.sql").write_text(
        f"-- migrate:up\n{change}\n\n-- migrate:down\nselect 1;\n"
    )
    migrate.up(url, migrations=folder)


def by_query(findings: list[Finding]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in findings:
        found.setdefault(f.query, []).append(str(f))
    return found


def test_there_is_a_last_release_and_it_is_not_the_working_tree() -> None:
    assert LAST is not None
    assert LAST in known_versions()
    assert version_key(LAST) <= version_key(codezest_db.__version__)


def test_the_last_release_runs_on_the_current_schema(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert LAST is not None
    findings = check_against(database_url, LAST)
    assert findings == [], "\n".join(map(str, findings))
    assert main(["check", "--against", LAST, "--url", database_url]) == 0
    assert capsys.readouterr().out.strip() == f"every query of {LAST} runs on this schema"


def test_a_renamed_column_breaks_the_old_queries_naming_each(
    empty_database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    migrated_with(
        empty_database_url,
        tmp_path,
        "alter table auth.users rename column last_login_at to last_seen_at;",
    )
    found = by_query(check_against(empty_database_url, "0.2.0"))
    text = (releases_dir() / "0.2.0" / "queries" / "auth.sql").read_text()
    uses = {
        f"auth.{name}"
        for name, body in re.findall(r"^-- name: (\w+).*\n((?:(?!-- name:).*\n?)*)", text, re.M)
        if "last_login_at" in body
    }
    assert len(uses) >= 5
    assert set(found) == uses, "\n".join(line for lines in found.values() for line in lines)
    (line,) = found["auth.get_user_by_id"]
    assert re.fullmatch(
        r"db/releases/0\.2\.0/queries/auth\.sql:\d+: auth\.get_user_by_id: 0\.2\.0's query "
        r'fails as codezest_auth: column "last_login_at" does not exist',
        line,
    ), line
    assert main(["check", "--against", "0.2.0", "--url", empty_database_url]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == len(uses) + 1  # one line per broken query, then the count
    assert err[-1] == f"codezest-db check: {len(uses)} finding(s)"


def test_each_kind_of_break_is_found(empty_database_url: str, tmp_path: Path) -> None:
    migrated_with(
        empty_database_url,
        tmp_path,
        """
        alter table notifications.notifications add column channel text not null default 'x';
        alter table notifications.notifications alter column channel drop default;
        alter table payments.invoices alter column amount_minor type numeric;
        alter table payments.invoices alter column issued_at type timestamp;
        alter table learning.modules alter column title drop not null;
        alter type payments."InvoiceStatus" add value 'DISPUTED';
        revoke select on activity.analytics_events from codezest_activity;
        """,
    )
    findings = check_against(empty_database_url, "0.2.0")
    text = "\n".join(map(str, findings))
    found = by_query(findings)
    (insert,) = found["notifications.create_notification"]
    assert "column channel: notifications.notifications.channel is NOT NULL without a default" in (
        insert
    )
    get = "\n".join(found["payments.get_invoice"])
    assert "column amount_minor: it is numeric now, int8 in 0.2.0" in get
    assert "column issued_at: it is timestamp now, timestamptz in 0.2.0" in get
    assert 'column status: payments."InvoiceStatus" has labels 0.2.0\'s enum lacks' in get
    assert "parameter :amount_minor is numeric now, int8 in 0.2.0" in "\n".join(
        found["payments.create_invoice"]
    )
    assert any("column title: it can be NULL now" in f for f in found["learning.get_module"]), text
    assert "fails as codezest_activity: permission denied for table analytics_events" in "\n".join(
        found["activity.list_events_by_name"]
    )
    # Changes no old query notices are not findings: one query of each domain is untouched.
    assert "auth.get_user_by_id" not in found


def test_a_compatible_change_is_no_finding(empty_database_url: str, tmp_path: Path) -> None:
    """A widened type (int4 to int8), a new column with a default or NULL, a new table."""
    migrated_with(
        empty_database_url,
        tmp_path,
        """
        alter table notifications.notifications add column channel text;
        alter table auth.users add column nickname text not null default '';
        create table auth.badges (id uuid primary key);
        alter table learning.modules alter column position type bigint;
        """,
    )
    findings = check_against(empty_database_url, "0.2.0")
    assert findings == [], "\n".join(map(str, findings))


def test_an_unknown_version_is_one_line_naming_the_known_ones(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)  # no server is started for it
    assert main(["check", "--against", "9.9.9"]) == 2
    captured = capsys.readouterr()
    known = ", ".join(known_versions())
    assert captured.err == f"codezest-db check: no recorded release '9.9.9'; known: {known}\n"
    assert captured.out == ""
    with pytest.raises(ConfigurationError, match=r"the known ones are 0\.2\.0"):
        load_release("9.9.9")


def test_against_and_plans_are_separate_checks(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["check", "--plans", "--against", "0.2.0"])
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_installed_wheel_checks_against_its_recorded_release(
    built_wheel: Path, tmp_path: Path, database_url: str
) -> None:
    """A service's CI runs it from the installed package: the wheel carries db/releases/."""
    site = tmp_path / "site"
    with zipfile.ZipFile(built_wheel) as wheel:
        assert f"codezest_db/_sql/db/releases/0.2.0/{SHAPES}" in wheel.namelist()
        wheel.extractall(site)
    result = subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", "check", "--against", "0.2.0"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(site), "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "every query of 0.2.0 runs on this schema"


# ---- the records ------------------------------------------------------------------


@pytest.mark.parametrize("version", known_versions())
def test_each_record_describes_exactly_its_queries(version: str) -> None:
    release = load_release(version)
    names = {spec.qualname for specs in release.specs.values() for spec in specs}
    assert names == set(release.shapes)
    document = json.loads((releases_dir() / version / SHAPES).read_text())
    assert document["version"] == version


def test_record_copies_the_queries_and_never_rewrites_a_release(
    database_url: str, tmp_path: Path
) -> None:
    root = tmp_path / "releases"
    folder = record("9.0.0", queries_dir(), root=root, url=database_url, note="test")
    assert sorted(p.name for p in (folder / "queries").iterdir()) == sorted(
        p.name for p in queries_dir().glob("*.sql")
    )
    release = load_release("9.0.0", root)
    specs = {d: load_domain(d, f) for d, f in domain_files(queries_dir()).items()}
    assert set(release.shapes) == {s.qualname for v in specs.values() for s in v}
    assert check_against(database_url, "9.0.0", root) == []
    before = (folder / SHAPES).read_bytes()
    record("9.0.0", queries_dir(), root=root, url=database_url)  # the same: nothing changes
    assert (folder / SHAPES).read_bytes() == before
    other = tmp_path / "other"
    shutil.copytree(queries_dir(), other)
    (other / "auth.sql").write_text((other / "auth.sql").read_text() + "\n-- edited\n")
    with pytest.raises(ConfigurationError, match="a release never changes"):
        record("9.0.0", other, root=root, url=database_url)
    assert (folder / SHAPES).read_bytes() == before
    assert previous_release(queries_dir(), root) is None  # its only release is the tree
    assert previous_release(other, root) == "9.0.0"


def problems(recorded: dict[str, bool], current: str, changelog: str) -> list[str]:
    """What is wrong between the records, the version and the changelog.

    *recorded* maps each recorded version to whether its queries equal queries/.
    """
    found = []
    released = re.findall(r"^## \[(\d[^\]]*)\]", changelog, re.M)
    oldest = min(recorded, key=version_key) if recorded else None
    for version in released:
        if oldest and version_key(version) >= version_key(oldest) and version not in recorded:
            found.append(f"CHANGELOG.md releases {version} but db/releases has none: {HOW}")
    unreleased = re.search(r"^## \[Unreleased\]", changelog, re.M)
    if recorded.get(current) is False and not unreleased:
        found.append(
            f"queries/ differ from what {current} recorded and CHANGELOG.md has no "
            "[Unreleased] section: a released version's queries never change; note the change "
            f"under [Unreleased] and release it as a new version ({HOW})"
        )
    return found


def test_the_records_follow_the_changelog() -> None:
    current = {p.name: p.read_text() for p in queries_dir().glob("*.sql")}
    recorded = {
        version: {
            p.name: p.read_text() for p in (releases_dir() / version / "queries").glob("*.sql")
        }
        == current
        for version in known_versions()
    }
    found = problems(recorded, codezest_db.__version__, (REPO / "CHANGELOG.md").read_text())
    assert found == [], "\n".join(found)


LOG = "# Changelog\n\n## [0.3.0] - x\n\n## [0.2.0] - y\n\n## [0.1.0] - z\n"


@pytest.mark.parametrize(
    ("recorded", "current", "changelog", "expected"),
    [
        ({"0.2.0": False, "0.3.0": True}, "0.3.0", LOG, []),
        # Unreleased query changes on top of the last release.
        ({"0.2.0": False, "0.3.0": False}, "0.3.0", "## [Unreleased]\n" + LOG, []),
        # Queries changed after the release, with no word of it.
        ({"0.2.0": False, "0.3.0": False}, "0.3.0", LOG, ["differ from what 0.3.0 recorded"]),
        # Released without recording its queries.
        ({"0.2.0": False}, "0.3.0", LOG, ["releases 0.3.0 but db/releases has none"]),
    ],
)
def test_the_rules_catch_each_mistake(
    recorded: dict[str, bool], current: str, changelog: str, expected: list[str]
) -> None:
    found = problems(recorded, current, changelog)
    assert len(found) == len(expected), found
    for problem, text in zip(found, expected, strict=True):
        assert text in problem


def test_the_tool_never_rewrites_a_release() -> None:
    """tools/record_release.py refuses to record a version again with other queries."""
    assert LAST is not None  # its queries are not queries/ (previous_release says so)
    result = subprocess.run(
        [sys.executable, str(REPO / "tools" / "record_release.py"), LAST],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"release {LAST} is recorded with other queries" in result.stderr
