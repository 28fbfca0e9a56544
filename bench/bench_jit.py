"""JIT on short OLTP statements: every shipped query with PostgreSQL's JIT on and off.

    python bench/bench_jit.py --url URL [--runs 3]

*URL* is a copy of the scale dataset (bench/scale_dataset.py --scale 1): the
statements are run, each in a rolled-back transaction. Each query gets the
sample values ``codezest-db check --plans`` gives it (the heaviest owner's rows,
a row deep in that user's pages), then runs under ``EXPLAIN (ANALYZE, FORMAT
JSON)`` with ``jit = on`` and ``jit = off`` in turn, the order alternating run
by run, the server's other settings as they are (``jit_above_cost`` 100000 by
default). Reported per query: the plan's total cost, whether JIT compiled
anything, the median execution time each way and their ratio, and JIT's own
time (generation, inlining, optimization, emission). Only queries whose plan
reaches ``jit_above_cost`` can differ; the rest are listed as a count.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

import psycopg
from psycopg import sql

from codezest_db._query.parse import load_specs
from codezest_db.tools.catalog import Catalog
from codezest_db.tools.plans import Prepared, prepared


def _run(conn: psycopg.Connection[Any], stmt: Prepared, jit: str) -> dict[str, Any]:
    statement = sql.SQL("explain (analyze, format json) ") + stmt.execute()
    with conn.transaction(force_rollback=True):
        conn.execute(f"set local jit = {jit}")
        conn.execute("set local plan_cache_mode = force_custom_plan")
        row = conn.execute(statement).fetchone()
    assert row is not None
    found = row[0]
    document = (json.loads(found) if isinstance(found, str) else found)[0]
    timing = document.get("JIT", {}).get("Timing", {})
    total = timing.get("Total")
    return {
        "cost": float(document["Plan"]["Total Cost"]),
        "ms": float(document["Execution Time"]),
        "jit_ms": float(total if not isinstance(total, dict) else total.get("Total", 0))
        if total is not None
        else 0.0,
        "jitted": "JIT" in document,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = []
    plain = 0
    with psycopg.connect(args.url, autocommit=True) as conn:
        threshold = conn.execute("show jit_above_cost").fetchone()
        catalog = Catalog(conn)
        for domain, specs in load_specs(None).items():
            for spec in specs:
                if not spec.sql:
                    continue
                runs: dict[str, list[dict[str, Any]]] = {"on": [], "off": []}
                try:
                    with prepared(conn, catalog, spec) as stmt:
                        for i in range(args.runs):
                            for jit in ("on", "off") if i % 2 == 0 else ("off", "on"):
                                runs[jit].append(_run(conn, stmt, jit))
                except psycopg.Error:
                    continue  # it does not prepare, or the sample values break a constraint
                if not any(r["jitted"] for r in runs["on"]):
                    plain += 1
                    continue
                on = statistics.median(r["ms"] for r in runs["on"])
                off = statistics.median(r["ms"] for r in runs["off"])
                jit_ms = statistics.median(r["jit_ms"] for r in runs["on"])
                rows.append((f"{domain}.{spec.name}", runs["on"][0]["cost"], on, off, jit_ms))
    print(f"jit_above_cost = {threshold[0] if threshold else '?'}; {args.runs} runs each way")
    print(f"{plain} queries never reach it (no JIT, nothing to compare)")
    head = ("query", "cost", "jit on ms", "jit off ms", "on/off", "JIT ms")
    print("{:48} {:>10} {:>10} {:>11} {:>7} {:>7}".format(*head))
    for query, cost, on, off, jit_ms in sorted(rows, key=lambda r: r[2] / max(r[3], 1e-3)):
        ratio = on / max(off, 1e-3)
        print(f"{query:48} {cost:10.0f} {on:10.1f} {off:11.1f} {ratio:7.2f} {jit_ms:7.1f}")


if __name__ == "__main__":
    main()
