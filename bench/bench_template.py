"""Time to get a freshly migrated database: dbmate every time, or a copy of the template.

    python bench/bench_template.py [--url URL] [--rounds R]

What a test session (and each ``configured`` test) pays for its database:

- migrate:   ``create database`` + ``codezest_db.migrate.up`` (dbmate applies every migration)
- template:  ``CREATE DATABASE ... TEMPLATE codezest_template_<checksum>`` through
             ``codezest_db.testing.templates.migrated_copy`` (the template already built,
             as it is on a server that persists between sessions)
- template (first session): the same when the template must be built first (a new
             server, or new migrations): the migrate cost plus one copy
- empty:     ``create database`` alone (a copy of template1), the floor of any of them

R rounds, interleaved; each database is dropped right after. Prints the median
and best of each, and the ratio of the medians. Without --url it runs on a
throwaway embedded PostgreSQL. URL is a maintenance database (``postgres``).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import uuid
from collections.abc import Callable, Iterator

import psycopg
from psycopg import sql

from codezest_db import embedded, migrate
from codezest_db.testing import templates


@contextlib.contextmanager
def server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    started = embedded.start(temporary=True)
    try:
        yield started.url("postgres")
    finally:
        started.stop()


def url_for(admin_url: str, name: str) -> str:
    params = psycopg.conninfo.conninfo_to_dict(admin_url)
    params["dbname"] = name
    return psycopg.conninfo.make_conninfo("", **params)


def execute(admin_url: str, statement: sql.Composable) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(statement)


def drop(admin_url: str, name: str) -> None:
    execute(admin_url, sql.SQL("drop database if exists {}").format(sql.Identifier(name)))


def by_migrating(admin_url: str, name: str) -> None:
    execute(admin_url, sql.SQL("create database {}").format(sql.Identifier(name)))
    migrate.up(url_for(admin_url, name))


def by_creating(admin_url: str, name: str) -> None:
    execute(admin_url, sql.SQL("create database {}").format(sql.Identifier(name)))


def by_copying(admin_url: str, name: str) -> None:
    templates.migrated_copy(admin_url, lambda db: url_for(admin_url, db), name)


def timed(admin_url: str, name: str, make: Callable[[str, str], None]) -> float:
    if name == "template (first session)":
        templates.drop_template(admin_url)  # not timed: a new server has none
    name = f"codezest_bench_{uuid.uuid4().hex[:10]}"
    start = time.perf_counter()
    make(admin_url, name)
    elapsed = time.perf_counter() - start
    drop(admin_url, name)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a maintenance database URL (default: throwaway embedded)")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    contenders: dict[str, Callable[[str, str], None]] = {
        "migrate": by_migrating,
        "template": by_copying,
        "template (first session)": by_copying,
        "empty": by_creating,
    }
    with server(args.url) as admin_url:
        with psycopg.connect(admin_url) as probe:
            version = probe.info.parameter_status("server_version")
        # The template exists from here on; was it there before?
        existed = templates.migrated_copy(
            admin_url, lambda db: url_for(admin_url, db), "codezest_bench_warmup"
        )
        drop(admin_url, "codezest_bench_warmup")
        times: dict[str, list[float]] = {name: [] for name in contenders}
        for _ in range(args.rounds):
            for name, make in contenders.items():
                times[name].append(timed(admin_url, name, make))
            by_copying(admin_url, "codezest_bench_warmup")  # rebuilt for the next round
            drop(admin_url, "codezest_bench_warmup")
        if not existed:  # leave the server as found
            templates.drop_template(admin_url)
    print(f"PostgreSQL {version}, {args.rounds} rounds interleaved")
    base = statistics.median(times["migrate"])
    for name, values in times.items():
        median = statistics.median(values)
        print(
            f"{name:26} median {median * 1000:8.1f} ms   best {min(values) * 1000:8.1f} ms"
            f"   {base / median:5.2f}x migrate"
        )


if __name__ == "__main__":
    main()
