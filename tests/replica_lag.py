"""Waiting for the replica's lag to be measured, for tests that route reads there.

Reads go to the primary until the pools' monitor thread (`codezest_db._replicas`)
has measured the replica once; a test that counts reads on the replica waits here
first, or a slow machine sends its first reads to the primary.
"""

from __future__ import annotations

import asyncio
import time

import codezest_db
from codezest_db import aio


def within_bound(stats: dict[str, int]) -> bool:
    """Whether the replica's lag is measured and under the bound (-1: none)."""
    lag, bound = stats["replica_lag_ms"], stats["max_replica_lag_ms"]
    return lag >= 0 and (bound < 0 or lag < bound)


def wait_measured(timeout: float = 15.0) -> None:
    """Open the pools (both twins share the replica's monitor); wait for reads to go there."""
    codezest_db.pool.get_pool(replica=True)
    deadline = time.monotonic() + timeout
    while not within_bound(codezest_db.pool_stats()["replica"]):
        assert time.monotonic() < deadline, "the replica's lag was never under the bound"
        time.sleep(0.01)


async def wait_measured_async(timeout: float = 15.0) -> None:
    await aio.get_pool(replica=True)
    deadline = time.monotonic() + timeout
    while not within_bound(aio.pool_stats()["replica"]):
        assert time.monotonic() < deadline, "the replica's lag was never under the bound"
        await asyncio.sleep(0.01)
