"""pytest fixture ``ha_cluster``: a pg_auto_failover formation on loopback ports.

The formation is a monitor and two data nodes of Debian's packages
(``postgresql-15-auto-failover``, ``pg-auto-failover-cli``; ``.ci/run``
installs them), each PostgreSQL listening on 127.0.0.1 only, on a free port,
in a temporary folder, with trust authentication and no TLS. The two nodes
replicate synchronously (pg_auto_failover's default for two nodes: ``ANY 1``
of the standby), so every commit acknowledged by the primary is on the
standby too. A database migrated with this package's migrations is on it.

The fixture is session-scoped (a formation takes seconds to start) and comes
with the base plugin (``pytest_plugins = ["codezest_db.testing"]``); nothing
starts until a test asks for it. Tests that stop a node should call
`HACluster.heal` at their start (cheap when the formation is whole), so they
do not depend on what an earlier test left behind.

Every wait is bounded and raises TimeoutError with the monitor's view of the
formation (``pg_autoctl show state``). The ``pg_autoctl run`` services run
under the fixture's supervision and everything is stopped and removed when
the session ends, also after a failed test. As root, the formation runs as
the ``postgres`` system user (pg_autoctl and PostgreSQL refuse root).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

import psycopg
import pytest

from .. import migrate
from .servers import _as_user, _give, _local_server_user, _run, free_port

__all__ = [
    "HACluster",
    "HANode",
    "MissingPackages",
    "ha_cluster",
    "ha_formation",
    "watch_promotion",
]

T = TypeVar("T")

DATABASE = "codezest_ha"
FORMATION = "default"
START_TIMEOUT = 120.0
# States in which a node is, or is becoming, the primary that takes writes.
PRIMARY_STATES = frozenset({"single", "primary", "wait_primary", "join_primary", "apply_settings"})

# The monitor's failure detection, tuned down from its defaults (5 s health
# checks, 20 s without a report, 30 s to drain the old primary, 10 s of grace
# after the monitor starts) so a failover takes seconds, not a minute; still
# loose enough that a busy machine does not fail a healthy node over.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "2000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "3000",
    "pgautofailover.primary_demote_timeout": "3000",
    "pgautofailover.startup_grace_period": "2000",
}

# Throwaway servers on a shared machine: little memory, no fsync. These go to
# postgresql.auto.conf, which PostgreSQL reads after pg_auto_failover's own
# include (it would size shared_buffers for the whole machine). The standby
# copies the primary's file with pg_basebackup. full_page_writes stays on:
# pg_rewind, which brings a failed primary back as a standby, needs it.
SERVER_SETTINGS = {
    "shared_buffers": "'16MB'",
    "work_mem": "'4MB'",
    "maintenance_work_mem": "'16MB'",
    "effective_cache_size": "'128MB'",
    "max_wal_size": "'256MB'",
    "wal_keep_size": "'128MB'",
    "fsync": "off",
    "synchronous_commit": "on",
    # pg_basebackup starts with a spread checkpoint: paced over most of
    # checkpoint_timeout, it would hold a new standby up for half a minute.
    "checkpoint_completion_target": "0",
}


@dataclass(frozen=True)
class HANode:
    """One data node: ``url`` is its own copy of the database (this host only)."""

    name: str
    port: int
    pgdata: Path

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{DATABASE}"


class HACluster:
    """A pg_auto_failover monitor and two data nodes; `start_formation`, then `stop`.

    ``url`` reaches whichever node takes writes now, ``replica_url`` prefers
    the standby (the primary when the standby is down); both list both hosts.
    """

    def __init__(self, workdir: Path, user: str | None, bin_dir: Path) -> None:
        self.workdir = workdir
        self.bin_dir = bin_dir
        self._user = user
        self.monitor_port = free_port()
        self.monitor_pgdata = workdir / "monitor"
        ports: list[int] = []
        while len(ports) < 2:
            port = free_port()
            if port != self.monitor_port and port not in ports:
                ports.append(port)
        self.nodes = tuple(
            HANode(f"node{i}", port, workdir / f"node{i}") for i, port in enumerate(ports, 1)
        )
        self._socket_dir = workdir / "sock"
        self._services: dict[Path, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []
        self.started_in: float | None = None

    # -- URLs -----------------------------------------------------------------

    @property
    def hosts(self) -> str:
        return ",".join(f"127.0.0.1:{node.port}" for node in self.nodes)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{self.hosts}/{DATABASE}?target_session_attrs=read-write"

    @property
    def replica_url(self) -> str:
        return f"postgresql://postgres@{self.hosts}/{DATABASE}?target_session_attrs=prefer-standby"

    @property
    def monitor_url(self) -> str:
        """The monitor's database, as the superuser (``pgautofailover.node`` is there)."""
        return f"postgresql://postgres@127.0.0.1:{self.monitor_port}/pg_auto_failover"

    # -- start and stop -------------------------------------------------------

    def start_formation(self, timeout: float = START_TIMEOUT) -> None:
        """Create and run the monitor and both nodes; return once node2 is a synchronous standby.

        The database is created and migrated on node1 before node2 copies it.
        Raises RuntimeError with a program's output if a step fails, TimeoutError
        with the formation's state if it does not come together in *timeout*.
        """
        began = time.monotonic()
        deadline = began + timeout
        for folder in ("config", "share", "run", "sock"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        _give(self.workdir, self._user)

        self._initdb(self.monitor_pgdata, {**SERVER_SETTINGS, **MONITOR_SETTINGS})
        self._pg_autoctl(
            "create", "monitor", "--pgdata", self.monitor_pgdata,
            "--pgport", self.monitor_port, *self._common_options(), timeout=_left(deadline),
        )  # fmt: skip
        self._run_service(self.monitor_pgdata)
        self._wait(
            lambda: _answers(self.monitor_url), "the monitor to accept connections", deadline
        )

        first, second = self.nodes
        self._initdb(first.pgdata, SERVER_SETTINGS)
        self._create_node(first, deadline)
        self._run_service(first.pgdata)
        self._wait(lambda: self._state_of(first) == ("single", "single"), "node1 to run", deadline)
        self._wait(lambda: _answers(first.url), "node1 to accept connections", deadline)
        migrate.up(first.url)
        with psycopg.connect(first.url, autocommit=True) as conn:
            conn.execute("checkpoint")  # the standby's base backup then has little to wait for

        self._create_node(second, deadline)
        self._run_service(second.pgdata)
        self.wait_for_formation(timeout=_left(deadline))
        self.started_in = time.monotonic() - began

    def stop(self) -> None:
        """Stop everything at once (the tests are over) and remove the folder."""
        try:
            for node in self.nodes:
                self._kill_service(node.pgdata)
                self._stop_postgres(node.pgdata)
            self._kill_service(self.monitor_pgdata)
            self._stop_postgres(self.monitor_pgdata)
        finally:
            for log in self._logs:
                log.close()
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- what the monitor says ------------------------------------------------

    def nodes_state(self) -> list[dict[str, Any]]:
        """The monitor's row for each data node: name, port, reported and goal state, health."""
        with psycopg.connect(self.monitor_url, autocommit=True, connect_timeout=3) as conn:
            cursor = conn.execute(
                "select nodename, nodeport, reportedstate::text, goalstate::text,"
                " reportedpgisrunning, health from pgautofailover.node"
                " where formationid = %s order by nodeid",
                (FORMATION,),
            )
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def show_state(self) -> str:
        """``pg_autoctl show state`` of the formation (or why it could not be had)."""
        try:
            shown: str = self._pg_autoctl(
                "show", "state", "--pgdata", self.monitor_pgdata, timeout=15
            )
            return shown
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            return f"(pg_autoctl show state failed: {exc})"

    def primary(self) -> HANode:
        """The node the monitor has as primary now (reported and goal state agree).

        Raises LookupError when there is none (during a failover).
        """
        found = self._node_in(PRIMARY_STATES)
        if found is None:
            raise LookupError(f"no primary in the formation now:\n{self.show_state()}")
        return found

    def standby(self) -> HANode:
        """The node the monitor has as secondary now; LookupError if there is none."""
        found = self._node_in(frozenset({"secondary"}))
        if found is None:
            raise LookupError(f"no secondary in the formation now:\n{self.show_state()}")
        return found

    # -- waits ----------------------------------------------------------------

    def wait_for_primary(self, timeout: float = 60.0) -> HANode:
        """Wait until the monitor has a primary and that node takes writes; return it."""
        deadline = time.monotonic() + timeout

        def writable() -> HANode | None:
            node = self._node_in(PRIMARY_STATES)
            if node is not None and _is_writable(node.url):
                return node
            return None

        return self._wait(writable, "a primary that takes writes", deadline)

    def wait_for_formation(self, timeout: float = 60.0) -> tuple[HANode, HANode]:
        """Wait for a primary with a synchronous secondary; return (primary, standby)."""
        deadline = time.monotonic() + timeout

        def whole() -> tuple[HANode, HANode] | None:
            primary = self._node_in(frozenset({"primary"}))
            standby = self._node_in(frozenset({"secondary"}))
            if primary is None or standby is None or not _sync_standby(primary.url):
                return None
            return primary, standby

        return self._wait(whole, "a primary with a synchronous secondary", deadline)

    # -- faults and operations ------------------------------------------------

    def stop_primary(self, mode: str = "immediate") -> HANode:
        """Take the current primary down and keep it down; return that node.

        Its ``pg_autoctl`` service is killed first (SIGKILL: it would restart
        PostgreSQL and tell the monitor), then its PostgreSQL stops:
        ``mode="immediate"`` is ``pg_ctl stop -m immediate`` (clients get
        57P01 and the connection closes), ``mode="kill"`` SIGKILLs the
        postmaster (a crash: sessions end as the backends notice). The
        monitor then sees a dead node and fails over to the standby.
        `start` brings the node back, as a standby.
        """
        if mode not in ("immediate", "kill"):
            raise ValueError(f"mode must be 'immediate' or 'kill', not {mode!r}")
        node = self.primary()
        self.stop_node(node, mode)
        return node

    def stop_node(self, node: HANode, mode: str = "immediate") -> None:
        """Take *node* down as `stop_primary` does (any node: a standby too)."""
        self._kill_service(node.pgdata)
        if mode == "kill":
            pid = _postmaster_pid(node.pgdata)
            if pid is not None:
                _signal(pid, signal.SIGKILL)
        else:
            self._stop_postgres(node.pgdata)

    def start(self, node: HANode, *, wait: bool = True, timeout: float = 120.0) -> None:
        """Run *node*'s ``pg_autoctl`` service again; with *wait*, until it is a secondary.

        A former primary rejoins as a standby (pg_rewind, or a new base backup).
        """
        if node.pgdata in self._services:
            return
        self._run_service(node.pgdata)
        if wait:
            deadline = time.monotonic() + timeout
            self._wait(
                lambda: self._state_of(node) == ("secondary", "secondary"),
                f"{node.name} to rejoin as a secondary",
                deadline,
            )

    def heal(self, timeout: float = 120.0) -> tuple[HANode, HANode]:
        """Start any node that is down, wait for the whole formation; return (primary, standby)."""
        for node in self.nodes:
            if node.pgdata not in self._services:
                self.start(node, wait=False)
        return self.wait_for_formation(timeout)

    def switchover(self, timeout: float = 60.0) -> tuple[HANode, HANode]:
        """``pg_autoctl perform switchover``: the standby becomes primary, the primary its standby.

        Returns (new primary, new standby) once the formation is whole again.
        """
        deadline = time.monotonic() + timeout
        self._pg_autoctl(
            "perform", "switchover", "--pgdata", self.monitor_pgdata,
            "--formation", FORMATION, "--wait", max(1, int(_left(deadline))),
            timeout=_left(deadline) + 5,
        )  # fmt: skip
        return self.wait_for_formation(timeout=_left(deadline))

    # -- internals ------------------------------------------------------------

    def _common_options(self) -> list[Any]:
        return [
            "--pgctl", self.bin_dir / "pg_ctl",
            "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
            "--auth", "trust", "--no-ssl",
        ]  # fmt: skip

    def _create_node(self, node: HANode, deadline: float) -> None:
        self._pg_autoctl(
            "create", "postgres", "--pgdata", node.pgdata, "--pgport", node.port,
            "--name", node.name, "--username", "postgres", "--dbname", DATABASE,
            "--monitor", f"postgres://autoctl_node@127.0.0.1:{self.monitor_port}/pg_auto_failover?sslmode=disable",
            "--replication-quorum", "true", "--candidate-priority", "50",
            *self._common_options(), timeout=_left(deadline),
        )  # fmt: skip

    def _initdb(self, pgdata: Path, settings: dict[str, str]) -> None:
        self._command(
            [
                self.bin_dir / "initdb", "--pgdata", pgdata, "--username=postgres",
                "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
            ],
            timeout=120,
        )  # fmt: skip
        lines = [f"{key} = {value}" for key, value in settings.items()]
        lines.append(f"unix_socket_directories = '{self._socket_dir}'")
        with (pgdata / "postgresql.auto.conf").open("a") as conf:
            conf.write("\n".join(lines) + "\n")

    def _environment(self) -> dict[str, str]:
        # pg_autoctl keeps its configuration and state under the XDG folders:
        # all in the scratch folder, nothing in the user's home.
        root = self.workdir
        return {
            "PATH": f"{self.bin_dir}:/usr/bin:/bin",
            "HOME": str(root),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(root / "share"),
            "XDG_RUNTIME_DIR": str(root / "run"),
            "PGHOST": str(self._socket_dir),
            "PGUSER": "postgres",
            "LANG": "C",
        }

    def _command(self, command: list[Any], timeout: float) -> str:
        return _run(command, self._user, timeout=timeout, cwd=self.workdir, env=self._environment())

    def _pg_autoctl(self, *args: Any, timeout: float) -> str:
        return self._command([_pg_autoctl_program(), *args], timeout)

    def _run_service(self, pgdata: Path) -> None:
        log = (self.workdir / f"{pgdata.name}.log").open("ab")
        self._logs.append(log)
        self._services[pgdata] = subprocess.Popen(
            [_pg_autoctl_program(), "run", "--pgdata", str(pgdata)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            env=self._environment(),
            start_new_session=True,  # its own process group: found and killed together
            **_as_user(self._user),
        )

    def _kill_service(self, pgdata: Path) -> None:
        """SIGKILL the ``pg_autoctl`` processes of *pgdata*'s service, not its PostgreSQL."""
        process = self._services.pop(pgdata, None)
        if process is None:
            return
        _signal(process.pid, signal.SIGKILL)  # first the supervisor: it restarts the others
        for pid in _group_members(process.pid):
            if _command_name(pid) == "pg_autoctl":
                _signal(pid, signal.SIGKILL)
        process.wait(10)

    def _stop_postgres(self, pgdata: Path) -> None:
        pid = _postmaster_pid(pgdata)
        if pid is None:
            return
        try:
            self._command(
                [self.bin_dir / "pg_ctl", "--pgdata", pgdata, "stop", "-m", "immediate", "-w"],
                timeout=40,
            )
        except (RuntimeError, subprocess.TimeoutExpired):
            _signal(pid, signal.SIGKILL)

    def _node_in(self, states: frozenset[str]) -> HANode | None:
        try:
            rows = self.nodes_state()
        except psycopg.Error:
            return None
        ports = {node.port: node for node in self.nodes}
        for row in rows:
            if row["reportedstate"] in states and row["goalstate"] == row["reportedstate"]:
                return ports.get(row["nodeport"])
        return None

    def _state_of(self, node: HANode) -> tuple[str, str] | None:
        try:
            rows = self.nodes_state()
        except psycopg.Error:
            return None
        for row in rows:
            if row["nodeport"] == node.port:
                return row["reportedstate"], row["goalstate"]
        return None

    def _wait(self, check: Callable[[], T | None], what: str, deadline: float) -> T:
        """Poll *check* until it returns something true; TimeoutError at *deadline*."""
        while True:
            found = check()
            if found:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"waited in vain for {what}; the formation:\n{self.show_state()}"
                )
            time.sleep(0.1)


def _left(deadline: float) -> float:
    return max(deadline - time.monotonic(), 1.0)


def _answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2) as conn:
            conn.execute("select 1")
        return True
    except psycopg.Error:
        return False


def _is_writable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            row = conn.execute("select pg_is_in_recovery()").fetchone()
        return row == (False,)
    except psycopg.Error:
        return False


def _sync_standby(url: str) -> bool:
    """Whether the primary at *url* has a standby it waits for at commit."""
    try:
        with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
            row = conn.execute(
                "select current_setting('synchronous_standby_names') <> ''"
                " and exists (select from pg_stat_replication"
                " where sync_state in ('sync', 'quorum') and state = 'streaming')"
            ).fetchone()
        return row == (True,)
    except psycopg.Error:
        return False


def _postmaster_pid(pgdata: Path) -> int | None:
    """The postmaster's pid from postmaster.pid, if that process is alive."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass
    return pid


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp ...: comm may hold spaces, so split after ')'
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[2]) == pgid:
            members.append(int(entry.name))
    return members


def _command_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


class MissingPackages(RuntimeError):
    """pg_auto_failover is not installed on this machine."""


def _pg_autoctl_program() -> str:
    found = shutil.which("pg_autoctl")
    if not found:
        raise MissingPackages(
            "pg_autoctl is not installed: ha_cluster needs pg_auto_failover "
            "(Debian/Ubuntu: apt-get install postgresql-15-auto-failover pg-auto-failover-cli; "
            ".ci/run installs them)"
        )
    return found


def _bin_dir() -> Path:
    """The binaries of the newest PostgreSQL that has the pgautofailover extension."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/lib/pgautofailover.so"),
        key=lambda path: int(path.parent.parent.name) if path.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise MissingPackages(
            "no PostgreSQL with the pgautofailover extension on this machine "
            "(Debian/Ubuntu: apt-get install postgresql-15-auto-failover pg-auto-failover-cli)"
        )
    return found[-1].parent.parent / "bin"


@contextlib.contextmanager
def ha_formation() -> Iterator[HACluster]:
    """A started formation (as `ha_cluster`, outside pytest too: benchmarks); removed after.

    Raises MissingPackages when pg_auto_failover is not installed, RuntimeError
    or TimeoutError when the formation does not start.
    """
    _pg_autoctl_program()
    bin_dir = _bin_dir()
    user = _local_server_user()
    workdir = Path(tempfile.mkdtemp(prefix="codezest-ha-"))
    cluster = HACluster(workdir, user, bin_dir)
    try:
        cluster.start_formation()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def ha_cluster() -> Iterator[HACluster]:
    """A pg_auto_failover formation (monitor, primary, synchronous standby) on loopback ports.

    Started once per session, stopped and removed after it. Call
    ``ha_cluster.heal()`` first in a test that needs both nodes up.
    """
    with contextlib.ExitStack() as stack:
        try:
            cluster = stack.enter_context(ha_formation())
        except MissingPackages as exc:
            pytest.fail(str(exc), pytrace=False)
        yield cluster


def watch_promotion(node: HANode, stop: threading.Event, seen: list[float]) -> threading.Thread:
    """A thread that records when *node* is promoted, then when it first commits a write.

    pg_auto_failover promotes the standby first and holds its commits (a
    synchronous standby that does not exist) until the old primary is known
    to be down; only then does the new primary take writes. The write here
    (a temporary table: catalog rows, so its commit waits like any other)
    returns at that moment.
    """

    def loop() -> None:
        while not stop.is_set():
            try:
                with psycopg.connect(node.url, connect_timeout=2, autocommit=True) as conn:
                    while not stop.is_set() and not seen:
                        if conn.execute("select pg_is_in_recovery()").fetchone() == (False,):
                            seen.append(time.monotonic())
                        else:
                            time.sleep(0.02)
                    while not stop.is_set():
                        try:
                            conn.execute("create temporary table watched_write ()")
                        except psycopg.errors.ReadOnlySqlTransaction:
                            time.sleep(0.02)  # not promoted yet after all
                            continue
                        seen.append(time.monotonic())
                        return
            except psycopg.OperationalError:
                time.sleep(0.02)

    thread = threading.Thread(target=loop)
    thread.start()
    return thread
