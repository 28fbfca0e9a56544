""".env support: DATABASE_URL and pool options from the environment or a .env file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values  # pydantic-settings' parser, the reference

import codezest_db as db
from codezest_db import _config, _env, errors, pool, schema
from codezest_db.cli import main

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of its own, with no settings from the outer environment."""
    for name in list(os.environ):
        if name == "DATABASE_URL" or name.startswith(_env.POOL_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.delenv(_env.ENV_FILE_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_pool_settings_come_from_a_dotenv_file(workdir: Path, database_url: str) -> None:
    (workdir / ".env").write_text(
        f"# a comment\nexport DATABASE_URL='{database_url}'\n"
        "CODEZEST_DB_MAX_SIZE=3\nCODEZEST_DB_TIMEOUT=2.5  # seconds\n"
        "CODEZEST_DB_PREPARE_THRESHOLD=none\n"
    )
    settings = _config.resolve(None)
    assert (settings.url, settings.min_size, settings.max_size) == (database_url, 1, 3)
    assert settings.pool_options["timeout"] == 2.5
    assert settings.connect_options["prepare_threshold"] is None
    # configure() arguments win over the file.
    assert _config.resolve(None, max_size=5).max_size == 5
    # And the pool really uses it.
    db.configure()
    try:
        assert db.pending_migrations() == []
        assert pool.get_pool().max_size == 3
    finally:
        db.close()


def test_the_environment_wins_over_the_file(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / ".env").write_text("DATABASE_URL=postgresql://from-file/x\nCODEZEST_DB_MAX_SIZE=3\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-env/x")
    monkeypatch.setenv("CODEZEST_DB_MAX_SIZE", "7")
    settings = _config.resolve(None)
    assert (settings.url, settings.max_size) == ("postgresql://from-env/x", 7)


def test_another_file_or_none(workdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workdir / ".env").write_text("DATABASE_URL=postgresql://default-file/x\n")
    (workdir / "prod.env").write_text("DATABASE_URL=postgresql://named-file/x\n")
    monkeypatch.setenv(_env.ENV_FILE_VARIABLE, str(workdir / "prod.env"))
    assert _env.getenv("DATABASE_URL") == "postgresql://named-file/x"
    monkeypatch.setenv(_env.ENV_FILE_VARIABLE, "")
    with pytest.raises(errors.ConfigurationError, match="DATABASE_URL"):
        _config.resolve(None)  # no file read at all: no URL
    monkeypatch.setenv(_env.ENV_FILE_VARIABLE, str(workdir / "missing.env"))
    with pytest.raises(errors.ConfigurationError, match=r"missing\.env"):
        _env.getenv("DATABASE_URL")


@pytest.mark.parametrize(
    ("line", "variable"),
    [
        ("CODEZEST_DB_MAX_SIZE=ten", "CODEZEST_DB_MAX_SIZE"),
        ("CODEZEST_DB_TIMEOUT=soon", "CODEZEST_DB_TIMEOUT"),
        ("CODEZEST_DB_CONNECT_TIMEOUT=2.5", "CODEZEST_DB_CONNECT_TIMEOUT"),
    ],
)
def test_a_bad_value_names_its_variable(workdir: Path, line: str, variable: str) -> None:
    (workdir / ".env").write_text(f"DATABASE_URL=postgresql://h/x\n{line}\n")
    with pytest.raises(errors.ConfigurationError, match=variable):
        _config.resolve(None)


def test_the_cli_reads_database_url_from_dotenv(workdir: Path, database_url: str) -> None:
    (workdir / ".env").write_text(f'DATABASE_URL="{database_url}"\n')
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", "status", "--exit-code"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"Applied: {len(schema.package_versions())}" in result.stdout


CLOSED_PORT_URL = "postgresql://postgres@127.0.0.1:1/none?connect_timeout=2"  # loopback, closed


@pytest.mark.parametrize(
    "command", [["check"], ["stubs", "--check", "--output", "stubs_out.py"]], ids=["check", "stubs"]
)
def test_check_and_stubs_read_database_url_from_dotenv(
    workdir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """They used $DATABASE_URL only: a .env's URL was ignored for a throwaway embedded server."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    (workdir / ".env").write_text(f"DATABASE_URL={CLOSED_PORT_URL}\n")
    assert main(command) != 0
    assert "127.0.0.1" in capsys.readouterr().err


def test_env_example_names_only_known_settings() -> None:
    values = dotenv_values(REPO / ".env.example")
    assert "DATABASE_URL" in values
    known = {"DATABASE_URL"} | {
        _env.POOL_PREFIX + option.upper() for option in ("min_size", "max_size", "timeout")
    }
    assert set(values) <= known
    documented = (REPO / ".env.example").read_text()
    for option in sorted(_config.POOL_OPTIONS | {"min_size", "max_size", "prepare_threshold"}):
        assert f"{_env.POOL_PREFIX}{option.upper()}=" in documented, option


TRICKY = r"""
# comment line
   export   SPACED = value with spaces   # and a comment
PLAIN=abc
EMPTY=
HASH=abc#not-a-comment
QUOTED_HASH="a # b"
SINGLE='literal ${PLAIN} \n'
DOUBLE="line\nnext\t\"q\" \\ ${PLAIN}"
MULTI="first
second"
REF=${PLAIN}-${UNSET_FOR_SURE:-fallback}-${HOME_FOR_TEST}
PASSWORD_URL=postgresql://u:p%40ss@db:5432/app?sslmode=require
not a line at all
TRAILING="x"   # comment after quotes
"""


def test_the_parser_reads_files_as_python_dotenv_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME_FOR_TEST", "/home/x")
    monkeypatch.delenv("UNSET_FOR_SURE", raising=False)
    (tmp_path / "tricky.env").write_text(TRICKY)
    expected = {k: v for k, v in dotenv_values(tmp_path / "tricky.env").items() if v is not None}
    assert _env.parse(TRICKY) == expected
    assert expected["REF"] == "abc-fallback-/home/x"  # the sample covers what it claims
    assert expected["MULTI"] == "first\nsecond"
