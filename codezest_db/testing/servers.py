"""pytest fixtures: real servers in front of and behind the session's test server.

Enable them next to the base plugin::

    pytest_plugins = ["codezest_db.testing", "codezest_db.testing.servers"]

``pgbouncer`` (session): Debian's ``pgbouncer`` in transaction pooling mode on
a free loopback port in front of the session's test server; ``pgbouncer_url``
is the session database through it. ``replica`` (session): a streaming replica
made with ``pg_basebackup -R`` and started with the primary's own binaries.

Both run their server as a non-root OS user (PgBouncer and PostgreSQL refuse
root) in a temporary folder, and stop it when the session ends. A missing
program fails the session with the reason; nothing is installed, nothing is
skipped.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from .. import migrate
from . import ENV_URL, TestServer

__all__ = ["PgBouncer", "Replica", "pgbouncer", "pgbouncer_url", "replica"]

# Server connections PgBouncer keeps per database: fewer than the clients the
# tests open, so clients take turns on the same server connections.
POOL_SIZE = 2
START_TIMEOUT = 30.0


class PgBouncer:
    """A PgBouncer in transaction pooling mode; stop it with `stop`.

    ``url`` reaches the session database through a pool of `POOL_SIZE` server
    connections; ``single_server_url`` through a pool of one.
    """

    def __init__(self, server_url: str, database: str, workdir: Path, user: str | None) -> None:
        self.database = database
        self.workdir = workdir
        self._user = user
        self._process: subprocess.Popen[bytes] | None = None
        self._log = workdir / "pgbouncer.log"
        self._server = psycopg.conninfo.conninfo_to_dict(server_url)
        self.port = 0

    @property
    def url(self) -> str:
        return self._url(self.database)

    @property
    def pid(self) -> int:
        """PgBouncer's process id, for fault tests (SIGSTOP); raises if it is not running."""
        if self._process is None:
            raise RuntimeError("pgbouncer is not running")
        return self._process.pid

    @property
    def single_server_url(self) -> str:
        return self._url(f"{self.database}_single")

    def _url(self, database: str) -> str:
        user = self._server.get("user") or "postgres"
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start on a free port (retried if another process takes it first).

        Raises RuntimeError with PgBouncer's log if it does not come up.
        """
        for _ in range(3):
            self.port = free_port()
            config = self.workdir / "pgbouncer.ini"
            config.write_text(self._config())
            _give(self.workdir, self._user)
            self._process = subprocess.Popen(
                [_program("pgbouncer"), str(config)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                **_as_user(self._user),
            )
            if self._wait_ready():
                return
            self._reap()
            if "Address already in use" not in self.log():
                break
        raise RuntimeError(f"pgbouncer did not start:\n{self.log()}")

    def _config(self) -> str:
        target = " ".join(
            f"{key}={_quote(str(value))}"
            for key, value in self._server.items()
            if key in ("host", "port", "user", "password") and value
        )
        return "\n".join(
            [
                "[databases]",
                f"{self.database}_single = {target} dbname={self.database} pool_size=1",
                f"* = {target}",
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {self.port}",
                "unix_socket_dir =",
                # Every client logs in as the server's user; the test server trusts it.
                "auth_type = any",
                f"admin_users = {self._server.get('user') or 'postgres'}",
                "pool_mode = transaction",
                f"default_pool_size = {POOL_SIZE}",
                # The most recently released server connection goes out first
                # (LIFO, the default): tests rely on it to pick server connections.
                "server_round_robin = 0",
                "max_client_conn = 500",
                f"logfile = {self._log}",
                *self._version_settings(),
                "",
            ]
        )

    def _version_settings(self) -> list[str]:
        # PgBouncer 1.21 can track protocol-level prepared statements (on by
        # default from 1.22). The tests are about the PgBouncer that cannot:
        # Debian 12's 1.18, which refuses the unknown setting.
        found = subprocess.run(
            [_program("pgbouncer"), "--version"], capture_output=True, text=True, check=False
        )
        match = re.search(r"PgBouncer (\d+)\.(\d+)", found.stdout)
        if match and (int(match.group(1)), int(match.group(2))) >= (1, 21):
            return ["max_prepared_statements = 0"]
        return []

    def _wait_ready(self) -> bool:
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return False
            try:
                with psycopg.connect(self.url, connect_timeout=2, prepare_threshold=None) as conn:
                    conn.execute("select 1")
                return True
            except psycopg.OperationalError:
                time.sleep(0.05)
        return False

    def console(self, command: str) -> list[dict[str, Any]]:
        """Run a PgBouncer admin console command (``show pools``, ``kill db``...)."""
        url = self._url("pgbouncer")
        with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
            cur = conn.execute(command)
            if cur.description is None:
                return []
            names = [column.name for column in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def reset(self) -> None:
        """Close every client and server connection of the session database's pools.

        The next client gets new server connections: nothing an earlier test
        left on them (prepared statements) survives.
        """
        for database in (self.database, f"{self.database}_single"):
            self.console(f'kill "{database}"')
            self.console(f'resume "{database}"')

    def log(self) -> str:
        try:
            return self._log.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log written)"

    def stop(self) -> None:
        """Stop PgBouncer (immediately: the tests are over)."""
        self._reap()

    def _reap(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            _terminate(process)


class Replica:
    """A streaming replica; ``url`` is its copy of ``primary_url``'s database.

    ``pause`` / ``resume`` stop and restart WAL replay; ``wait_for_catchup``
    waits until everything the primary wrote so far is replayed. ``stop`` and
    ``start`` take the whole server down and up again.
    """

    def __init__(self, primary_url: str, bin_dir: Path, workdir: Path, user: str | None) -> None:
        self.primary_url = primary_url
        self.bin_dir = bin_dir
        self.pgdata = workdir / "data"
        self.socket_dir = workdir / "run"
        self._workdir = workdir
        self._user = user
        database = psycopg.conninfo.conninfo_to_dict(primary_url)["dbname"]
        self.url = f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def create(self) -> None:
        """Copy the primary with ``pg_basebackup -R`` and start the copy as a standby.

        Raises RuntimeError with the program's output if a step fails.
        """
        self.socket_dir.mkdir()
        _give(self._workdir, self._user)
        primary = psycopg.conninfo.conninfo_to_dict(self.primary_url)
        source = {k: str(v) for k, v in primary.items() if k in ("host", "port", "user")}
        _run(
            [
                self.bin_dir / "pg_basebackup",
                "--pgdata",
                self.pgdata,
                "--dbname",
                psycopg.conninfo.make_conninfo("", **source),
                "--write-recovery-conf",
                "--wal-method=stream",
                "--checkpoint=fast",
                "--no-sync",
                "--no-password",
            ],
            self._user,
        )
        # postgresql.auto.conf is read last; -R has just written primary_conninfo there.
        # Without fsync the standby also skips syncing the whole copy at startup
        # (seconds on a busy machine); a throwaway replica needs no durability.
        with (self.pgdata / "postgresql.auto.conf").open("a") as conf:
            conf.write(_server_settings(self.socket_dir) + "fsync = off\n")
        self.start()

    def start(self) -> None:
        """Start the standby; return once it accepts read-only connections."""
        _pg_ctl(self.bin_dir, self.pgdata, self._workdir / "replica.log", self._user, "start")

    def stop(self) -> None:
        """Stop the standby (fast shutdown); a stopped one is left as it is."""
        if (self.pgdata / "postmaster.pid").exists():
            _pg_ctl(self.bin_dir, self.pgdata, None, self._user, "stop", "--mode=fast")

    def pause(self, timeout: float = 10.0) -> None:
        """Stop replaying WAL: nothing the primary writes from now on shows on the replica.

        Returns once replay has stopped (a pause is only requested at first: the
        startup process may still apply the record in hand). Raises TimeoutError.
        """
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("select pg_wal_replay_pause()")
            while True:
                state = conn.execute("select pg_get_wal_replay_pause_state()").fetchone()
                if state == ("paused",):
                    return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"replay on the replica is still {state}")
                time.sleep(0.01)

    def resume(self) -> None:
        """Replay WAL again (the replica then catches up)."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("select pg_wal_replay_resume()")

    def wait_for_catchup(self, timeout: float = 30.0) -> None:
        """Wait until the replica has replayed all WAL the primary has written so far.

        Raises TimeoutError after *timeout* seconds (for example while paused).
        """
        with psycopg.connect(self.primary_url, autocommit=True) as conn:
            target = conn.execute("select pg_current_wal_lsn()").fetchone()
        assert target is not None
        deadline = time.monotonic() + timeout
        with psycopg.connect(self.url, autocommit=True) as conn:
            while True:
                row = conn.execute(
                    "select pg_last_wal_replay_lsn() >= %s::pg_lsn, pg_is_wal_replay_paused()",
                    target,
                ).fetchone()
                assert row is not None
                if row[0]:
                    return
                if time.monotonic() > deadline:
                    paused = " (replay is paused)" if row[1] else ""
                    raise TimeoutError(f"the replica did not replay up to {target[0]}{paused}")
                time.sleep(0.02)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def pgbouncer(test_server: TestServer, database_url: str) -> Iterator[PgBouncer]:
    """PgBouncer (transaction pooling) in front of the session database; stopped after."""
    _program("pgbouncer")
    database = str(psycopg.conninfo.conninfo_to_dict(database_url)["dbname"])
    workdir = Path(tempfile.mkdtemp(prefix="codezest-pgbouncer-"))
    bouncer = PgBouncer(test_server.admin_url, database, workdir, _service_user(test_server))
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def pgbouncer_url(pgbouncer: PgBouncer) -> str:
    """URL of the session database through PgBouncer in transaction pooling mode."""
    return pgbouncer.url


@pytest.fixture(scope="session")
def replica(test_server: TestServer, request: pytest.FixtureRequest) -> Iterator[Replica]:
    """A streaming replica of a migrated database, on the test server's major version.

    The session's own embedded server is replicated directly. A server given
    by URL (or a container) is not ours to reconfigure (its pg_hba.conf may
    refuse replication) and may hold other data: the replica then copies a
    small primary the fixture starts itself from the same major version.
    """
    own = _is_own_embedded(test_server)
    if own:
        from .. import embedded

        bin_dir, user = embedded.bin_dir(), _service_user(test_server)
    else:
        bin_dir, user = _bin_dir_for(test_server.server_version() // 10000), _local_server_user()
    with tempfile.TemporaryDirectory(prefix="codezest-replica-") as scratch, ExitStack() as stack:
        workdir = Path(scratch)
        for folder in ("replica",) if own else ("replica", "primary/run"):
            (workdir / folder).mkdir(parents=True)
        _give(workdir, user)
        if own:
            primary_url = request.getfixturevalue("database_url")
        else:
            primary_url = _start_primary(bin_dir, workdir / "primary", user, stack)
        standby = Replica(primary_url, bin_dir, workdir / "replica", user)
        standby.create()
        stack.callback(standby.stop)
        yield standby


def _start_primary(bin_dir: Path, workdir: Path, user: str | None, stack: ExitStack) -> str:
    """initdb and start a primary on a private socket (stopped by *stack*).

    Returns the URL of a database created and migrated there.
    """
    pgdata, run = workdir / "data", workdir / "run"
    initdb = [bin_dir / "initdb", "--pgdata", pgdata, "--username=postgres", "--auth=trust"]
    _run([*initdb, "--encoding=UTF8", "--no-sync"], user)
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write(_server_settings(run))
        # A throwaway cluster: durability buys nothing here and costs time.
        conf.write("fsync = off\nfull_page_writes = off\n")
    _pg_ctl(bin_dir, pgdata, workdir / "primary.log", user, "start")
    stack.callback(_pg_ctl, bin_dir, pgdata, None, user, "stop", "--mode=immediate")
    with psycopg.connect(f"postgresql://postgres@/postgres?host={run}", autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier("codezest_primary")))
    url = f"postgresql://postgres@/codezest_primary?host={run}"
    migrate.up(url)
    return url


def _server_settings(socket_dir: Path) -> str:
    # Only a unix socket in a private folder: no port to collide with.
    return (
        "\nlisten_addresses = ''\n"
        f"unix_socket_directories = '{socket_dir}'\n"
        "port = 5432\n"
        "hot_standby = on\n"
    )


def _pg_ctl(bin_dir: Path, pgdata: Path, log: Path | None, user: str | None, *args: str) -> None:
    command: list[Any] = [bin_dir / "pg_ctl", "--pgdata", pgdata, "--wait", "--timeout=60"]
    if log is not None:
        command += ["--log", log]
    try:
        _run([*command, *args], user)
    except RuntimeError as exc:
        detail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
        raise RuntimeError(f"{exc}\n{detail}") from None


def _run(
    command: Sequence[Any],
    user: str | None,
    *,
    timeout: float = 120,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run a server program (as *user*, if given) to its end; its output, or RuntimeError
    with the end of what it said (``pg_autoctl`` named with its subcommand)."""
    args = [str(part) for part in command]
    done = subprocess.run(
        args,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=max(timeout, 1),
        check=False,
        cwd=cwd,
        env=env,
        **_as_user(user),
    )
    if done.returncode != 0:
        program = Path(args[0]).name
        name = " ".join([program, *args[1:3]]) if program == "pg_autoctl" else program
        said = (done.stderr or done.stdout)[-4000:]
        raise RuntimeError(f"{name} failed ({done.returncode}):\n{said}")
    output: str = done.stdout
    return output


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait()


def _program(name: str) -> str:
    """The path of a system program; fail the test session if it is not installed."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/local/sbin:/sbin")
    if not found:
        pytest.fail(
            f"{name} is not installed: the tests need the real server "
            f"(Debian/Ubuntu: apt-get install {name}; .ci/run installs it)",
            pytrace=False,
        )
    return found


def _is_own_embedded(server: TestServer) -> bool:
    # The embedded server the kit started listens on a local socket folder.
    host = str(psycopg.conninfo.conninfo_to_dict(server.admin_url).get("host") or "")
    return not os.environ.get(ENV_URL) and host.startswith("/") and Path(host).is_dir()


def _bin_dir_for(major: int) -> Path:
    """Local binaries of PostgreSQL *major*; fail the session if there are none."""
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin")]
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
        candidates.append(Path(found.stdout.strip()))
    try:
        from .. import embedded

        candidates.append(embedded.bin_dir())
    except Exception:  # the embedded wheel is optional here
        pass
    for candidate in candidates:
        if (candidate / "pg_basebackup").exists() and _major(candidate) == major:
            return candidate
    pytest.fail(
        f"no PostgreSQL {major} binaries on this machine for a replica "
        f"(looked in {', '.join(map(str, candidates))}); "
        f"Debian/Ubuntu: apt-get install postgresql-{major}",
        pytrace=False,
    )


def _major(bin_dir: Path) -> int | None:
    found = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"(\d+)(?:\.\d+)?", found.stdout)
    return int(match.group(1)) if match else None


def _service_user(server: TestServer) -> str | None:
    """Who runs a helper server next to *server*: None means this process's user.

    As root, the owner of the server's socket folder (the embedded wheel's
    own system user), else the local PostgreSQL user.
    """
    if os.geteuid() != 0:
        return None
    host = str(psycopg.conninfo.conninfo_to_dict(server.admin_url).get("host") or "")
    if host.startswith("/") and Path(host).is_dir():
        owner = pwd.getpwuid(Path(host).stat().st_uid).pw_name
        if owner != "root":
            return owner
    return _local_server_user()


def _local_server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres", "nobody"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    pytest.fail("running as root and no user to run a server as (postgres, nobody)")


def _as_user(user: str | None) -> dict[str, Any]:
    if user is None:
        return {}
    entry = pwd.getpwnam(user)
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}


def _give(path: Path, user: str | None) -> None:
    """Hand a scratch folder over to *user*, so a server running as it can write there."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for folder, _, files in os.walk(path):
        os.chown(folder, entry.pw_uid, entry.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), entry.pw_uid, entry.pw_gid)
    # The scratch root sits in /tmp, mode 0700: only its owner (and root) get in.


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'" if " " in value else value
