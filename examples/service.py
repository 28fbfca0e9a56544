"""A sample CodeZest service: it refuses to start on a schema that is behind, and serves /healthz.

    DATABASE_URL=postgresql://... python examples/service.py

HOST (default 0.0.0.0) and PORT (default 8000) say where it listens. ``GET
/healthz`` answers 200 ``{"status": "ok"}`` while every migration of the
installed codezest-db is applied, else 503 with the reason (a readiness probe:
a rollback or an unreachable database takes the service out of rotation).
"""

from __future__ import annotations

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import codezest_db as db
from codezest_db import errors


class Health(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path != "/healthz":
            self._answer(404, {"status": "not found"})
            return
        try:
            pending = db.pending_migrations()  # one query on a pooled connection
        except errors.DatabaseError as exc:
            self._answer(503, {"status": "database unavailable", "reason": str(exc)})
            return
        if pending:
            self._answer(503, {"status": "schema out of date", "pending": pending})
        else:
            self._answer(200, {"status": "ok", "codezest_db": db.__version__})

    def _answer(self, code: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass  # probes every few seconds: no access log


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # as PID 1 in a container, SIGTERM has no default action


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    try:
        db.require_current()  # before serving anything
    except errors.DatabaseError as exc:
        print(f"service: not starting: {exc}", file=sys.stderr)
        return 1
    host, port = os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "8000"))
    server = ThreadingHTTPServer((host, port), Health)
    print(f"service: serving http://{host}:{port}/healthz", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
