"""The codezest_db.testing plugin, as a service's test suite uses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SERVICE_TEST = """
from codezest_db import queries

def test_signup(conn):
    user = queries.auth.create_user(
        conn, email="svc@example.com", password_hash="h", name="S", role="STUDENT"
    )
    assert queries.auth.get_user_by_id(conn, id=user.id) == user
"""


def run_service_suite(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["codezest_db.testing"]\n')
    (tmp_path / "test_service.py").write_text(SERVICE_TEST)
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


def test_an_unreachable_server_fails_the_session_and_says_why(tmp_path: Path) -> None:
    env = {**os.environ, "CODEZEST_TEST_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/none"}
    result = run_service_suite(tmp_path, env)
    assert result.returncode != 0
    assert "CODEZEST_TEST_DATABASE_URL is set but its server does not answer" in result.stdout
    assert "passed" not in result.stdout and "skipped" not in result.stdout
