"""How fast `codezest-db seed` fills a fresh database: rows per second, per table and in total.

    python bench/bench_seed.py --users 100000 [--url postgresql://...]

Without --url it uses a temporary embedded PostgreSQL. The database is created
fresh (and dropped after), migrated, then seeded once; the figures are printed.
"""

from __future__ import annotations

import argparse
import time
import uuid

import psycopg
from psycopg import sql

from codezest_db import embedded, migrate
from codezest_db.tools.seed.fill import rate, seed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--url", help="admin URL of a server (default: temporary embedded)")
    args = parser.parse_args()
    server = None if args.url else embedded.start(temporary=True)
    admin = args.url or server.url("postgres")  # type: ignore[union-attr]
    name = f"codezest_bench_seed_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    params = psycopg.conninfo.conninfo_to_dict(admin)
    params["dbname"] = name
    url = psycopg.conninfo.make_conninfo("", **params)
    try:
        migrate.up(url)
        start = time.perf_counter()
        counts = seed(url, users=args.users, random_seed=1)
        seconds = time.perf_counter() - start
        with psycopg.connect(url) as conn:
            version = conn.info.server_version
        print(f"PostgreSQL {version // 10000}, {args.users:,} users")
        for table, count in sorted(counts.items(), key=lambda kv: -kv[1])[:8]:
            print(f"  {table:<40} {count:>12,}")
        print(f"seed: {rate(counts, seconds)}")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
