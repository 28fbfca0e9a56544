"""No secret in any error, and no error path slower than linear in its input.

Passwords are looked for in the whole exception chain (every ``__cause__`` and
``__context__``), in URL and key=value form. Huge bad values fail promptly with
a short message while another thread keeps working; the per-test time limit
(pyproject) is the bound: the old regex took hours on a megabyte.
"""

from __future__ import annotations

import asyncio
import re
import threading
import traceback
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

import codezest_db as db
from codezest_db import aio, errors, queries
from tests.conftest import exception_chain, run_async, unique_email

Conn = psycopg.Connection[Any]
SECRET = "hunter2-s3cr3t"


def assert_no_secret(exc: BaseException, secret: str = SECRET) -> None:
    for link in exception_chain(exc):
        for text in (str(link), repr(link), repr(link.args)):
            assert secret not in text, f"{type(link).__name__} holds the password: {text}"
    assert secret not in "".join(traceback.format_exception(exc))


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        (
            "at postgresql://u:pw@h:5/db?x=1 and http://a:b@c",
            "at postgresql://u:***@h:5/db?x=1 and http://a:***@c",
        ),
        (
            "postgresql://u@h/db and postgresql://h:5432/db",
            "postgresql://u@h/db and postgresql://h:5432/db",
        ),
        ("host=h password=pw dbname=d", "host=h password=*** dbname=d"),
        ("host=h password = 'p w\\'x' dbname=d", "host=h password = *** dbname=d"),
        ("host=h password='never closed", "host=h password=***"),
        ("PASSWORD=pw sslpassword=key", "PASSWORD=*** sslpassword=***"),
        (
            "postgresql://h/db?user=u&password=pw&sslmode=require",
            "postgresql://h/db?user=u&password=***&sslmode=require",
        ),
    ],
)
def test_redact_text(text: str, masked: str) -> None:
    assert errors.redact_text(text) == masked


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql://u:pw@h/db", "postgresql://u:***@h/db"),
        # Unencoded '/' or '@' in the password: libpq would not read it as one,
        # but it is one to whoever wrote it.
        ("postgresql://u:p/w@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p@w@h/db", "postgresql://u:***@h/db"),
        ("postgresql://u:p%zzw@h/db", "postgresql://u:***@h/db"),
        ("postgresql://h:5432/db", "postgresql://h:5432/db"),
        ("host=h port=5 password=pw", "host=h port=5 password=***"),
    ],
)
def test_redact_url(url: str, masked: str) -> None:
    assert errors.redact_url(url) == masked


@pytest.mark.parametrize("size", [1_000_000, 10_000_000])
@pytest.mark.parametrize("unit", ["x", "://a:", "password='", "password=\\", "a@b:c/"])
def test_redaction_is_linear(size: int, unit: str) -> None:
    """Hostile text of 1 and 10 MB is redacted at all (quadratic would take hours)."""
    text = unit * (size // len(unit))
    has_password = "password" in unit
    assert (errors.redact_text(text) != text) is has_password
    assert (errors.redact_url(text) != text) is has_password


# -- secrets in configuration errors and their chains ----------------------------------


BAD_CONFIGURATIONS = [
    # Bad percent-encoding: psycopg's own message echoes the password.
    f"postgresql://app:{SECRET}%zz@127.0.0.1:1/db",
    # key=value with a syntax error after the password.
    f"host=127.0.0.1 port=1 password={SECRET} dbname",
    f"host=127.0.0.1 password='{SECRET}' sslmode",
]


@pytest.mark.parametrize("url", BAD_CONFIGURATIONS)
def test_no_secret_when_configure_refuses_a_url(url: str) -> None:
    with pytest.raises(errors.ConfigurationError, match="not a valid PostgreSQL URL") as caught:
        db.configure(url)
    assert_no_secret(caught.value)
    with pytest.raises(errors.ConfigurationError) as caught:
        aio.configure(url)
    assert_no_secret(caught.value)


def test_key_value_passwords_are_masked_in_messages() -> None:
    """Fails if the key=value masking goes: the message shows the conninfo."""
    with pytest.raises(errors.ConfigurationError) as caught:
        db.configure(f"host=127.0.0.1 password={SECRET} dbname")
    assert "password=***" in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://app:{SECRET}@127.0.0.1:1/db",
        f"host=127.0.0.1 port=1 dbname=db user=app password={SECRET}",
    ],
)
def test_no_secret_when_the_server_cannot_be_reached(configured: str, url: str) -> None:
    db.configure(url, min_size=0, timeout=0.5, connect_timeout=1)
    with pytest.raises(errors.ConnectionFailed) as caught:
        queries.auth.get_user_by_email(email="a@example.com")
    assert "password=***" in str(caught.value) or "app:***@" in str(caught.value)
    assert_no_secret(caught.value)

    async def borrow() -> None:
        aio.configure(url, min_size=0, timeout=0.5, connect_timeout=1)
        with pytest.raises(errors.ConnectionFailed) as caught:
            async with aio.connection():
                pass
        assert_no_secret(caught.value)

    run_async(borrow())


@pytest.mark.parametrize("form", ["postgresql://u:{}@h/db", "host=h password={} dbname=d"])
def test_a_secret_echoed_by_the_server_is_masked_even_where_the_message_is_cut(
    database_url: str, form: str
) -> None:
    """PostgreSQL echoes the bad value; the cut may fall inside the password.

    The query layer refuses a malformed uuid before sending, so the value goes
    through plain psycopg, as in a ``with db.connection() as conn:`` block.
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        for pad in range(200, 300):
            bad = "x" * pad + " " + form.format(SECRET)
            with pytest.raises(psycopg.Error) as raw:
                conn.execute("select %s::uuid", (bad,))
            assert SECRET in str(raw.value)  # the server did echo it
            message = str(errors.from_psycopg(raw.value))
            assert not any(SECRET[:k] in message for k in range(3, len(SECRET) + 1)), message


# -- huge bad values: prompt, short, and nobody else waits -----------------------------


def huge_value_calls(conn: Conn, size: int) -> dict[str, Callable[[], object]]:
    """Ways a huge bad value fails: refused by our check, or echoed by the server."""
    user = queries.auth.create_user(
        conn, email=unique_email("huge"), password_hash="h", name="H", role="STUDENT"
    )
    bad = "x" * size

    def echoed() -> None:
        # Raw psycopg sends it, PostgreSQL echoes it whole, from_psycopg cuts it.
        try:
            conn.execute("select %s::uuid", (bad,))
        except psycopg.Error as exc:
            raise errors.from_psycopg(exc) from exc

    return {
        "uuid": lambda: queries.auth.get_user_by_id(conn, id=bad),
        "inet": lambda: queries.auth.create_session(
            conn,
            user_id=user.id,
            token_hash=uuid.uuid4().hex,
            expires_at=datetime.now(UTC) + timedelta(days=1),
            ip_address=bad,
        ),
        "echoed": echoed,
    }


class Background:
    """A thread making cheap query calls on its own connection, counted."""

    def __init__(self, url: str) -> None:
        self.calls = 0
        self._stop = threading.Event()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url,))
        self._thread.start()
        assert self._started.wait(30), "the background thread did not start"

    def _run(self, url: str) -> None:
        with psycopg.connect(url, autocommit=True) as conn:
            while not self._stop.is_set():
                queries.auth.get_user_by_email(conn, email="nobody@example.com")
                self.calls += 1
                self._started.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("size", [1_000_000, 10_000_000])
@pytest.mark.parametrize("kind", ["uuid", "inet"])
def test_a_huge_bad_value_is_refused_before_sending(
    database_url: str, size: int, kind: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        with pytest.raises(errors.InvalidValue) as caught:
            huge_value_calls(conn, size)[kind]()
        assert isinstance(caught.value, errors.ConstraintViolation)
        assert f"{size} characters" in str(caught.value)  # its size, never the value
        assert len(str(caught.value)) < 1000
        assert queries.auth.get_user_by_email(conn, email="nobody@example.com") is None


@pytest.mark.parametrize("size", [1_000_000, 10_000_000])
def test_a_huge_value_echoed_by_the_server_fails_promptly(database_url: str, size: int) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        call = huge_value_calls(conn, size)["echoed"]
        background = Background(database_url)
        try:
            before = background.calls
            with pytest.raises(errors.ConstraintViolation) as caught:
                call()
            during = background.calls - before
        finally:
            background.stop()
        assert caught.value.sqlstate == "22P02"
        assert len(str(caught.value)) < 1000
        cut = re.search(r"cut: ([\d,]+) characters", str(caught.value))
        assert cut and int(cut[1].replace(",", "")) > size
        assert during > 0, "the other thread made no call while the error was raised"
        assert queries.auth.get_user_by_email(conn, email="nobody@example.com") is None


async def echoed(conn: psycopg.AsyncConnection[Any], bad: str) -> None:
    try:
        await conn.execute("select %s::uuid", (bad,))
    except psycopg.Error as exc:
        raise errors.from_psycopg(exc) from exc


def test_async_a_huge_bad_value_fails_promptly(database_url: str) -> None:
    async def main() -> int:
        calls = 0
        stop = asyncio.Event()

        async def background(conn: psycopg.AsyncConnection[Any]) -> None:
            nonlocal calls
            while not stop.is_set():
                await aio.queries.auth.get_user_by_email(conn, email="nobody@example.com")
                calls += 1

        connect = psycopg.AsyncConnection.connect
        async with (
            await connect(database_url, autocommit=True) as conn,
            await connect(database_url, autocommit=True) as other,
        ):
            task = asyncio.create_task(background(other))
            while calls == 0:
                await asyncio.sleep(0.01)
            before = calls
            with pytest.raises(errors.ConstraintViolation) as caught:
                await echoed(conn, "x" * 10_000_000)
            during = calls - before
            stop.set()
            await task
            assert len(str(caught.value)) < 1000
            return during

    assert asyncio.run(main()) > 0
