"""A long report holding a lock, for the tests of migrations and jobs that must give way to it."""

from __future__ import annotations

import threading

import psycopg

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
