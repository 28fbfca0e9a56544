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
