"""The codezest_db.testing plugin, as a service's test suite uses it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from codezest_db.testing import TestServer

TESTING = Path(__file__).resolve().parent.parent / "docs" / "testing.md"

SERVICE_TEST = """
from codezest_db import queries

def test_signup(conn):
    user = queries.auth.create_user(
        conn, email="svc@example.com", password_hash="h", name="S", role="STUDENT"
    )
    assert queries.auth.get_user_by_id(conn, id=user.id) == user
"""


def run_service_suite(
    tmp_path: Path,
    env: dict[str, str],
    tests: str = SERVICE_TEST,
    conftest: str = 'pytest_plugins = ["codezest_db.testing"]\n',
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_service.py").write_text(tests)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )


def test_a_service_suite_gets_a_migrated_database(tmp_path: Path) -> None:
    env = dict(os.environ)
    result = run_service_suite(tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


RESTORED = """
import asyncio

import codezest_db as db
from codezest_db import aio


def test_the_service_configures_its_pools(database_url):
    db.configure(database_url, replica_url="")
    aio.configure(database_url, replica_url="")


def test_configured_gets_a_database_of_its_own(configured):
    assert db.queries.learning.list_languages() == []


def test_afterwards_the_pools_work_on_the_service_database_again(database_url):
    assert isinstance(db.queries.learning.list_languages(), list)

    async def main():
        try:
            return await aio.queries.learning.list_languages()
        finally:
            await aio.close()

    assert isinstance(asyncio.run(main()), list)
"""


def test_configured_gives_the_pools_back_as_they_were(tmp_path: Path) -> None:
    """After a ``configured`` test the pools no longer point at its dropped database."""
    result = run_service_suite(tmp_path, dict(os.environ), tests=RESTORED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_an_unreachable_server_fails_the_session_and_says_why(tmp_path: Path) -> None:
    env = {**os.environ, "CODEZEST_TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}
    result = run_service_suite(tmp_path, env)
    assert result.returncode != 0
    assert "CODEZEST_TEST_DATABASE_URL is set but its server does not answer" in result.stdout
    assert "passed" not in result.stdout and "skipped" not in result.stdout


def test_the_docs_example_runs_as_a_service_suite(tmp_path: Path, test_server: TestServer) -> None:
    section = TESTING.read_text().split("## Tests for services", 1)[1].split("\n## ", 1)[0]
    conftest, tests = re.findall(r"```python\n(.*?)```", section, re.S)[:2]
    env = {**os.environ, "CODEZEST_TEST_DATABASE_URL": test_server.admin_url}
    result = run_service_suite(tmp_path, env, tests=tests, conftest=conftest)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
