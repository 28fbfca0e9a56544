"""Every command fails in one line, never a traceback (CONTRACT.md section 7), run for real."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from codezest_db.testing.servers import free_port

from .conftest import RIGHT_PASSWORD, WRONG_PASSWORD

COMMANDS = ["migrate", "rollback", "status", "check", "stubs", "demo", "seed", "shell"]
COMMANDS.append("check --against 0.2.0")  # a recorded release's queries


def run(command: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CODEZEST_ENV_FILE"] = ""
    return subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", *command.split(), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def one_line(result: subprocess.CompletedProcess[str], command: str) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"codezest-db {command.split()[0]}: ")
    return lines[0]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_malformed_url(command: str) -> None:
    line = one_line(
        run(command, "--url", "postgresql://u:pw-secret@127.0.0.1:1/x?bogus=1"), command
    )
    assert "not a valid PostgreSQL URL" in line and "pw-secret" not in line
    line = one_line(run(command, "--url", "=bad"), command)
    assert "not a valid PostgreSQL URL" in line


@pytest.mark.parametrize("command", COMMANDS)
def test_a_refused_port(command: str) -> None:
    url = f"postgresql://postgres:pw-secret@127.0.0.1:{free_port()}/codezest"
    line = one_line(run(command, "--url", url), command)
    assert "refused" in line.lower() and "pw-secret" not in line


@pytest.mark.parametrize(
    "command", ["check", "check --against 0.2.0", "stubs", "seed", "shell", "status", "rollback"]
)
def test_a_missing_database(command: str, fresh_url: str) -> None:
    """A database that does not exist is named, and left not existing (only migrate creates)."""
    line = one_line(run(command, "--url", fresh_url), command)
    assert "does not exist" in line
    check = run("status", "--url", fresh_url)
    assert "does not exist" in check.stderr


@pytest.mark.parametrize("command", [*COMMANDS, "studio"])
def test_a_wrong_password(command: str, password_server: str) -> None:
    """The server's reason in one line, the password in none (a server that asks for one)."""
    result = run(command, "--url", password_server)
    line = one_line(result, command)
    assert 'password authentication failed for user "postgres"' in line
    assert WRONG_PASSWORD not in result.stderr + result.stdout
    right = password_server.replace(WRONG_PASSWORD, RIGHT_PASSWORD)
    control = run("status", "--url", right)  # the same server with the right password: reachable
    assert control.returncode == 0 and "Applied: 0" in control.stdout, control.stderr
