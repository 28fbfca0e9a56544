"""codezest_db/ uses only the public APIs of psycopg, psycopg_pool, aiosql and sqladmin.

A private name of a dependency (``pipeline._enqueue_sync``, ``loader.load_query_data_from_sql``
is public-looking but lives in a private module, ...) can change in any minor
release without notice: the runtime or the test kit would break before any
test noticed. Where no public API can do a thing at all, it must live in a
``_compat.py`` module (none is needed today), named here as the only place allowed.

Two checks: a static one over the source (private attributes, private
modules, private imported names), and a behavioural one (the pools leave no
attribute of ours on psycopg's connection objects).
"""

from __future__ import annotations

import ast
import asyncio
import importlib.util
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg_pool import AsyncConnectionPool, ConnectionPool

import codezest_db
from codezest_db import aio, queries
from codezest_db import pool as db

PACKAGE = Path(codezest_db.__file__).parent
DEPENDENCIES = ("psycopg", "psycopg_pool", "aiosql", "sqladmin")
ALLOWED = {"_compat.py"}  # where a missing public API would be worked around, said why


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _our_modules() -> Iterator[Path]:
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name not in ALLOWED and "_sql" not in path.parts:
            yield path


def _dependency_private_names() -> frozenset[str]:
    """Every private attribute name the dependencies define (functions, methods, attributes)."""
    names: set[str] = set()
    for dep in DEPENDENCIES:
        spec = importlib.util.find_spec(dep)
        assert spec is not None and spec.origin is not None, f"{dep} is not installed"
        for path in Path(spec.origin).parent.rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.Name):
                    names.add(node.id)
    return frozenset(n for n in names if _private(n))


def _our_own_names() -> frozenset[str]:
    """Private names our own code defines: ``self._lock`` of ours is not psycopg's."""
    names: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                names.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                names.add(node.value)  # __slots__ entries
            elif isinstance(node, ast.alias) and node.asname:
                names.add(node.asname)
    return frozenset(n for n in names if _private(n))


def violations(source: str, where: str, theirs: frozenset[str], ours: frozenset[str]) -> list[str]:
    """What in *source* reaches into a dependency's private names."""
    found = []
    tree = ast.parse(source)
    for node in ast.walk(tree):
        line = f"{where}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.ImportFrom) and node.module:
            root, *parts = node.module.split(".")
            if root in DEPENDENCIES:
                if any(_private(p) for p in parts):
                    found.append(f"{line}: imports private module {node.module}")
                found += [
                    f"{line}: imports private name {node.module}.{alias.name}"
                    for alias in node.names
                    if _private(alias.name)
                ]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                root, *parts = alias.name.split(".")
                if root in DEPENDENCIES and any(_private(p) for p in parts):
                    found.append(f"{line}: imports private module {alias.name}")
        elif isinstance(node, ast.Attribute) and node.attr in theirs and node.attr not in ours:
            found.append(f"{line}: uses private attribute .{node.attr}")
        elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr":
            target = node.args[0] if node.args else None
            if not (isinstance(target, ast.Name) and target.id in {"self", "cls"}):
                found.append(f"{line}: setattr on an object that may not be ours")
    return found


@pytest.fixture(scope="module")
def names() -> tuple[frozenset[str], frozenset[str]]:
    return _dependency_private_names(), _our_own_names()


def test_no_private_dependency_name_in_the_package(
    names: tuple[frozenset[str], frozenset[str]],
) -> None:
    theirs, ours = names
    found = []
    for path in _our_modules():
        where = str(path.relative_to(PACKAGE.parent))
        found += violations(path.read_text(encoding="utf-8"), where, theirs, ours)
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("pipeline._enqueue_sync()", "private attribute ._enqueue_sync"),
        ("conn._prepared.clear()", "private attribute ._prepared"),
        ("from psycopg._pipeline import Pipeline", "private module psycopg._pipeline"),
        ("from psycopg_pool import _acompat", "private name psycopg_pool._acompat"),
        ("import psycopg._queries", "private module psycopg._queries"),
        ("setattr(conn, 'used_at', 1.0)", "setattr on an object"),
    ],
)
def test_the_check_sees_each_kind_of_reach(
    names: tuple[frozenset[str], frozenset[str]], source: str, expected: str
) -> None:
    theirs, ours = names
    found = violations(source, "sample.py", theirs, ours)
    assert len(found) == 1 and expected in found[0], found


def test_public_uses_pass(names: tuple[frozenset[str], frozenset[str]]) -> None:
    theirs, ours = names
    public = (
        "with conn.pipeline() as p:\n    cur = conn.cursor()\n    p.sync()\n"
        "conn.info.transaction_status\nsetattr(self, 'x', 1)\nself._lock = None\n"
    )
    assert violations(public, "sample.py", theirs, ours) == []


def _attributes(conn: object) -> set[str]:
    return set(vars(conn))


def test_pooled_connections_carry_nothing_of_ours(configured: str) -> None:
    """After pooled calls, a pool's connection has exactly the attributes psycopg_pool's has."""
    db.configure(configured, replica_url="", min_size=1, max_size=1)
    try:
        queries.learning.list_languages()
        with db.connection() as conn:
            pooled = _attributes(conn)
        with ConnectionPool(configured, min_size=1, max_size=1) as plain, plain.connection() as c:
            c.execute("select 1").fetchall()
            expected = _attributes(c)  # psycopg_pool's own marks are psycopg_pool's business
    finally:
        db.close()
    assert pooled - expected == set(), pooled - expected

    async def main() -> tuple[set[str], set[str]]:
        aio.configure(configured, replica_url="", min_size=1, max_size=1)
        try:
            await asyncio.gather(*(aio.queries.learning.list_languages() for _ in range(20)))
            async with aio.connection() as conn:
                pooled = _attributes(conn)
        finally:
            await aio.close()
        plain = AsyncConnectionPool(configured, min_size=1, max_size=1, open=False)
        async with plain, plain.connection() as c:
            await (await c.execute("select 1")).fetchall()
            return pooled, _attributes(c)

    pooled, expected = asyncio.run(main())
    assert pooled - expected == set(), pooled - expected
