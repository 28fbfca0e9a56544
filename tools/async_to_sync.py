#!/usr/bin/env python3
"""Generate the sync twins of codezest-db's asyncio modules, as psycopg does.

    python tools/async_to_sync.py           # rewrite every sync twin
    python tools/async_to_sync.py --check   # exit 1 if any twin is stale (CI)

The asyncio module is the one source (`codezest_db/aio.py`, ...); its sync twin
(`codezest_db/pool.py`, ...) is written by this script and says so in its first
line. The transform works on the syntax tree (comments kept, through
ast-comments), after psycopg's ``tools/async_to_sync.py``:

- ``async def`` / ``async with`` / ``async for`` lose ``async``; ``await x`` is ``x``;
- names are renamed by `RENAMES` (``AsyncConnection`` -> ``Connection``, ...),
  whether they are names, attributes, imported names or keyword arguments;
  a twin's ``prefixes`` rename by prefix (``amake_user`` -> ``make_user``),
  in names and in strings that are one name (the entries of ``__all__``);
- ``if ASYNC: A else: B`` becomes ``B`` (``if ASYNC: A`` alone disappears; so
  does ``if ASYNC and C: A``, and a ``try: A finally: if ASYNC: B`` is ``A``),
  ``A if ASYNC else B`` becomes ``B``, and
  the ``ASYNC: Final = True`` line itself goes: what only one twin does is
  written once, visibly, in the source;
- a module docstring of the twin may be given in `TWINS`.

The output is then formatted and its imports cleaned by ruff, so the twin
passes the same checks as hand-written code.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import ast_comments

ROOT = Path(__file__).resolve().parent.parent

# Async names and their sync twins (psycopg, psycopg_pool, the standard library, ours).
RENAMES = {
    "AsyncConnection": "Connection",
    "AsyncConnectionPool": "ConnectionPool",
    "AsyncCursor": "Cursor",
    "AsyncPipeline": "Pipeline",
    "AsyncIterator": "Iterator",
    "AsyncGenerator": "Generator",
    "AsyncIsolatedConnection": "IsolatedConnection",
    "asynccontextmanager": "contextmanager",
    "aclose": "close",
    "__aenter__": "__enter__",
    "__aexit__": "__exit__",
    "__aiter__": "__iter__",
    "__anext__": "__next__",
    "StopAsyncIteration": "StopIteration",
    "execute_async": "execute",
    "call_async": "call",
    "_factory_async": "_factory_sync",
    "AsyncConn": "Conn",
    "AsyncRun": "Run",
    "AsyncTransaction": "Transaction",
    "_isolation_async": "_isolation_sync",
}


@dataclass(frozen=True)
class Twin:
    source: str
    target: str
    renames: dict[str, str] = field(default_factory=dict)
    doc: str | None = None  # the twin's module docstring, when it must differ
    prefixes: dict[str, str] = field(default_factory=dict)  # "amake_": "make_"


TWINS = [
    Twin(
        "codezest_db/aio.py",
        "codezest_db/pool.py",
        doc="""The process-wide sync connection pools: the primary, and a replica when configured.

The pools are created on first use, once per process (a forked child makes
its own), and are safe to share between threads. Pooled connections are in
autocommit mode: a query call without a connection is one statement, one
round trip. `connection` and `transaction` blocks run in a transaction.
A connection idle for more than a second is checked before it is handed out;
see `codezest_db._pools` for how dead connections are never handed out twice.

This module is the sync twin of `codezest_db.aio`, generated from it.
""",
    ),
    Twin("codezest_db/_query/execute_async.py", "codezest_db/_query/execute.py"),
    Twin("codezest_db/_query/call_async.py", "codezest_db/_query/call.py"),
    Twin("codezest_db/testing/_factory_async.py", "codezest_db/testing/_factory_sync.py"),
    Twin(
        "codezest_db/testing/_factories_async.py",
        "codezest_db/testing/_factories_sync.py",
        prefixes={"amake_": "make_"},
    ),
    Twin("codezest_db/testing/_isolation_async.py", "codezest_db/testing/_isolation_sync.py"),
]


class _ToSync(ast.NodeTransformer):
    def __init__(self, renames: dict[str, str], prefixes: dict[str, str]) -> None:
        self.renames = renames
        self.prefixes = prefixes

    def _rename(self, name: str) -> str:
        if name in self.renames:
            return self.renames[name]
        for old, new in self.prefixes.items():
            if name.startswith(old) and name.isidentifier():
                return new + name.removeprefix(old)
        return name

    # async constructs
    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        new = ast.FunctionDef(**{f: getattr(node, f) for f in node._fields})
        new = ast.copy_location(new, node)
        return self.visit_FunctionDef(new)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._rename(node.name)
        self.generic_visit(node)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self._rename(node.name)
        self.generic_visit(node)
        return node

    def visit_AsyncWith(self, node: ast.AsyncWith) -> ast.AST:
        new = ast.copy_location(ast.With(items=node.items, body=node.body), node)
        self.generic_visit(new)
        return new

    def visit_AsyncFor(self, node: ast.AsyncFor) -> ast.AST:
        new = ast.For(**{f: getattr(node, f) for f in node._fields})
        new = ast.copy_location(new, node)
        self.generic_visit(new)
        return new

    def visit_Await(self, node: ast.Await) -> ast.AST:
        return self.visit(node.value)

    # names
    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._rename(node.id)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        node.attr = self._rename(node.attr)
        self.generic_visit(node)
        return node

    def visit_alias(self, node: ast.alias) -> ast.AST:
        node.name = ".".join(self._rename(part) for part in node.name.split("."))
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        if node.module:
            node.module = ".".join(self._rename(part) for part in node.module.split("."))
        self.generic_visit(node)
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        if node.arg:
            node.arg = self._rename(node.arg)
        self.generic_visit(node)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg = self._rename(node.arg)
        self.generic_visit(node)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        # Forward references in annotations ("AsyncConnection") and the
        # entries of __all__ are strings.
        if isinstance(node.value, str):
            node.value = self._rename(node.value)
        return node

    # what only one twin does
    def visit_If(self, node: ast.If) -> ast.AST | list[ast.stmt] | None:
        if _is_async_flag(node.test):
            body = [self.visit(stmt) for stmt in node.orelse]
            flat: list[ast.stmt] = []
            for stmt in body:
                if isinstance(stmt, list):
                    flat.extend(stmt)
                elif stmt is not None:
                    flat.append(stmt)
            return flat or None
        self.generic_visit(node)
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        if _is_async_flag(node.test):
            return self.visit(node.orelse)
        self.generic_visit(node)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST | None:
        if isinstance(node.target, ast.Name) and node.target.id == "ASYNC":
            return None
        self.generic_visit(node)
        return node


def _is_async_flag(test: ast.expr) -> bool:
    """``ASYNC``, or ``ASYNC and ...``: true in the asyncio source, false in its twin."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        test = test.values[0]
    return isinstance(test, ast.Name) and test.id == "ASYNC"


class _Bodies(ast.NodeTransformer):
    """A block emptied by the transform (a function whose body was all ``if ASYNC:``) passes;
    a ``try`` whose ``finally`` was all ``if ASYNC:`` (and that catches nothing) is its body."""

    def visit_Try(self, node: ast.Try) -> ast.AST | list[ast.stmt]:
        self.generic_visit(node)
        if not node.handlers and not node.orelse and not _code(node.finalbody):
            return node.body
        return node

    def generic_visit(self, node: ast.AST) -> ast.AST:
        super().generic_visit(node)
        for name in ("body", "orelse", "finalbody"):
            block = getattr(node, name, None)
            if name == "body" and isinstance(block, list) and not _code(block):
                block.append(ast.Pass())
        return node


def _code(block: list[ast.stmt]) -> bool:
    return any(not isinstance(stmt, ast_comments.Comment) for stmt in block)


def generate(twin: Twin) -> str:
    """The text of *twin*'s sync module, formatted."""
    source = (ROOT / twin.source).read_text(encoding="utf-8")
    tree = ast_comments.parse(source)
    if twin.doc is not None and _docstring(tree) is not None:
        tree.body[0] = ast.Expr(ast.Constant(twin.doc))
    tree = _ToSync({**RENAMES, **twin.renames}, twin.prefixes).visit(tree)
    tree = _Bodies().visit(tree)
    ast.fix_missing_locations(tree)
    body = ast_comments.unparse(tree)
    header = (
        "# WARNING: generated by tools/async_to_sync.py: DO NOT EDIT.\n"
        f"# source: {twin.source} (change it, then run the script again)\n"
    )
    return _ruff(header + body + "\n", twin.target)


def _docstring(tree: ast.Module) -> str | None:
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
        return str(first.value.value)
    return None


def _ruff(text: str, target: str) -> str:
    # ruff finds its settings (pyproject.toml) from the file's name, relative to ROOT.
    name = Path(target).name if Path(target).is_absolute() else target
    fix = [sys.executable, "-m", "ruff", "check", "--fix", "--select", "F401,I,UP,RUF100", "-q"]
    fixed = _pipe([*fix, "--exit-zero", "--stdin-filename", name, "-"], text)
    return _pipe([sys.executable, "-m", "ruff", "format", "--stdin-filename", name, "-"], fixed)


def _pipe(command: list[str], text: str) -> str:
    done = subprocess.run(command, input=text, capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[2:4])} failed:\n{done.stderr}")
    return done.stdout


def stale() -> list[str]:
    """The sync twins whose file differs from what their source generates."""
    return [t.target for t in TWINS if (ROOT / t.target).read_text(encoding="utf-8") != generate(t)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if a twin is stale")
    args = parser.parse_args()
    if args.check:
        outdated = stale()
        for target in outdated:
            print(f"{target} is stale: run python tools/async_to_sync.py", file=sys.stderr)
        return 1 if outdated else 0
    for twin in TWINS:
        (ROOT / twin.target).write_text(generate(twin), encoding="utf-8")
        print(f"{twin.source} -> {twin.target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
