"""The sync and asyncio twins behave alike, and the generated twins are current.

`codezest_db.pool`, `codezest_db._query.call` and `codezest_db._query.execute`
are generated from their asyncio sources by ``tools/async_to_sync.py``, so
they cannot drift by hand; these tests see what generation cannot: the same
scenario, written once (as asyncio code, turned into its sync twin by the same
transform), run through both twins, must give the same results and the same
errors, step by step.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from codezest_db import aio, errors
from codezest_db import pool as db
from codezest_db import queries as sync_queries
from tests.conftest import unique_email

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import async_to_sync  # noqa: E402 - tools/ is not a package


def test_generated_twins_are_current() -> None:
    """CI fails on a stale twin: edit the asyncio source, then run the generator."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "async_to_sync.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def test_a_stale_twin_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check compares text: a generated twin edited by hand is reported."""
    twin = async_to_sync.TWINS[0]
    copy = tmp_path / "pool.py"
    copy.write_text((ROOT / twin.target).read_text())
    monkeypatch.setattr(
        async_to_sync, "TWINS", [async_to_sync.Twin(twin.source, str(copy), doc=twin.doc)]
    )
    assert async_to_sync.stale() == []  # a faithful copy is current
    copy.write_text(copy.read_text().replace("def run(", "def run(  # edited by hand\n", 1))
    assert async_to_sync.stale() == [str(copy)]


def test_the_transform_keeps_the_sync_branch_only() -> None:
    source = textwrap.dedent(
        """
        ASYNC: Final = True

        async def f(conn: AsyncConnection) -> int:
            if ASYNC:
                loop = asyncio.get_running_loop()
            else:
                loop = None  # sync
            async with conn.transaction():
                await conn.execute("x")
            return 1 if ASYNC else 2
        """
    )
    tree = async_to_sync._ToSync(async_to_sync.RENAMES, {}).visit(ast.parse(source))
    assert ast.unparse(tree) == textwrap.dedent(
        """\
        def f(conn: Connection) -> int:
            loop = None
            with conn.transaction():
                conn.execute('x')
            return 2"""
    )


# The scenario, written once. Each step's outcome is recorded as plain data:
# ("ok", what came back) or ("error", the error's class, its message).


async def scenario(api: Any, q: Any, url: str, email: str) -> list[Any]:
    out: list[Any] = []
    api.configure(url, replica_url="", min_size=1, max_size=2, timeout=0.5)

    user = await q.auth.create_user(email=email, password_hash="h", name="Twin", role="STUDENT")
    out.append(("ok", user.email, user.name, user.role.value, type(user).__name__))
    try:
        await q.auth.create_user(email=email, password_hash="h", name="Twin", role="STUDENT")
    except errors.DatabaseError as exc:
        out.append(("error", type(exc).__name__, exc.sqlstate))
    found = await q.auth.get_user_by_email(email=email.upper())
    out.append(("ok", found == user, await q.auth.get_user_by_email(email="no-" + email)))
    for bad in ({"email": 42}, {"mail": email}, {}):
        try:
            await q.auth.get_user_by_email(**bad)
        except errors.DatabaseError as exc:
            out.append(("error", type(exc).__name__, str(exc)))
    try:
        await q.auth.get_user_by_email(object(), email=email)
    except TypeError as exc:
        out.append(("error", "TypeError", str(exc).split(",")[0]))

    other = "rolled-back-" + email
    try:
        async with api.connection() as conn:
            await q.auth.create_user(conn, email=other, password_hash="h", name="R", role="ADMIN")
            raise LookupError("undo")
    except LookupError as exc:
        out.append(("error", "LookupError", str(exc)))
    out.append(("ok", await q.auth.get_user_by_email(email=other)))

    async with api.transaction() as conn:
        try:
            async with api.transaction(conn):  # a savepoint: its failure undoes only it
                new = {"email": other, "password_hash": "h", "name": "S", "role": "ADMIN"}
                await q.auth.create_user(conn, **new)
                await q.auth.create_user(conn, **new)
        except errors.AlreadyExists as exc:
            out.append(("error", type(exc).__name__, exc.sqlstate))
        kept = await q.auth.get_user_by_email(conn, email=other)
        out.append(("ok", kept))

    async with api.connection() as a, api.connection() as b:
        out.append(("ok", a is not b))
        try:
            async with api.connection(timeout=0.2):
                pass
        except errors.ConnectionFailed as exc:
            out.append(("error", type(exc).__name__, "within 0.2s" in str(exc)))
    stats = api.pool_stats()
    out.append(("ok", sorted(stats), stats["primary"]["pool_max"]))

    await api.close()
    out.append(("ok", api.pool_stats()))
    again = await q.auth.get_user_by_email(email=email)  # a closed pool opens again
    out.append(("ok", again == user))
    await api.close()
    return out


def _sync_twin() -> Any:
    """`scenario` through the generator's own transform: its sync twin."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(scenario)))
    tree = async_to_sync._ToSync(async_to_sync.RENAMES, {}).visit(tree)
    ast.fix_missing_locations(tree)
    namespace: dict[str, Any] = {"Any": Any, "errors": errors}
    exec(compile(tree, __file__, "exec"), namespace)
    return namespace["scenario"]


def _normal(outcomes: list[Any], email: str) -> list[str]:
    """One line a step, the emails made alike, and each twin's class named alike."""
    return [
        repr(step).replace(email, "EMAIL").replace("AsyncConnection", "Connection")
        for step in outcomes
    ]


def test_the_same_scenario_gives_the_same_outcomes_in_both_twins(configured: str) -> None:
    sync_email, async_email = unique_email("twin-sync"), unique_email("twin-async")
    synced = _sync_twin()(db, sync_queries, configured, sync_email)
    awaited = asyncio.run(scenario(aio, aio.queries, configured, async_email))
    assert _normal(synced, sync_email) == _normal(awaited, async_email)
    assert len(synced) == 16  # every step was recorded, in both
    assert synced[1][1] == "AlreadyExists"
    assert synced[-2] == ("ok", {})  # closed: no pool open
