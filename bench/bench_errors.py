"""How long a huge bad value takes to fail: our typed error next to raw psycopg's.

    python bench/bench_errors.py [--url URL] [--rounds R] [--sizes 1000000,10000000]

PostgreSQL echoes a malformed value in its error message: a 10 MB string cast
to uuid comes back as a 10 MB message. For each size, R rounds interleave:

- query:  raw psycopg runs the SQL of ``get_user_by_id`` with the bad id (and
          gets the server's error); ours is the query function, whose
          parameter check refuses it before sending (``InvalidValue``);
- echoed: raw psycopg ``select %s::uuid``; ours is the same plus
          ``errors.from_psycopg`` on the 10 MB error (classify, cut, redact),
          as code in a ``connection()`` block would do.

It prints medians (milliseconds) and ours - raw, whose target (issue 10) is
within 50 ms. It also times `errors.redact_text` alone on 10 MB of hostile
text, and counts the calls a second thread completes during one echoed
failure (the thread must not be starved). Without --url: a throwaway
embedded server; a --url database is created and migrated if need be (give
it a database of its own).
"""

import argparse
import contextlib
import statistics
import threading
import time
from collections.abc import Callable
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


def cases(conn: psycopg.Connection[Any], size: int) -> dict[str, tuple[Any, Any]]:
    """name -> (raw psycopg call, our call); both must raise."""
    bad = "x" * size
    query = queries.auth.get_user_by_id

    def echoed() -> None:
        try:
            conn.execute("select %s::uuid", (bad,))
        except psycopg.Error as exc:
            raise errors.from_psycopg(exc) from exc

    return {
        "query get_user_by_id(id=<bad>)": (
            lambda: conn.execute(query.sql, {"id": bad}),
            lambda: query(conn, id=bad),
        ),
        "echoed select %s::uuid": (lambda: conn.execute("select %s::uuid", (bad,)), echoed),
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
        print(f"server {conn.info.server_version}, {args.rounds} rounds, milliseconds (median)")
        for size in sizes:
            for name, (raw_call, our_call) in cases(conn, size).items():
                timings: dict[str, list[float]] = {"raw": [], "ours": []}
                for _ in range(args.rounds):
                    timings["raw"].append(fails(raw_call, psycopg.Error))
                    timings["ours"].append(fails(our_call, errors.ConstraintViolation))
                raw, ours = (statistics.median(timings[k]) for k in ("raw", "ours"))
                print(
                    f"  {size / 1e6:g} MB {name:32} raw {raw:7.1f}  ours {ours:7.1f}  "
                    f"ours - raw {ours - raw:+7.1f} (target < +50)"
                )
        _, echoed = cases(conn, sizes[-1])["echoed select %s::uuid"]
        during = other_thread_calls(url, echoed)
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
