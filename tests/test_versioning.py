"""The schema is versioned: a change in db/migrations/ needs a version bump and a CHANGELOG entry.

db/migrations.lock.json records, for each package version, the sha256 of every
migration file it ships. After a schema change: bump ``codezest_db/_version.py``,
add a CHANGELOG.md entry, then record the new version's checksums with::

    python -m tests.test_versioning --record
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import codezest_db
from codezest_db import schema

REPO = Path(__file__).resolve().parent.parent
MIGRATIONS = REPO / "db" / "migrations"
LOCK = REPO / "db" / "migrations.lock.json"
CHANGELOG = REPO / "CHANGELOG.md"
HOW = (
    "bump codezest_db/_version.py, add a CHANGELOG.md entry for the new version, "
    "then run `python -m tests.test_versioning --record`"
)

Manifest = dict[str, dict[str, str]]


def checksums(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.glob("*.sql"))
    }


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version))


def problems(
    manifest: Manifest, current: dict[str, str], version: str, changelog: str
) -> list[str]:
    """Everything wrong between the migrations, the version, the manifest and the changelog."""
    found = []
    recorded = manifest.get(version)
    if recorded is None:
        found.append(f"db/migrations.lock.json has no entry for version {version}: {HOW}")
    elif recorded != current:
        changed = sorted(
            name
            for name in recorded.keys() | current.keys()
            if recorded.get(name) != current.get(name)
        )
        found.append(
            f"db/migrations changed since version {version} was recorded "
            f"({', '.join(changed)}): {HOW}"
        )
    ordered = sorted(manifest, key=_key)
    if ordered and _key(ordered[-1]) > _key(version):
        found.append(f"version {version} is older than {ordered[-1]} in db/migrations.lock.json")
    for older, newer in itertools.pairwise(ordered):
        for name, digest in manifest[older].items():
            if manifest[newer].get(name) != digest:
                found.append(
                    f"{name}, shipped in {older}, differs or is gone in {newer}: a released "
                    "migration never changes (databases have applied it); add a new one"
                )
    for each in manifest:
        if not re.search(rf"^## \[?{re.escape(each)}\]?", changelog, re.MULTILINE):
            found.append(f"CHANGELOG.md has no entry for {each} (a `## [{each}]` heading)")
    return found


def test_migrations_match_the_recorded_version() -> None:
    manifest = json.loads(LOCK.read_text())
    found = problems(
        manifest, checksums(MIGRATIONS), codezest_db.__version__, CHANGELOG.read_text()
    )
    assert found == [], "\n".join(found)


BASE = {"0.1.0": {"1_a.sql": "aa", "2_b.sql": "bb"}}
LOG = "# Changelog\n\n## [0.2.0] - x\n\n## [0.1.0] - y\n"


@pytest.mark.parametrize(
    ("manifest", "current", "version", "changelog", "expected"),
    [
        (BASE, BASE["0.1.0"], "0.1.0", LOG, []),
        # A new migration without a version bump.
        (BASE, {**BASE["0.1.0"], "3_c.sql": "cc"}, "0.1.0", LOG, ["changed since version 0.1.0"]),
        # An edited migration without a version bump.
        (BASE, {"1_a.sql": "zz", "2_b.sql": "bb"}, "0.1.0", LOG, ["(1_a.sql)"]),
        # A bump that nobody recorded.
        (BASE, {**BASE["0.1.0"], "3_c.sql": "cc"}, "0.2.0", LOG, ["no entry for version 0.2.0"]),
        # Recorded, but no CHANGELOG entry.
        (
            {**BASE, "0.3.0": {**BASE["0.1.0"], "3_c.sql": "cc"}},
            {**BASE["0.1.0"], "3_c.sql": "cc"},
            "0.3.0",
            LOG,
            ["CHANGELOG.md has no entry for 0.3.0"],
        ),
        # A released migration edited in a later version.
        (
            {**BASE, "0.2.0": {"1_a.sql": "zz", "2_b.sql": "bb"}},
            {"1_a.sql": "zz", "2_b.sql": "bb"},
            "0.2.0",
            LOG,
            ["1_a.sql, shipped in 0.1.0, differs"],
        ),
    ],
)
def test_the_check_catches_each_mistake(
    manifest: Manifest,
    current: dict[str, str],
    version: str,
    changelog: str,
    expected: list[str],
) -> None:
    found = problems(manifest, current, version, changelog)
    assert len(found) == len(expected), found
    for problem, text in zip(found, expected, strict=True):
        assert text in problem


def test_version_comes_from_one_place() -> None:
    # pyproject.toml reads codezest_db/_version.py; the installed metadata must agree.
    assert importlib.metadata.version("codezest-db") == codezest_db.__version__
    assert 'dynamic = ["version"]' in (REPO / "pyproject.toml").read_text()


def test_cli_version_names_the_package_and_the_newest_migration() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    newest = schema.package_versions()[-1]
    assert result.stdout.strip() == f"codezest-db {codezest_db.__version__} (schema {newest})"
    assert newest == sorted(checksums(MIGRATIONS))[-1].split("_", 1)[0]


def record() -> int:
    """Add the current version's checksums to the manifest; never rewrite a recorded version."""
    manifest: Manifest = json.loads(LOCK.read_text()) if LOCK.exists() else {}
    version, current = codezest_db.__version__, checksums(MIGRATIONS)
    if version in manifest and manifest[version] != current:
        print(f"version {version} is recorded with other checksums: {HOW}", file=sys.stderr)
        return 1
    manifest[version] = current
    LOCK.write_text(json.dumps(manifest, indent=2) + "\n")
    print(f"recorded {len(current)} migration(s) for {version} in {LOCK.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] != ["--record"]:
        raise SystemExit("usage: python -m tests.test_versioning --record")
    raise SystemExit(record())
