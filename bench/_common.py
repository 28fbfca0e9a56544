"""What the benches share: users to look up, and the time of one call."""

from __future__ import annotations

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
