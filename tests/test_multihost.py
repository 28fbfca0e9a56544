"""Multi-host URLs everywhere (CONTRACT.md section 9, issue 22 item 1), run for real.

Cheap tests list a closed loopback port first and the test server second:
libpq (and psycopg) try the hosts in order, so every pool, check and command
must get past the dead one. The slow ones run on a pg_auto_failover
formation (``ha_cluster``) with the standby listed first: migrations land on
the primary, and ``migrate --wait`` waits for a primary to exist.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import codezest_db as db
from codezest_db import _config, aio, errors, migrate, queries, schema
from codezest_db.testing import TestServer
from codezest_db.testing.ha import HACluster
from codezest_db.testing.servers import Replica, free_port
from tests.conftest import run_async
from tests.test_redaction import SECRET, assert_no_secret


def multi_host(url: str, *, first: int | None = None, **params: str) -> str:
    """*url* with a closed loopback port (or *first*) listed before its own host.

    A URL (``postgresql://u:pw@h1:p1,h2:p2/db?...``) for a TCP server, a
    key=value string for a unix socket; the password is `SECRET` (the test
    server trusts loopback, so it is sent and ignored).
    """
    parts = psycopg.conninfo.conninfo_to_dict(url)
    host, port = str(parts.get("host") or "127.0.0.1"), str(parts.get("port") or 5432)
    closed = first or free_port()
    if host.startswith("/"):
        options = {**parts, "host": f"127.0.0.1,{host}", "port": f"{closed},{port}"}
        return psycopg.conninfo.make_conninfo("", password=SECRET, **options, **params)
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return (
        f"postgresql://{parts.get('user') or 'postgres'}:{SECRET}@127.0.0.1:{closed},"
        f"{host}:{port}/{parts['dbname']}" + (f"?{query}" if query else "")
    )


def server_port(test_server: TestServer) -> int:
    with psycopg.connect(test_server.admin_url) as conn:
        return conn.info.port


@pytest.fixture
def pools_closed() -> Iterator[None]:
    yield
    db.close()
    run_async(aio.close())


def cli(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CODEZEST_ENV_FILE"] = ""
    return subprocess.run(
        [sys.executable, "-m", "codezest_db.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr
    return result.stdout


# -- the pools, replica_url, pending_migrations --------------------------------


def test_the_sync_pool_gets_past_a_dead_first_host(
    database_url: str, test_server: TestServer, pools_closed: None
) -> None:
    db.configure(multi_host(database_url, target_session_attrs="read-write"), min_size=0)
    with db.connection() as conn:
        row = conn.execute("select inet_server_port()").fetchone()
    assert row is not None and row[0] in (server_port(test_server), None)  # None: a socket
    email = f"mh-{uuid.uuid4().hex[:8]}@example.com"
    user = queries.auth.create_user(
        email=email, password_hash="x", name="multi host", role="STUDENT"
    )
    assert queries.auth.get_user_by_email(email=email) == user


def test_the_asyncio_pool_gets_past_a_dead_first_host(
    database_url: str, pools_closed: None
) -> None:
    async def main() -> None:
        aio.configure(multi_host(database_url, target_session_attrs="read-write"), min_size=0)
        email = f"mh-{uuid.uuid4().hex[:8]}@example.com"
        user = await aio.queries.auth.create_user(
            email=email, password_hash="x", name="multi host", role="STUDENT"
        )
        assert await aio.queries.auth.get_user_by_email(email=email) == user
        async with aio.connection() as conn:
            cursor = await conn.execute("select 1")
            assert await cursor.fetchone() == (1,)

    run_async(main())


@pytest.mark.parametrize("attrs", ["prefer-standby", "any"])
def test_a_replica_url_of_several_hosts(database_url: str, attrs: str, pools_closed: None) -> None:
    """With no standby up, prefer-standby settles for the primary: reads still work."""
    url = multi_host(database_url, target_session_attrs="read-write")
    replica = multi_host(database_url, target_session_attrs=attrs)
    db.configure(url, replica_url=replica, min_size=0, max_replica_lag=60)
    email = f"mh-{uuid.uuid4().hex[:8]}@example.com"
    user = queries.auth.create_user(
        email=email, password_hash="x", name="multi host", role="STUDENT"
    )
    assert queries.auth.get_user_by_email(email=email) == user

    async def main() -> None:
        aio.configure(url, replica_url=replica, min_size=0, max_replica_lag=60)
        assert await aio.queries.auth.get_user_by_email(email=email) == user

    run_async(main())


def test_pending_migrations_and_require_current(database_url: str) -> None:
    url = multi_host(database_url, target_session_attrs="read-write")
    assert db.pending_migrations(url) == []
    db.require_current(url)
    assert schema.applied_versions(url) == schema.package_versions()


def test_a_multi_host_url_in_key_value_form(database_url: str) -> None:
    params = psycopg.conninfo.conninfo_to_dict(multi_host(database_url))
    assert db.pending_migrations(psycopg.conninfo.make_conninfo("", **params)) == []


# -- migrate: pinned to the host that takes writes -----------------------------


def test_primary_url_pins_the_host_that_answers(database_url: str) -> None:
    url = multi_host(database_url)
    pinned = psycopg.conninfo.conninfo_to_dict(migrate.primary_url(url))
    own = psycopg.conninfo.conninfo_to_dict(database_url)
    assert "," not in str(pinned["host"]) and "," not in str(pinned["port"])
    assert str(pinned["port"]) == str(own.get("port") or 5432)
    assert pinned["target_session_attrs"] == "read-write"
    assert migrate.primary_url(database_url) == database_url  # one host: as is, no connection


def test_dbmate_url_refuses_several_hosts(database_url: str) -> None:
    with pytest.raises(errors.ConfigurationError, match="dbmate takes one host") as caught:
        migrate.dbmate_url(multi_host(database_url))
    assert_no_secret(caught.value)


def test_no_host_answers_no_secret() -> None:
    first, second = free_port(), free_port()
    url = f"postgresql://app:{SECRET}@127.0.0.1:{first},127.0.0.1:{second}/db"
    with pytest.raises(errors.ConnectionFailed) as caught:
        migrate.primary_url(url)
    assert f"127.0.0.1:{first},127.0.0.1:{second}" in str(caught.value)
    assert_no_secret(caught.value)
    began = time.monotonic()
    with pytest.raises(errors.ConnectionFailed, match="did not answer within 1s") as caught:
        migrate.wait_for_server(url, 1)
    assert time.monotonic() - began < 10
    assert_no_secret(caught.value)
    for command in ("migrate", "status", "rollback"):
        result = cli(command, "--url", url)
        assert result.returncode == 1 and "Traceback" not in result.stderr
        assert SECRET not in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_every_command_gets_past_a_dead_first_host(fresh_url: str) -> None:
    url = multi_host(fresh_url, target_session_attrs="read-write")
    applied = ok(cli("migrate", "--url", url))
    assert applied.count("Applied:") == len(schema.package_versions())
    assert "Pending: 0" in ok(cli("status", "--url", url, "--exit-code"))
    assert "Rolled back" in ok(cli("rollback", "--url", url))
    assert "Pending: 1" in ok(cli("status", "--url", url))
    newest = schema.package_versions()[-1]
    assert newest in ok(cli("migrate", "--url", url, "--dry-run"))
    assert "Applied:" in ok(cli("migrate", "--url", url, "--wait", "--wait-timeout", "10"))
    assert "nothing to apply" in ok(cli("migrate", "--url", url))
    assert "every query checks out" in ok(cli("check", "--url", url))
    assert "seeded" in ok(cli("seed", "--url", url, "--users", "5", "--events-per-user", "1"))
    shown = ok(cli("shell", "--url", url, "-c", "select count(*) > 0 from auth.users"))
    assert " t" in shown
    assert db.pending_migrations(url) == []


def test_rollback_of_a_missing_database_says_so(fresh_url: str) -> None:
    result = cli("rollback", "--url", multi_host(fresh_url))
    assert result.returncode == 1 and "does not exist" in result.stderr
    assert SECRET not in result.stderr


def test_studio_gets_past_a_dead_first_host(test_server: TestServer) -> None:
    url = test_server.create_database("codezest_mh_studio", migrated=True)
    command = [sys.executable, "-m", "codezest_db.cli", "studio", "--url", multi_host(url)]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    with subprocess.Popen(
        [*command, "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        try:
            assert process.stdout is not None
            first = process.stdout.readline()
            assert first.startswith("studio (read-only): http://127.0.0.1:"), first
            page = first.split(": ", 1)[1].strip()
            with urllib.request.urlopen(page, timeout=30) as response:
                assert response.status == 200
        finally:
            process.terminate()
            process.wait(timeout=30)
    test_server.drop_database(url)


# -- on a real formation: the standby listed first -----------------------------


def node_urls(cluster: HACluster, database: str) -> tuple[str, str, str]:
    """(standby-first URL with no target_session_attrs, the primary's URL, the standby's)."""
    primary, standby = cluster.heal()
    hosts = f"127.0.0.1:{standby.port},127.0.0.1:{primary.port}"
    return (
        f"postgresql://postgres:{SECRET}@{hosts}/{database}",
        primary.url.rsplit("/", 1)[0] + f"/{database}",
        standby.url.rsplit("/", 1)[0] + f"/{database}",
    )


def versions_on(url: str) -> list[str]:
    with psycopg.connect(url, connect_timeout=5) as conn:
        rows = conn.execute("select version from public.schema_migrations order by 1").fetchall()
    return [str(row[0]) for row in rows]


@pytest.mark.slow
def test_migrate_applies_on_the_primary_with_the_standby_listed_first(
    ha_cluster: HACluster, tmp_path: Path
) -> None:
    database = f"codezest_mh_{uuid.uuid4().hex[:8]}"
    url, on_primary, on_standby = node_urls(ha_cluster, database)
    for listed in (url, f"{url}?target_session_attrs=read-write"):
        ok(cli("migrate", "--url", listed))
        assert versions_on(on_primary) == schema.package_versions()
        assert "Pending: 0" in ok(cli("status", "--url", listed))
        assert "Rolled back" in ok(cli("rollback", "--url", listed))
        assert len(versions_on(on_primary)) == len(schema.package_versions()) - 1
    ok(cli("migrate", "--url", url))
    # Synchronous replication: what the primary committed, the standby has.
    deadline = time.monotonic() + 10
    while versions_on(on_standby) != schema.package_versions() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert versions_on(on_standby) == schema.package_versions()
    # The API, with a migration that records where it ran.
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "20990101000000_where.sql").write_text(
        "-- migrate:up\ncreate table public.mh_where as select inet_server_port() as port;\n"
        "-- migrate:down\ndrop table public.mh_where;\n"
    )
    migrate.up(url, migrations=folder)
    with psycopg.connect(on_primary) as conn:
        assert conn.execute("select port from public.mh_where").fetchone() == (conn.info.port,)
    assert db.pending_migrations(url) == []


@pytest.mark.slow
def test_migrate_wait_waits_for_a_primary_to_exist(ha_cluster: HACluster) -> None:
    database = f"codezest_mh_{uuid.uuid4().hex[:8]}"
    url, _, _ = node_urls(ha_cluster, database)
    standby = ha_cluster.standby()
    ha_cluster.stop_primary()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CODEZEST_ENV_FILE"] = ""
    command = ["migrate", "--url", url, "--wait", "--wait-timeout", "90"]
    with subprocess.Popen(
        [sys.executable, "-m", "codezest_db.cli", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    ) as process:
        # The only server left is still a standby: no primary exists yet.
        with psycopg.connect(standby.url, connect_timeout=5) as conn:
            in_recovery = conn.execute("select pg_is_in_recovery()").fetchone()
        out, err = process.communicate(timeout=120)
    assert in_recovery == (True,), "promoted before migrate started: the test proves nothing"
    assert process.returncode == 0, err
    assert SECRET not in out + err
    assert ha_cluster.wait_for_primary() == standby
    assert versions_on(standby.url.rsplit("/", 1)[0] + f"/{database}") == schema.package_versions()


@pytest.mark.slow
def test_migrate_wait_gives_up_on_a_standby_alone(ha_cluster: HACluster) -> None:
    _, _, on_standby = node_urls(ha_cluster, "postgres")
    standby = psycopg.conninfo.conninfo_to_dict(on_standby)
    url = f"postgresql://postgres:{SECRET}@127.0.0.1:{free_port()},127.0.0.1:{standby['port']}/x"
    result = cli("migrate", "--url", url, "--wait", "--wait-timeout", "2")
    assert result.returncode == 1
    assert "took writes within 2s" in result.stderr and "read-only" in result.stderr
    assert SECRET not in result.stderr


# -- a failover seen from a pool: hosts that answer, none taking writes ---------


def test_only_a_server_that_takes_no_writes_is_between_primaries(database_url: str) -> None:
    closed = f"postgresql://postgres@127.0.0.1:{free_port()}/x"
    for url, options in (
        (closed, {}),  # nobody answers: psycopg_pool's own backoff, as before
        (database_url, {"target_session_attrs": "read-only"}),  # a primary asked for a standby
        (database_url, {"target_session_attrs": "standby"}),
        (database_url, {"dbname": "codezest_no_such_database"}),
    ):
        with pytest.raises(psycopg.OperationalError) as caught:
            psycopg.connect(
                psycopg.conninfo.make_conninfo(url, **options), connect_timeout=2
            ).close()
        assert not _config.between_primaries(caught.value), caught.value


@pytest.mark.slow
def test_a_pool_on_standbys_only_keeps_trying_and_says_why(
    replica: Replica, pools_closed: None
) -> None:
    """A standby alone behind target_session_attrs=read-write: what a failover looks like."""
    url = f"{replica.url}&target_session_attrs=read-write"
    with pytest.raises(psycopg.OperationalError) as caught:
        psycopg.connect(url, connect_timeout=2).close()
    assert _config.between_primaries(caught.value)
    db.configure(url, min_size=0, timeout=2, connect_timeout=1)
    began = time.monotonic()
    with pytest.raises(errors.ConnectionFailed, match="read-only"):
        queries.auth.get_user_by_email(email="nobody@example.com")
    assert time.monotonic() - began < 30  # bounded by the pool's timeout, not the window

    async def main() -> None:
        aio.configure(url, min_size=0, timeout=2, connect_timeout=1)
        with pytest.raises(errors.ConnectionFailed, match="read-only"):
            await aio.queries.auth.get_user_by_email(email="nobody@example.com")

    run_async(main())
