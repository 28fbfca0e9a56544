"""The README's per-service examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def examples() -> list[str]:
    text = README.read_text()
    section = text.split("## One example per service", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_there_is_one_example_per_service() -> None:
    assert len(examples()) == 5


@pytest.mark.parametrize(
    "code", examples(), ids=["auth", "learning", "payments", "notifications", "activity"]
)
def test_example_runs(configured: str, code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exec(compile(code, str(README), "exec"), {})


def test_the_table_of_paths_matches_the_tree() -> None:
    """Every path the README's table names exists, and it names every runtime module."""
    internals = README.parent / "docs" / "internals.md"
    section = internals.read_text().split("## What is in here", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    named: set[str] = set()
    for row in rows:
        cell = row.split("|")[1]
        first = re.findall(r"`([^`]+)`", cell)
        head = first[0].rstrip("/")
        folder = head.rsplit("/", 1)[0] if "/" in head else ""
        for name in first:
            path = name if "/" in name.rstrip("/") or not folder else f"{folder}/{name}"
            named.add(path.rstrip("/"))
            pattern = re.sub(r"<[^>]+>", "*", path.rstrip("/"))
            found = list(README.parent.glob(pattern))
            assert found, f"the README names {path}, which is missing"
    package = README.parent / "codezest_db"
    modules = {
        f"codezest_db/{p.name}"
        for p in package.iterdir()
        if (p.suffix == ".py" and p.name not in ("__main__.py",)) or (p / "__init__.py").exists()
    }
    assert modules - named == set(), "modules the README's table does not name"


def test_the_version_shown_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    from codezest_db import cli

    with pytest.raises(SystemExit):
        cli.main(["--version"])
    printed = capsys.readouterr().out.strip()
    docs = [README, *sorted((README.parent / "docs").glob("**/*.md"))]
    shown = [
        m
        for doc in docs
        for m in re.findall(r"codezest-db \d+\.\d+\.\d+ \(schema \d+\)", doc.read_text())
    ]
    assert shown and set(shown) == {printed}


def test_help_texts_carry_no_markup(capsys: pytest.CaptureFixture[str]) -> None:
    """--help of the command and of every subcommand: plain text, no reStructuredText."""
    from codezest_db import cli

    commands = [[], *([name] for name in ("migrate", "rollback", "status", "new", "dump-schema"))]
    commands += [[tool.name] for tool in cli.TOOLS]
    for command in commands:
        with pytest.raises(SystemExit) as done:
            cli.main([*command, "--help"])
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert "usage: codezest-db" in text
        assert "``" not in text and ":func:" not in text and "`" not in text, (command, text)
