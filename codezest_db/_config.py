"""Pool settings shared by the sync and the asyncio pools."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import pq

from . import _env
from .errors import ConfigurationError, ConnectionFailed, from_psycopg, redact_url

# Options of psycopg_pool's pools; any other option is a libpq connection
# parameter (application_name, sslmode, ...).
POOL_OPTIONS = frozenset(
    {"timeout", "max_waiting", "max_lifetime", "max_idle", "reconnect_timeout", "num_workers"}
)
# Options of psycopg's connect() itself (not libpq's): prepare_threshold=None
# turns server-side prepared statements off, for PgBouncer in transaction mode.
CONNECTION_OPTIONS = frozenset({"prepare_threshold"})
# Options of codezest-db itself: whether asyncio pooled reads that wait for a
# connection are batched into pipelines (`_multiplex`; None means the default,
# yes), and how stale a replica may be for reads (`_replicas`).
LIBRARY_OPTIONS = frozenset({"multiplex", "max_replica_lag"})
DEFAULT_CONNECT_TIMEOUT = 5
DEFAULT_MAX_REPLICA_LAG = 1.0  # seconds
DEFAULT_CHECKOUT_TIMEOUT = 10.0
# codezest-db's own: seconds a pooled call may wait on its server before the
# watchdog checks that the server is alive (`_watchdog`); None: never check.
WATCHDOG_OPTIONS = frozenset({"suspect_after"})
DEFAULT_SUSPECT_AFTER = 2.0
# libpq's TCP settings for a peer lost on a real network (a host gone, a link
# cut; nothing on Unix sockets): a dead idle connection is noticed in about a
# minute, unacknowledged data gives up after 30 s. Each applies unless the URL
# or configure() sets it.
TCP_DEFAULTS = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}


@dataclass(frozen=True, repr=False)
class Settings:
    """A validated pool configuration. Its repr never shows the password."""

    url: str
    replica_url: str | None = None
    min_size: int = 1
    max_size: int = 10
    pool_options: dict[str, Any] = field(default_factory=dict)
    connect_options: dict[str, Any] = field(default_factory=dict)
    multiplex: bool | None = None
    max_replica_lag: float = DEFAULT_MAX_REPLICA_LAG
    suspect_after: float | None = DEFAULT_SUSPECT_AFTER

    def __repr__(self) -> str:
        return (
            f"Settings(url={redact_url(self.url)!r}, "
            f"replica_url={self.replica_target if self.replica_url else None!r}, "
            f"min_size={self.min_size}, "
            f"max_size={self.max_size}, pool_options={self.pool_options!r}, "
            f"connect_options={_redact_options(self.connect_options)!r}, "
            f"multiplex={self.multiplex!r}, max_replica_lag={self.max_replica_lag!r}, "
            f"suspect_after={self.suspect_after!r})"
        )

    def pool_arguments(self, name: str, replica: bool = False) -> dict[str, Any]:
        """Keyword arguments of a psycopg_pool pool, created closed: the caller opens it."""
        return {
            "conninfo": self.replica_url if replica else self.url,
            "min_size": self.min_size,
            "max_size": self.max_size,
            "kwargs": self.connect_options,
            "name": name,
            "open": False,
            **self.pool_options,
        }

    @property
    def batches_reads(self) -> bool:
        """Whether asyncio pooled reads are batched (see `codezest_db._multiplex`)."""
        return self.multiplex is not False

    @property
    def prepares(self) -> bool:
        """Whether psycopg may prepare statements (not with ``prepare_threshold=None``)."""
        return self.connect_options.get("prepare_threshold", 0) is not None

    @property
    def target(self) -> str:
        """Where the pool connects, for messages: the URL without password."""
        return redact_url(self.url)

    @property
    def replica_target(self) -> str:
        """Where the replica pool connects, for messages."""
        return redact_url(self.replica_url or "")


def resolve(
    url: str | None,
    *,
    replica_url: str | None = None,
    min_size: int | None = None,
    max_size: int | None = None,
    **options: Any,
) -> Settings:
    """Validate a configuration; raise ConfigurationError saying what to fix.

    *url* defaults to ``$DATABASE_URL``, *replica_url* to ``$DATABASE_REPLICA_URL``
    (an empty string: no replica, whatever the environment says). What is not
    given comes from the environment or a .env file (`_env`): the URLs, and
    the pool options as ``CODEZEST_DB_*`` variables.
    """
    url = url or _env.getenv("DATABASE_URL")
    if replica_url is None:
        replica_url = _env.getenv("DATABASE_REPLICA_URL")
    from_env = _env.pool_settings()
    env_min, env_max = from_env.pop("min_size", 1), from_env.pop("max_size", 10)
    min_size = env_min if min_size is None else min_size
    max_size = env_max if max_size is None else max_size
    options = {**from_env, **options}
    if not url:
        raise ConfigurationError(
            "no database URL: set DATABASE_URL (in the environment or a .env file) "
            "or call codezest_db.configure(url=...)"
        )
    check_url(url, "DATABASE_URL")
    if replica_url:
        check_url(replica_url, "DATABASE_REPLICA_URL")
    sizes_are_ints = all(type(size) is int for size in (min_size, max_size))
    if not (sizes_are_ints and 0 <= min_size <= max_size and max_size >= 1):
        raise ConfigurationError(
            f"pool sizes must be whole numbers, 0 <= min_size <= max_size, max_size >= 1; "
            f"got min_size={min_size!r}, max_size={max_size!r}"
        )
    pool_options = {"timeout": DEFAULT_CHECKOUT_TIMEOUT}
    connect_options: dict[str, Any] = {"connect_timeout": DEFAULT_CONNECT_TIMEOUT}
    unknown = []
    multiplex = options.pop("multiplex", None)
    if multiplex is not None and type(multiplex) is not bool:
        raise ConfigurationError(f"multiplex must be True, False or None, got {multiplex!r}")
    max_replica_lag = _replica_lag(options.pop("max_replica_lag", None))
    suspect_after = _suspect_after(options.pop("suspect_after", DEFAULT_SUSPECT_AFTER))
    for key, value in options.items():
        if key in POOL_OPTIONS:
            pool_options[key] = value
        elif key in CONNECTION_OPTIONS or key in _libpq_keywords():
            connect_options[key] = value
        else:
            unknown.append(key)
    connect_options = {**_tcp_defaults(url, replica_url), **connect_options}
    if unknown:
        known = POOL_OPTIONS | CONNECTION_OPTIONS | LIBRARY_OPTIONS | WATCHDOG_OPTIONS
        raise ConfigurationError(
            f"unknown option(s) {', '.join(sorted(unknown))}: expected a pool option "
            f"({', '.join(sorted(known))}) "
            "or a libpq connection parameter"
        )
    return Settings(
        url,
        replica_url or None,
        min_size,
        max_size,
        pool_options,
        connect_options,
        multiplex,
        max_replica_lag,
        suspect_after=suspect_after,
    )


def _replica_lag(value: Any) -> float:
    """``max_replica_lag``: seconds > 0 (``math.inf``: any lag), None for the default."""
    if value is None:
        return DEFAULT_MAX_REPLICA_LAG
    number = type(value) in (int, float) and not math.isnan(value)
    if not (number and value > 0):
        raise ConfigurationError(
            "max_replica_lag must be a number of seconds above 0 (math.inf: no bound) "
            f"or None for the default ({DEFAULT_MAX_REPLICA_LAG:g}), got {value!r}"
        )
    return float(value)


def _tcp_defaults(*urls: str | None) -> dict[str, Any]:
    """`TCP_DEFAULTS` that no URL sets (an option given as a keyword would override the URL's)."""
    given: set[str] = set()
    for url in urls:
        if url:
            given |= set(psycopg.conninfo.conninfo_to_dict(url))
    return {key: value for key, value in TCP_DEFAULTS.items() if key not in given}


def _suspect_after(value: Any) -> float | None:
    """A valid ``suspect_after``: a positive, finite number of seconds, or None (never check)."""
    if value is None:
        return None
    if type(value) not in (int, float) or not 0 < value < float("inf"):
        raise ConfigurationError(
            f"suspect_after must be a positive number of seconds or None, got {value!r}"
        )
    return float(value)


def check_url(url: str, name: str) -> None:
    """Raise ConfigurationError unless *url* parses (password redacted, no cause chained)."""
    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        valid = False
    else:
        valid = True
    # Raised outside the except block, so the psycopg error (which may quote
    # the password) is neither its cause nor its context.
    if not valid:
        raise ConfigurationError(f"{name} is not a valid PostgreSQL URL: {redact_url(url)}")


def timed_out(
    settings: Settings | None, timeout: float, exc: Exception, *reasons: psycopg.Error
) -> ConnectionFailed:
    """The error for a pool (of *settings*, else ``$DATABASE_URL``) out of time.

    *reasons*: what direct connection attempts said meanwhile; the last is named.
    """
    target = (settings or resolve(None)).target
    message = f"no connection to {target} within {timeout:g}s: {exc}"
    if reasons:
        message = f"{message}; last error: {from_psycopg(reasons[-1])}"
    return ConnectionFailed(message)


# The server's and libpq's wording (not translated by libpq; a server with
# translated messages gives no match, and its failures are treated as transient:
# retried until the pool timeout, and named then).
_PERMANENT = (
    "does not exist",  # database "x" (3D000) or role "x" (28000) does not exist
    "authentication failed",  # password (28P01), ident, peer, ...
    "no pg_hba.conf entry",  # 28000
    "no password supplied",
    "is not permitted to log in",  # a role without LOGIN
    "permission denied for database",  # no CONNECT privilege (42501)
    "could not translate host name",  # libpq: no such host
    "failed to resolve host",  # psycopg's own resolution: no such host ...
)
_TRANSIENT = ("temporary failure",)  # ... unless the resolver itself failed


# A failover: for a moment every host answers but none takes writes (the old
# primary shutting down or demoted, the standby not promoted yet). psycopg_pool
# would back off 1 s, then 2, 4, ... after each failed attempt, and find the
# new primary seconds after it took writes; a pool's connection attempt goes
# on trying instead, every `FAILOVER_PAUSE`, for up to `FAILOVER_WINDOW`.
FAILOVER_WINDOW = 15.0  # seconds
FAILOVER_PAUSE = 0.1  # seconds
_BETWEEN_PRIMARIES = (
    "session is read-only",  # target_session_attrs=read-write, on a standby
    "server is in hot standby mode",  # target_session_attrs=primary
    "the database system is shutting down",
    "the database system is starting up",
    "the database system is not yet accepting connections",
    "the database system is in recovery mode",
)


def between_primaries(exc: psycopg.Error) -> bool:
    """Whether a failed connection attempt found a server, but none that takes writes yet.

    The hosts answered, in recovery, read-only or shutting down, and none
    refused for good: what a failover or a switchover looks like from a
    client, until the standby is promoted.
    """
    text = str(exc)
    return any(m in text for m in _BETWEEN_PRIMARIES) and not permanent(exc)


def permanent(exc: psycopg.Error) -> bool:
    """Whether a failed connection attempt would fail again the same way (not worth waiting)."""
    text = str(exc).lower()
    return any(m in text for m in _PERMANENT) and not any(m in text for m in _TRANSIENT)


def refused(target: str, exc: psycopg.Error) -> ConnectionFailed:
    """The error for a connection refused for good: the server's reason, redacted."""
    error = ConnectionFailed(f"cannot connect to {target}: {from_psycopg(exc)}")
    error.sqlstate = exc.sqlstate
    return error


def connect_timeout(kwargs: dict[str, Any]) -> float:
    """The connect_timeout of connection arguments, in seconds (libpq's default: none)."""
    try:
        return float(kwargs.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT)) or float("inf")
    except (TypeError, ValueError):
        return float(DEFAULT_CONNECT_TIMEOUT)


def _libpq_keywords() -> frozenset[str]:
    return frozenset(opt.keyword.decode() for opt in pq.Conninfo.get_defaults())


def _redact_options(options: dict[str, Any]) -> dict[str, Any]:
    return {k: ("***" if k == "password" else v) for k, v in options.items()}
