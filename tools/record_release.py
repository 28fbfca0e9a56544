"""Record a release's queries in db/releases/<version>/ for ``codezest-db check --against``.

    python tools/record_release.py                  # queries/ as the current version
    python tools/record_release.py 0.2.0 --from 8e38e3b   # queries/ as they were at a commit

The shapes (parameter and result types) are read on a throwaway embedded
database migrated with the migrations db/migrations.lock.json lists for that
version, so they are what that release's models were checked against. A
recorded release never changes: recording one again with other queries fails.
Run it when cutting a release (see docs/migrations.md, "Rolling deploys").
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from codezest_db import __version__  # noqa: E402
from codezest_db.errors import DatabaseError  # noqa: E402
from codezest_db.tools import releases  # noqa: E402

LOCK = REPO / "db" / "migrations.lock.json"


def migrations_of(version: str, into: Path) -> Path:
    """Copy the migrations *version* shipped (per the lock file) into *into*."""
    into.mkdir()
    manifest = json.loads(LOCK.read_text())
    if version not in manifest:
        raise SystemExit(f"db/migrations.lock.json has no version {version}")
    for name, digest in manifest[version].items():
        path = REPO / "db" / "migrations" / name
        if hashlib.sha256(path.read_bytes()).hexdigest() != digest:
            raise SystemExit(f"{path} differs from what {version} shipped")
        shutil.copyfile(path, into / name)
    return into


def queries_at(ref: str, into: Path) -> Path:
    """queries/ as it was at the git commit *ref*."""
    into.mkdir()
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", f"{ref}:queries"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in names:
        text = subprocess.run(
            ["git", "show", f"{ref}:queries/{name}"], cwd=REPO, capture_output=True, check=True
        ).stdout
        (into / name).write_bytes(text)
    return into


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("version", nargs="?", default=__version__)
    parser.add_argument("--from", dest="ref", help="a git commit to take queries/ from")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        migrations = migrations_of(args.version, Path(tmp, "migrations"))
        queries = REPO / "queries"
        note = "queries/ when recorded"
        if args.ref:
            commit = subprocess.run(
                ["git", "rev-parse", "--short", args.ref],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
            queries = queries_at(args.ref, Path(tmp, "queries"))
            note = f"queries/ at commit {commit}"
        try:
            folder = releases.record(args.version, queries, migrations=migrations, note=note)
        except DatabaseError as exc:
            print(f"record_release: {exc}", file=sys.stderr)
            return 1
    print(f"recorded {args.version} in {folder.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
