"""``codezest-db studio``: a web data browser of the five schemas, on 127.0.0.1 only.

Built on sqladmin (see the README for why). Needs the ``[studio]`` extra,
imported only when the command runs. Every page lives under a random token
printed at start; anything else is a 404. Connections are read-only unless
``--write``; ``--role codezest_<service>`` browses as that service's role.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket

from ...errors import ConfigurationError

__all__ = ["ROLES", "add_arguments", "run"]

ROLES = tuple(
    f"codezest_{s}" for s in ("auth", "learning", "payments", "notifications", "activity")
)
HOST = "127.0.0.1"  # never another interface: the studio shows every row


def _port(text: str) -> int:
    if not text.isdigit() or int(text) > 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535, got {text!r}")
    return int(text)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``--port``, ``--write`` and ``--role`` of ``codezest-db studio``."""
    parser.add_argument(
        "--port", type=_port, default=5555, help="port on 127.0.0.1 (default 5555; 0: any free)"
    )
    parser.add_argument(
        "--write", action="store_true", help="allow create, edit and delete (default read-only)"
    )
    parser.add_argument("--role", choices=ROLES, help="browse as this service's role")


def run(args: argparse.Namespace) -> None:
    """Serve until interrupted.

    Raises ConfigurationError when the [studio] extra is missing, the URL is
    malformed or the port is taken, ConnectionFailed when the database does
    not answer (a refused port, a missing database, a wrong password) and
    SchemaOutOfDate when it lacks migrations: each one line, no traceback.
    """
    try:
        import sqladmin  # noqa: F401
        import uvicorn
    except ImportError as exc:
        raise ConfigurationError(
            f"codezest-db studio needs {exc.name or exc}: pip install 'codezest-db[studio]'"
        ) from None
    from ... import migrate, schema
    from ..scratch import development_database
    from .app import build_app

    given = args.url or os.environ.get("DATABASE_URL")
    url = development_database(args.url)
    if not given:
        migrate.up(url)  # the embedded default may be brand new
    # Fail here, in one line, rather than in SQLAlchemy's reflection with a traceback.
    schema.require_current(url)
    token = secrets.token_urlsafe(24)
    app = build_app(url, token=token, write=args.write, role=args.role)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, args.port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(f"cannot listen on {HOST}:{args.port}: {exc.strerror}") from None
    sock.listen(128)  # connections queue from now on, before the URL is printed
    port = sock.getsockname()[1]
    mode = "read-write" if args.write else "read-only"
    print(f"studio ({mode}): http://{HOST}:{port}/{token}/", flush=True)
    # uvicorn stops gracefully on SIGTERM, then re-raises it: exit through
    # SystemExit, not the default handler, so atexit hooks run (they stop the
    # embedded server this process started).
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        server.run(sockets=[sock])
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminated(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)
