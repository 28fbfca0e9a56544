"""The documentation site: it builds with ``mkdocs build --strict``, and every Python block runs.

Blocks run against a real, migrated database of their own, in page order:
one that defines ``test_*`` functions is a service's test file and runs
under pytest with the test kit (``codezest_db.testing`` and its servers); one
with a top-level ``await`` runs in ``asyncio.run``; any other is executed as
is. The README's blocks run too (its per-service examples also in
tests/test_readme.py).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import codezest_db
from codezest_db import aio
from codezest_db.testing import TestServer

REPO = Path(__file__).resolve().parent.parent
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
KIT = 'pytest_plugins = ["codezest_db.testing", "codezest_db.testing.servers"]\n'


def blocks() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for number, code in enumerate(re.findall(r"```python\n(.*?)```", page.read_text(), re.S)):
            found.append((f"{page.relative_to(REPO)}#{number + 1}", code))
    return found


def test_there_are_blocks_on_the_pages() -> None:
    pages = {name.split("#")[0] for name, _ in blocks()}
    assert {"README.md", "docs/connections.md", "docs/testing.md", "docs/scaling.md"} <= pages


@pytest.fixture
def docs_database(configured: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated database of this test's own, as ``$DATABASE_URL`` and for both pools."""
    monkeypatch.setenv("DATABASE_URL", configured)
    monkeypatch.setenv("DATABASE_REPLICA_URL", "")
    yield configured
    codezest_db.close()
    asyncio.run(aio.close())
    codezest_db.configure(configured, replica_url="", min_size=0, max_size=4)


def cases() -> list[Any]:
    """The blocks; one that starts a failover formation is slow (CI: one server only)."""
    marks = {True: [pytest.mark.slow, pytest.mark.timeout(600)], False: []}
    return [
        pytest.param(name, code, id=name, marks=marks["ha_cluster" in code])
        for name, code in blocks()
    ]


@pytest.mark.parametrize(("name", "code"), cases())
def test_the_block_runs(
    name: str, code: str, docs_database: str, test_server: TestServer, tmp_path: Path
) -> None:
    if re.search(r"(?m)^(async )?def test_", code):
        (tmp_path / "conftest.py").write_text(KIT)
        (tmp_path / "test_page.py").write_text(code)
        env = {**os.environ, "CODEZEST_TEST_DATABASE_URL": test_server.admin_url}
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert " passed" in result.stdout and "failed" not in result.stdout
        return
    compiled = compile(code, name, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    namespace: dict[str, Any] = {"__name__": "docs"}
    if compiled.co_flags & inspect.CO_COROUTINE:

        async def main() -> None:
            await eval(compiled, namespace)
            await aio.close()

        asyncio.run(main())
    else:
        exec(compiled, namespace)


def test_the_site_builds_strict(tmp_path: Path) -> None:
    pytest.importorskip("mkdocs", reason="the [docs] extra builds the site")
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "api" / "index.html").is_file()
    reference = (tmp_path / "site" / "api" / "index.html").read_text()
    for name in ("codezest_db.configure", "codezest_db.aio.configure", "ConnectionFailed"):
        assert name in reference
