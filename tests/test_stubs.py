"""The generated query signatures (codezest_db/_typing.py): current, precise, enforced."""

from __future__ import annotations

import asyncio
import importlib.util
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest

from codezest_db.cli import main
from codezest_db.tools import stubs as _stubgen

ROOT = Path(__file__).resolve().parent.parent
TYPING = Path(__file__).resolve().parent / "typing"
ERROR = re.compile(r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*)$")

GET_USER_BY_EMAIL = '''
    def get_user_by_email(
        self,
        conn: psycopg.Connection[Any] | None = None,
        /,
        *,
        email: str,
    ) -> models.User | None:
        """Fetch a live user by email, ignoring case."""
'''


def test_committed_stubs_are_current(database_url: str) -> None:
    difference = _stubgen.diff(database_url)
    assert not difference, f"{_stubgen.STUB_FILE} is stale: run `codezest-db stubs`\n{difference}"


def test_signatures_are_precise_sync_and_async() -> None:
    text = _stubgen.STUB_FILE.read_text()
    assert GET_USER_BY_EMAIL in text
    async_twin = GET_USER_BY_EMAIL.replace("def", "async def").replace(
        "psycopg.Connection", "psycopg.AsyncConnection"
    )
    assert async_twin in text
    # Optional parameters default to None; inserts of one row return the model.
    assert "        after_id: uuid.UUID | None = None,\n    ) -> list[models.User]:" in text
    assert "        role: RoleLike,\n    ) -> models.User:" in text
    assert 'RoleLike: TypeAlias = enums.Role | Literal["STUDENT", "INSTRUCTOR", "ADMIN"]' in text


def test_stubs_cli_writes_and_checks(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "_typing.py"
    output.write_text("stale\n")
    assert main(["stubs", "--check", "--url", database_url, "--output", str(output)]) == 1
    assert "is stale: run codezest-db stubs" in capsys.readouterr().err
    assert main(["stubs", "--url", database_url, "--output", str(output)]) == 0
    assert output.read_text() == _stubgen.STUB_FILE.read_text()
    assert main(["stubs", "--check", "--url", database_url, "--output", str(output)]) == 0
    assert "is current" in capsys.readouterr().out


@pytest.fixture(scope="module")
def mypy_errors(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[int, list[str]]]:
    """One mypy --strict run over the consumer and the wrong module: file -> line -> errors."""
    from mypy import api as mypy_api

    stdout, stderr, _ = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--strict",
            "--follow-imports=silent",  # the package is checked on its own (CI)
            "--cache-dir",
            str(tmp_path_factory.mktemp("mypy-cache")),
            "--no-error-summary",
            str(TYPING / "consumer.py"),
            str(TYPING / "wrong.py"),
        ]
    )
    assert not stderr, stderr
    errors: dict[str, dict[int, list[str]]] = {"consumer.py": {}, "wrong.py": {}}
    for line in stdout.splitlines():
        match = ERROR.match(line)
        if match:
            lines = errors.setdefault(Path(match["path"]).name, {})
            lines.setdefault(int(match["line"]), []).append(match["message"])
    return errors


def test_mypy_accepts_the_consumer(mypy_errors: dict[str, dict[int, list[str]]]) -> None:
    assert mypy_errors["consumer.py"] == {}


def test_mypy_rejects_each_wrong_call(mypy_errors: dict[str, dict[int, list[str]]]) -> None:
    expected = {
        number: marker[1]
        for number, line in enumerate((TYPING / "wrong.py").read_text().splitlines(), 1)
        if (marker := re.search(r"# error: (.*)$", line))
    }
    found = mypy_errors["wrong.py"]
    assert sorted(found) == sorted(expected), found
    for number, text in expected.items():
        assert any(text in message for message in found[number]), (number, found[number])
    messages = " ".join(m for ms in found.values() for m in ms)
    assert 'Unexpected keyword argument "mail"' in messages  # a wrong parameter name
    assert 'has incompatible type "str"; expected "UUID"' in messages  # a wrong type
    assert 'Item "None" of "User | None" has no attribute "name"' in messages  # Optional


def _load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"typed_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_consumer_runs_as_typed(conn: psycopg.Connection[Any], database_url: str) -> None:
    consumer = _load(TYPING / "consumer.py")
    consumer.sync_tour(conn)
    asyncio.run(consumer.async_tour(database_url))
