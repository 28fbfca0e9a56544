"""Every ``codezest_db.`` name in the repository's text resolves: no stale references.

A docstring, comment or page that names a module (``codezest_db.tools.describe``)
or an attribute of one (``codezest_db.testing.factories.make_user``) must name
something that imports or resolves today, and a path such as
``codezest_db/tools/check.py`` must be a file. A module renamed without its
references (check.py once named ``_describe`` and describe.py ``_plan``, both
gone) fails here with the file and line of each reference.

Scanned: every file of the checkout with a suffix in `SUFFIXES`, outside
directories tools or git create (`IGNORED_DIRS`, any dot directory) and the
build copy ``codezest_db/_sql``. The changelog is scanned too: an entry about a
removed module names it by its old path without the package (``tools/plan.py``).
"""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SUFFIXES = frozenset({".py", ".pyi", ".md", ".toml", ".cfg", ".ini", ".yaml", ".yml", ".sql"})
IGNORED_DIRS = frozenset({"__pycache__", "build", "dist", "node_modules", "site"})
BUILD_COPY = REPO / "codezest_db" / "_sql"  # queries and migrations copied in for the wheel

PACKAGE = "codezest" + "_db"  # spelled apart so the examples below are not references
DOTTED = re.compile(rf"(?<![\w.]){PACKAGE}(?:\.[A-Za-z_]\w*)+")
FILE_PATH = re.compile(rf"(?<![\w./]){PACKAGE}/[\w/]+\.pyi?\b")


def _scanned() -> Iterator[Path]:
    for folder, dirs, files in os.walk(REPO):
        here = Path(folder)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".") and d not in IGNORED_DIRS and here / d != BUILD_COPY
        )
        for name in sorted(files):
            if Path(name).suffix in SUFFIXES:
                yield here / name


def _resolves(name: str) -> bool:
    """Whether dotted *name* is a module, or an attribute reached from one.

    Raises whatever importing an existing module raises (a missing extra, say):
    a reference that cannot be checked is not taken as good.
    """
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            found: object = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name is not None and module_name.startswith(exc.name):
                continue  # this prefix is no module: try a shorter one
            raise
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def _stale(path: Path, label: str) -> Iterator[str]:
    """Each reference in *path* that names nothing, as ``label:line: what``."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for match in DOTTED.finditer(line):
            if not _resolves(match[0]):
                yield f"{label}:{number}: {match[0]} does not exist"
        for match in FILE_PATH.finditer(line):
            if not (REPO / match[0]).is_file():
                yield f"{label}:{number}: {match[0]} is not a file"


def test_the_checker_tells_a_stale_name_from_a_good_one(tmp_path: Path) -> None:
    good = [
        PACKAGE,
        f"{PACKAGE}.tools.describe",
        f"{PACKAGE}.tools.nullability.Nullability",
        f"{PACKAGE}.testing.factories.make_user",
        f"{PACKAGE}.queries.learning.list_languages",  # a domain that loads lazily
        f"{PACKAGE}.aio.queries.learning",
    ]
    stale = [
        f"{PACKAGE}._describe",
        f"{PACKAGE}._plan",
        f"{PACKAGE}.tools.plan",
        f"{PACKAGE}.testing._plans",
        f"{PACKAGE}.check",
        f"{PACKAGE}.testing.factories.make_nothing",
    ]
    assert [n for n in good if not _resolves(n)] == []
    assert [n for n in stale if _resolves(n)] == []
    page = tmp_path / "page.md"
    page.write_text(
        f"See `{PACKAGE}.tools.plan` and {PACKAGE}/tools/plan.py; "
        f"not `{PACKAGE}.tools.plans`, {PACKAGE}/tools/plans.py.\n",
        encoding="utf-8",
    )
    assert list(_stale(page, "page.md")) == [
        f"page.md:1: {PACKAGE}.tools.plan does not exist",
        f"page.md:1: {PACKAGE}/tools/plan.py is not a file",
    ]


def test_the_scan_covers_the_package_the_tests_and_the_pages() -> None:
    scanned = {str(p.relative_to(REPO)) for p in _scanned()}
    for expected in (
        "README.md",
        "CHANGELOG.md",
        "docs/scaling.md",
        "codezest_db/tools/check.py",
        "codezest_db/testing/factories.py",
        "tests/test_references.py",
        "bench/bench_scale.py",
        "queries/learning.sql",
    ):
        assert expected in scanned, expected


def test_every_reference_names_something_that_exists() -> None:
    stale = [text for p in _scanned() for text in _stale(p, str(p.relative_to(REPO)))]
    assert stale == [], "\n".join(stale)
