"""The demo tours every service and leaves the database as it found it."""

from __future__ import annotations

import psycopg
import pytest

from codezest_db.cli import main

TABLES = (
    "auth.users",
    "learning.programming_languages",
    "payments.transactions",
    "notifications.notifications",
    "activity.analytics_events",
)


def counts(url: str) -> list[int]:
    with psycopg.connect(url) as conn:
        return [conn.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES]  # type: ignore[index]


def test_demo_tours_and_rolls_back(database_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    before = counts(database_url)
    assert main(["demo", "--url", database_url]) == 0
    out = capsys.readouterr().out
    for section in ("auth", "learning", "payments", "notifications", "activity"):
        assert f"\n{section}\n" in out
    assert "AlreadyExists (users_email_key)" in out
    assert "same enrollment? " in out and "-> True" in out
    assert "-> 10000" in out
    assert "rolled back" in out
    assert "Next (with the same --url" in out and "codezest-db seed" in out
    assert counts(database_url) == before
