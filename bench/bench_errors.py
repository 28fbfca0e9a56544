"""How long a huge bad value takes to fail: our typed error next to raw psycopg's.

    python bench/bench_errors.py [--url URL] [--rounds R] [--sizes 1000000,10000000]

PostgreSQL echoes a malformed value in its error message, so a 10 MB string
for a uuid parameter comes back as a 10 MB message that we classify, cut and
redact. For each size and case, R rounds interleave:

- raw:  psycopg ``conn.execute(sql, params)`` with the very SQL of the query,
        catching ``psycopg.Error``;
- ours: the query function, catching the typed ``errors.ConstraintViolation``.

It prints medians (milliseconds) and ours - raw, whose target (issue 10) is
within 50 ms. It also times `errors.redact_text` alone on 10 MB of hostile
text, and counts the calls a second thread completes during one failing call
(the thread must not be starved). Without --url: a throwaway embedded
server; a --url database is created and migrated if need be (give it a
database of its own).
"""

import argparse
import contextlib
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from codezest_db import errors, migrate, queries
from codezest_db.tools.scratch import migrated_database


def fails(call: Callable[[], object], expected: type[BaseException]) -> float:
    start = time.perf_counter()
    try:
        call()
    except expected:
        return (time.perf_counter() - start) * 1e3
    raise AssertionError("the call did not fail")


def cases(conn: psycopg.Connection[Any], user_id: uuid.UUID, size: int) -> dict[str, Any]:
    """name -> (query function, its keyword arguments)."""
    bad = "x" * size
    expires = datetime.now(UTC) + timedelta(days=1)
    return {
        "get_user_by_id(id=<bad uuid>)": (queries.auth.get_user_by_id, {"id": bad}),
        "create_session(ip_address=<bad inet>)": (
            queries.auth.create_session,
            {
                "user_id": user_id,
                "token_hash": uuid.uuid4().hex,
                "expires_at": expires,
                "user_agent": None,
                "ip_address": bad,
            },
        ),
    }


def other_thread_calls(url: str, failing: Callable[[], object]) -> int:
    """Calls a second thread completes while *failing* runs in this one."""
    stop = threading.Event()
    count = 0

    def work() -> None:
        nonlocal count
        with psycopg.connect(url, autocommit=True) as conn:
            while not stop.is_set():
                queries.auth.get_user_by_email(conn, email="nobody@example.com")
                count += 1

    thread = threading.Thread(target=work)
    thread.start()
    time.sleep(0.2)  # let it connect and warm up
    before = count
    with contextlib.suppress(errors.ConstraintViolation):
        failing()
    during = count - before
    stop.set()
    thread.join()
    return during


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a PostgreSQL URL (default: embedded, throwaway)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--sizes", default="1000000,10000000")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    scratch = contextlib.ExitStack()
    url = scratch.enter_context(migrated_database(args.url))
    migrate.up(url)  # a --url database is created and migrated if need be
    with scratch, psycopg.connect(url, autocommit=True) as conn:
        user = queries.auth.create_user(
            conn,
            email=f"bench-{uuid.uuid4().hex[:8]}@example.com",
            password_hash="h",
            name="B",
            role="STUDENT",
        )
        print(f"server {conn.info.server_version}, {args.rounds} rounds, milliseconds (median)")
        for size in sizes:
            for name, (query, params) in cases(conn, user.id, size).items():
                sql = query.sql
                timings: dict[str, list[float]] = {"raw": [], "ours": []}
                for _ in range(args.rounds):
                    timings["raw"].append(
                        fails(lambda: conn.execute(sql, params), psycopg.Error)  # noqa: B023
                    )
                    timings["ours"].append(
                        fails(lambda: query(conn, **params), errors.ConstraintViolation)  # noqa: B023
                    )
                raw, ours = (statistics.median(timings[k]) for k in ("raw", "ours"))
                print(
                    f"  {size / 1e6:g} MB {name:40} raw {raw:7.1f}  ours {ours:7.1f}  "
                    f"ours - raw {ours - raw:+6.1f} (target < +50)  ratio {ours / raw:.3f}"
                )
        query, params = cases(conn, user.id, sizes[-1])["get_user_by_id(id=<bad uuid>)"]
        during = other_thread_calls(url, lambda: query(conn, **params))
        print(f"another thread completed {during} calls during one {sizes[-1]:,}-char failure")

    for label, text in {
        "10 MB of 'x'": "x" * 10_000_000,
        "10 MB of '://a:'": "://a:" * 2_000_000,
        "10 MB of 'password=\\'": "password=\\" * 1_000_000,
    }.items():
        start = time.perf_counter()
        errors.redact_text(text)
        print(f"redact_text({label}): {(time.perf_counter() - start) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
