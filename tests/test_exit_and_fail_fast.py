"""Exit without close(), against a real server.

An asyncio program that never calls ``aio.close()`` must end: a script using
both twins across two ``asyncio.run`` calls is run 50 times in subprocesses,
each bounded by a timeout (a hang fails the test).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

NEVER_CLOSES = textwrap.dedent(
    """
    import asyncio, sys
    from codezest_db import aio, pool

    url = sys.argv[1]
    pool.configure(url)
    aio.configure(url)

    async def main():
        async with aio.connection() as conn:
            await conn.execute("select 1")
        with pool.connection() as conn:
            conn.execute("select 1")

    asyncio.run(main())
    asyncio.run(main())
    print("done")
    """
)


def _run(script: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )


def test_a_script_that_never_closes_exits_every_time(test_database_url: str) -> None:
    hangs, failures = 0, []
    for _ in range(50):
        try:
            done = _run(NEVER_CLOSES, test_database_url, timeout=20)
        except subprocess.TimeoutExpired:
            hangs += 1
            continue
        if done.returncode != 0 or done.stdout.strip() != "done":
            failures.append(done.stderr[-500:])
    assert hangs == 0, f"{hangs} of 50 runs hung at exit"
    assert not failures, failures[0]
