"""The deploy path: explicit targets, any libpq URL, waiting, concurrent runs, schema version."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

import codezest_db as db
from codezest_db import errors, migrate, schema
from codezest_db.cli import main
from codezest_db.testing import TestServer

from .conftest import exception_chain
from .pgcluster import Cluster, free_port, loopback_host_name, running_cluster

SECRET = "s3cr3t-Pa55"


def versions() -> list[str]:
    return schema.package_versions()


def cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run ``codezest-db`` in a fresh process, as a deployment would."""
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CODEZEST_ENV_FILE")}
    return subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# -- 1. no silent default -------------------------------------------------------------------


@pytest.mark.parametrize("command", ["migrate", "rollback", "status"])
def test_deployment_commands_need_an_explicit_database(command: str, tmp_path: Path) -> None:
    embedded_dir = tmp_path / "pg"
    result = cli(command, cwd=tmp_path, env={"CODEZEST_EMBEDDED_DIR": str(embedded_dir)})
    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(f"codezest-db {command}: no database")
    assert all(word in line for word in ("--url", "DATABASE_URL", "--embedded"))
    assert not embedded_dir.exists()  # the embedded server was not started


def test_migrate_embedded_is_explicit(tmp_path: Path) -> None:
    # Not under tmp_path: another pytest run as root resets /tmp/pytest-of-root to
    # 0700, which locks out the embedded server's own system user.
    data = Path(tempfile.mkdtemp(prefix="codezest-embedded-")) / "pg"
    env = {"CODEZEST_EMBEDDED_DIR": str(data)}
    try:
        first = cli("migrate", "--embedded", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert f"embedded PostgreSQL in {data}" in first.stderr
        assert "Applied: 20261124000500_activity.sql" in first.stdout
        again = cli("status", "--embedded", "--exit-code", env=env, cwd=tmp_path)
        assert again.returncode == 0, again.stderr
        assert "Pending: 0" in again.stdout
    finally:
        shutil.rmtree(data.parent, ignore_errors=True)
    both = cli("migrate", "--embedded", "--url", "postgresql://x@127.0.0.1/x", cwd=tmp_path)
    assert both.returncode == 2  # one target or the other, never both


# -- 2. any URL libpq accepts ---------------------------------------------------------------


@pytest.fixture(scope="module")
def named_host() -> tuple[str, list[str]]:
    return loopback_host_name()


@pytest.fixture(scope="module")
def host_name(named_host: tuple[str, list[str]]) -> str:
    return named_host[0]


@pytest.fixture(scope="module")
def plain_cluster(named_host: tuple[str, list[str]]) -> Iterator[Cluster]:
    """A server without TLS, as the postgres image runs in compose."""
    with running_cluster(also_listen=tuple(named_host[1])) as cluster:
        yield cluster


@pytest.fixture(scope="module")
def tls_cluster(named_host: tuple[str, list[str]]) -> Iterator[Cluster]:
    """A server that accepts TCP clients over TLS only, with a self-signed certificate."""
    name, addresses = named_host
    with running_cluster(tls_for=name, also_listen=tuple(addresses)) as cluster:
        yield cluster


def test_migrate_reaches_a_server_by_host_name_without_tls(
    plain_cluster: Cluster, host_name: str
) -> None:
    url = plain_cluster.url("by_name", host=host_name)  # no sslmode: libpq's prefer
    assert main(["migrate", "--url", url]) == 0
    assert migrate.applied(url) == versions()
    assert main(["status", "--exit-code", "--url", url]) == 0


def test_migrate_uses_tls_when_the_server_offers_it(tls_cluster: Cluster, host_name: str) -> None:
    # This server rejects plain-text TCP clients: success means dbmate spoke TLS.
    url = tls_cluster.url("over_tls", host=host_name)
    assert main(["migrate", "--url", url]) == 0
    assert migrate.applied(url) == versions()
    with psycopg.connect(url) as conn:
        count = conn.execute("select count(*) from public.schema_migrations").fetchone()
    assert count == (len(versions()),)


SSL_CASES = [
    {},
    {"sslmode": "disable"},
    {"sslmode": "allow"},
    {"sslmode": "prefer"},
    {"sslmode": "require"},
    {"sslmode": "verify-ca"},
    {"sslmode": "verify-full"},
    {"sslmode": "verify-full", "sslrootcert": "<cert>"},
    {"sslmode": "verify-ca", "sslrootcert": "<cert>"},
]


@pytest.mark.parametrize("server", ["plain", "tls"])
@pytest.mark.parametrize("host", ["name", "127.0.0.1"])
@pytest.mark.parametrize("ssl", SSL_CASES, ids=lambda case: "-".join(case.values()) or "none")
def test_sslmode_means_what_libpq_says(
    server: str,
    host: str,
    ssl: dict[str, str],
    plain_cluster: Cluster,
    tls_cluster: Cluster,
    host_name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """migrate (psycopg, then dbmate), and dbmate alone, succeed exactly when libpq connects."""
    cluster = tls_cluster if server == "tls" else plain_cluster
    cert = str(tls_cluster.cert)
    params = {k: cert if v == "<cert>" else v for k, v in ssl.items()}
    url = cluster.url("sslmodes", host=host_name if host == "name" else host, **params)
    try:
        with psycopg.connect(cluster.url(host=host_name if host == "name" else host, **params)):
            libpq_connects = True
    except psycopg.OperationalError:
        libpq_connects = False
    code = main(["migrate", "--url", url])
    captured = capsys.readouterr()
    assert code == (0 if libpq_connects else 1), captured.err
    if code:
        one_line(captured.err)
    else:
        assert migrate.applied(url) == versions()
    # dbmate alone (our psycopg steps skipped) agrees with libpq too.
    try:
        migrate.run(cluster.url(host=host_name if host == "name" else host, **params), "status")
    except errors.MigrationError:
        dbmate_connects = False
    else:
        dbmate_connects = True
    assert dbmate_connects == libpq_connects


# -- 3. waiting, and concurrent runs --------------------------------------------------------


def test_wait_gives_up_after_the_timeout_with_one_line() -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    result = cli(
        "migrate",
        "--wait",
        "--wait-timeout",
        "2",
        "--url",
        f"postgresql://app:{SECRET}@127.0.0.1:{port}/x",
    )
    waited = time.monotonic() - started
    assert result.returncode == 1
    line = one_line(result.stderr)
    assert f"127.0.0.1:{port} did not answer within 2s" in line
    assert SECRET not in result.stderr + result.stdout
    assert waited >= 2  # it waited the whole timeout (never an upper bound: machines vary)


def test_without_wait_an_absent_server_fails_at_once_with_one_line() -> None:
    result = cli("migrate", "--url", f"postgresql://app:{SECRET}@127.0.0.1:{free_port()}/x")
    assert result.returncode == 1
    assert "Connection refused" in one_line(result.stderr)
    assert SECRET not in result.stderr


def test_wait_succeeds_when_the_server_starts_a_moment_later() -> None:
    cluster = Cluster()  # initialised, not started
    try:
        url = cluster.url("late")
        waiting = subprocess.Popen(
            [sys.executable, "-m", "codezest_db.cli", "migrate", "--wait", "--url", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)
        assert waiting.poll() is None  # still waiting for the server
        cluster.start()
        out, err = waiting.communicate(timeout=120)
        assert waiting.returncode == 0, err
        assert "Applied: 20261124000500_activity.sql" in out
        assert migrate.applied(url) == versions()
    finally:
        cluster.remove()


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_concurrent_migrate_runs_on_a_database_not_yet_created(round_: int, fresh_url: str) -> None:
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "codezest_db.cli", "migrate", "--url", fresh_url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [(run.communicate(timeout=300), run.returncode) for run in runs]
    assert [code for _, code in results] == [0] * len(runs), [err for (_, err), _ in results]
    applying = [line for (out, _), _ in results for line in out.splitlines() if "Applying:" in line]
    # Every migration was applied by exactly one of the runs.
    assert sorted(line.split("Applying: ")[1] for line in applying) == sorted(
        p.name for p in migrate.migrations_dir().glob("*.sql")
    )
    assert migrate.applied(fresh_url) == versions()


# -- 4. status and the schema version -------------------------------------------------------


def test_status_exit_code_and_the_runtime_check(
    empty_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = empty_database_url
    assert db.pending_migrations(url) == versions()  # nothing applied yet
    assert main(["migrate", "--url", url]) == 0
    assert main(["status", "--exit-code", "--url", url]) == 0
    assert db.pending_migrations(url) == []
    db.require_current(url)
    assert main(["rollback", "--url", url]) == 0
    capsys.readouterr()
    assert main(["status", "--exit-code", "--url", url]) == 1
    assert "Pending: 1" in capsys.readouterr().out
    assert main(["status", "--url", url]) == 0  # without --exit-code, a report only
    newest = versions()[-1]
    assert db.pending_migrations(url) == [newest]
    with pytest.raises(errors.SchemaOutOfDate) as raised:
        db.require_current(url)
    assert raised.value.pending == [newest]
    assert newest in str(raised.value)
    assert isinstance(raised.value, errors.DatabaseError)


def test_the_runtime_check_uses_the_configured_pool(database_url: str) -> None:
    db.configure(database_url, min_size=0, max_size=1)
    try:
        assert db.pending_migrations() == []
        db.require_current()
    finally:
        db.close()


@pytest.fixture
def role_without_privileges(database_url: str, test_server: TestServer) -> Iterator[str]:
    """The URL of the migrated database as a login role that may not read schema_migrations."""
    role = f"codezest_nopriv_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(test_server.admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("create role {} login").format(sql.Identifier(role)))
    params = psycopg.conninfo.conninfo_to_dict(database_url)
    params["user"] = role
    try:
        yield psycopg.conninfo.make_conninfo("", **params)
    finally:
        with psycopg.connect(test_server.admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("drop role {}").format(sql.Identifier(role)))


def test_a_permission_problem_is_an_error_never_nothing_applied(
    role_without_privileges: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = role_without_privileges
    for command in (["status"], ["status", "--exit-code"], ["rollback"], ["migrate"]):
        assert main([*command, "--url", url]) == 1
        err = one_line(capsys.readouterr().err)
        assert "permission denied" in err, err
        assert command[0] == "migrate" or "schema_migrations" in err, err
    with pytest.raises(errors.DatabaseError) as raised:
        db.pending_migrations(url)
    assert not isinstance(raised.value, errors.SchemaOutOfDate)
    assert "permission denied" in str(raised.value)


# -- secrets never ride along in an exception chain -----------------------------------------


def _assert_secret_free(exc: BaseException) -> None:
    for link in exception_chain(exc):
        shown = [str(link), repr(link), repr(link.args), repr(vars(link))]
        shown.append(repr(getattr(link, "pgconn", None)))
        assert not any(SECRET in text for text in shown), (type(link), shown)


BAD_TARGETS = [
    f"postgresql://app:{SECRET}@127.0.0.1:{{port}}/x",
    f"host=127.0.0.1 port={{port}} user=app password={SECRET} dbname=x",
    f"host=127.0.0.1 port={{port}} user=app password='{SECRET}' dbname=x",
    f"postgresql://app:{SECRET}%zz@127.0.0.1:{{port}}/x",
    f"host=127.0.0.1 port={{port}} password='{SECRET}",
    f"postgresql://app@127.0.0.1:{{port}}/x?password={SECRET}&sslmode=bogus",
]


@pytest.mark.parametrize("target", BAD_TARGETS)
@pytest.mark.parametrize(
    "call",
    [
        lambda url: migrate.up(url),
        lambda url: migrate.up(url, wait=0.1),
        lambda url: migrate.rollback(url),
        lambda url: migrate.status(url),
        lambda url: migrate.run(url, "status"),
        lambda url: db.pending_migrations(url),
        lambda url: db.require_current(url),
    ],
    ids=["up", "up-wait", "rollback", "status", "dbmate", "pending", "require"],
)
def test_no_secret_in_any_exception_chain(target: str, call: object) -> None:
    url = target.format(port=free_port())
    with pytest.raises(errors.DatabaseError) as raised:
        call(url)  # type: ignore[operator]
    _assert_secret_free(raised.value)


def test_cli_failure_never_shows_the_secret(tmp_path: Path) -> None:
    for target in BAD_TARGETS:
        result = cli("migrate", "--url", target.format(port=free_port()), cwd=tmp_path)
        assert result.returncode == 1
        assert SECRET not in result.stderr + result.stdout
        one_line(result.stderr)
