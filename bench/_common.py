"""What the benches share: users to look up, the time of one call, and how two compare."""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Callable

import psycopg

from codezest_db import queries


def seed(url: str, count: int) -> list[str]:
    """Create *count* users on *url*; return their emails."""
    emails = [f"bench-{i}-{uuid.uuid4().hex[:6]}@example.com" for i in range(count)]
    with psycopg.connect(url) as conn:
        for email in emails:
            queries.auth.create_user(conn, email=email, password_hash="h", name="B", role="STUDENT")
    return emails


def per_call_us(call: Callable[[int], object], calls: int) -> float:
    """Microseconds per call of *calls* calls ``call(0)``, ``call(1)``, ..."""
    start = time.perf_counter()
    for i in range(calls):
        call(i)
    return (time.perf_counter() - start) / calls * 1e6


def paired(ours: list[float], theirs: list[float]) -> tuple[float, float]:
    """(the median of the per-round ratios, the ratio of the medians) of two interleaved series.

    Per round, two contenders ran back to back, so a slow spell of the machine
    weighs on both: the first figure is the one to read, the second is beside it.
    """
    per_round = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
    return per_round, statistics.median(ours) / statistics.median(theirs)
