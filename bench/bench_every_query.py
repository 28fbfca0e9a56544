"""Every shipped query at scale, for the heavy user and a typical one, before and after.

    python bench/bench_every_query.py --before URL --after URL [--old 0.2.0] [--runs 3]

*--before* is the scale dataset (bench/scale_dataset.py --scale 1) at the
schema of release *--old*, and runs that release's queries
(db/releases/<old>/queries); *--after* is a copy of it migrated to this
release, and runs queries/. Each query is prepared and run under ``EXPLAIN
(ANALYZE, BUFFERS, FORMAT JSON)`` with its custom plan, in a rolled-back
transaction, with the sample values ``codezest-db check --plans`` gives it
(the heaviest owner's rows, a row deep in that user's pages), with ``jit``
off as docs/scaling.md has the services run (``--jit on`` for the server's
default), once as they
are (the heavy user: 5% of every per-user table) and once with every
``user_id`` the typical user's (user 2 of the dataset). Per query and user:
the median server execution time of *--runs* runs and the buffers of the
last, before and after, and whether it meets issue 21's goals (a read under
5 ms for a typical user and 20 ms for the heavy one; an aggregate or job
batch under 50 ms). A query whose sample values break a constraint (a
duplicate key, a missing reference) is only planned there, and listed as
such.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import uuid
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from codezest_db._query.parse import QuerySpec, domain_files, load_domain, load_specs
from codezest_db.tools.catalog import Catalog
from codezest_db.tools.plans import prepared

ROOT = Path(__file__).resolve().parent.parent
# Aggregates and jobs: the 50 ms goal; every other read has 5 ms / 20 ms.
SLOWER = ("count_", "compact_", "roll_up_", "delete_", "expire_", "create_event", "drop_event")


def typical_user(seed: int = 13) -> uuid.UUID:
    """User 2 of the scale dataset: an ordinary user (user 1 is the heavy one)."""
    return uuid.UUID(hashlib.md5(f"{seed}:user:2".encode()).hexdigest())


def run(
    conn: psycopg.Connection[Any], spec: QuerySpec, runs: int, user: uuid.UUID | None
) -> tuple[float, int] | None:
    """Median execution ms and buffers of *spec*, or None where its values break a constraint."""
    with prepared(conn, Catalog(conn), spec) as stmt:
        values = [
            user if user is not None and param == "user_id" else value
            for param, value in zip(stmt.params, stmt.values, strict=True)
        ]
        statement = sql.SQL("explain (analyze, buffers, format json) ") + stmt.execute(values)
        times: list[float] = []
        buffers = 0
        for _ in range(runs):
            try:
                with conn.transaction(force_rollback=True):
                    conn.execute("set local plan_cache_mode = force_custom_plan")
                    row = conn.execute(statement).fetchone()
            except psycopg.errors.QueryCanceled:
                raise
            except psycopg.Error:
                return None
            found = row[0] if row else None
            document = (json.loads(found) if isinstance(found, str) else found)[0]
            plan = document["Plan"]
            times.append(float(document["Execution Time"]))
            buffers = int(plan.get("Shared Hit Blocks", 0)) + int(plan.get("Shared Read Blocks", 0))
    return statistics.median(times), buffers


def specs_of(root: Path | None, old: bool) -> dict[str, QuerySpec]:
    if not old:
        loaded = load_specs(root)
    else:
        assert root is not None
        loaded = {d: load_domain(d, p, models=False) for d, p in domain_files(root).items()}
    return {f"{d}.{s.name}": s for d, specs in loaded.items() for s in specs if s.sql}


def goal(name: str, heavy: bool) -> float:
    short = name.split(".", 1)[1]
    if short.startswith(SLOWER):
        return 50.0
    return 20.0 if heavy else 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--old", default="0.2.0")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--jit", choices=("on", "off"), default="off", help="as the services run (docs/scaling.md)"
    )
    args = parser.parse_args()
    old = specs_of(ROOT / "db" / "releases" / args.old / "queries", old=True)
    new = specs_of(None, old=False)
    typical = typical_user()
    rows = []
    with psycopg.connect(args.before) as before, psycopg.connect(args.after) as after:
        for conn in (before, after):
            conn.execute("select set_config('jit', %s, false)", (args.jit,))
            conn.commit()
        for name, spec in sorted(new.items()):
            for who, user in (("heavy", None), ("typical", typical)):
                if who == "typical" and "user_id" not in spec.params:
                    continue
                then = run(before, old[name], args.runs, user) if name in old else None
                now = run(after, spec, args.runs, user)
                rows.append((name, who, then, now))
    misses = 0
    print(
        f"custom plans, jit {args.jit}, median of {args.runs} runs, server execution time;"
        " buffers of the last"
    )
    print(f"{'query':46} {'user':8} {'before ms':>10} {'buf':>7} {'after ms':>9} {'buf':>7} goal")
    for name, who, then, now in rows:
        limit = goal(name, who == "heavy")
        b = f"{then[0]:10.2f} {then[1]:7d}" if then else f"{'-':>10} {'-':>7}"
        if now is None:
            a, verdict = f"{'planned':>9} {'-':>7}", "not run (sample values break a constraint)"
        else:
            a = f"{now[0]:9.2f} {now[1]:7d}"
            verdict = f"< {limit:g} ms" if now[0] < limit else f"MISSED (< {limit:g} ms)"
            misses += now[0] >= limit
        print(f"{name:46} {who:8} {b} {a} {verdict}")
    print(f"{misses} of {sum(1 for r in rows if r[3] is not None)} measured calls miss their goal")


if __name__ == "__main__":
    main()
