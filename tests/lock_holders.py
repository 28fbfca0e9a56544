"""A long report holding a lock, and a service working beside it, for the tests of
migrations and jobs that must give way to the one and never stall the other."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import errors as pg_errors

from codezest_db import errors

TEST_TIMEOUT = 60.0  # seconds: the longest a reader holds on, or a test waits for one


class Reader(threading.Thread):
    """A long report: holds ACCESS SHARE on *table* until *release* is set (or the test timeout).

    With *snapshot*, in a repeatable-read transaction, which keeps its snapshot.
    """

    def __init__(self, url: str, table: str = "app.items", *, snapshot: bool = False) -> None:
        super().__init__(daemon=True)
        self.url, self.table, self.snapshot = url, table, snapshot
        self.holding = threading.Event()
        self.release = threading.Event()
        self.pid = 0

    def run(self) -> None:
        with psycopg.connect(self.url, application_name="monthly-report") as conn:
            self.pid = conn.info.backend_pid
            if self.snapshot:
                conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.execute(f"select count(*) from {self.table}")
            self.holding.set()
            self.release.wait(TEST_TIMEOUT)
            conn.rollback()

    def __enter__(self) -> Reader:
        self.start()
        assert self.holding.wait(TEST_TIMEOUT)
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.join(TEST_TIMEOUT)


class Service(threading.Thread):
    """A service: *work* on its own autocommit connection every 50 ms, each time under
    *lock_timeout*; counts the calls done and those that timed out on a lock, and
    the longest call. Any other failure is kept and fails `finish`."""

    def __init__(
        self, url: str, work: Callable[[psycopg.Connection[Any]], object], lock_timeout: str
    ) -> None:
        super().__init__(daemon=True)
        self.url, self.work, self.lock_timeout = url, work, lock_timeout
        self.done = 0
        self.timed_out = 0
        self.longest = 0.0
        self.other: list[BaseException] = []
        self.stop = threading.Event()

    def run(self) -> None:
        try:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute(f"set lock_timeout = '{self.lock_timeout}'")
                while not self.stop.is_set():
                    start = time.perf_counter()
                    try:
                        self.work(conn)
                        self.done += 1
                    except (pg_errors.LockNotAvailable, errors.LockNotAvailable):
                        self.timed_out += 1
                    self.longest = max(self.longest, time.perf_counter() - start)
                    self.stop.wait(0.05)
        except BaseException as exc:  # reported by finish()
            self.other.append(exc)

    def finish(self) -> None:
        self.stop.set()
        self.join(TEST_TIMEOUT)
        assert not self.is_alive()
        assert self.other == []
