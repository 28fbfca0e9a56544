"""codezest-db studio: a real server process on a seeded database, driven over HTTP and Chromium."""

from __future__ import annotations

import base64
import html
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import sqlalchemy
from sqlalchemy import exc, text

from codezest_db import migrate
from codezest_db.testing import TestServer
from codezest_db.tools.seed.fill import seed
from codezest_db.tools.studio.schema import engine, visible_schemas

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The README's screenshot; a run writes it only when asked, so tests leave the tree clean:
# CODEZEST_UPDATE_SCREENSHOT=1 pytest tests/test_studio.py -k chromium
README_SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "studio.png"
USERS = 40


@pytest.fixture(scope="module")
def seeded_url(test_server: TestServer) -> Iterator[str]:
    """A fresh migrated database holding a small seed."""
    url = test_server.create_database("codezest_studio")
    try:
        migrate.up(url)
        seed(url, users=USERS, random_seed=7)
        yield url
    finally:
        test_server.drop_database(url)


@contextmanager
def _running(url: str, *extra: str) -> Iterator[str]:
    """Run ``codezest-db studio`` on *url*; yield the URL it prints; stop it after."""
    command = [sys.executable, "-m", "codezest_db.cli", "studio", "--url", url, "--port", "0"]
    proc = subprocess.Popen(
        [*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    output = proc.stdout
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in output], daemon=True).start()
    try:
        try:
            first = lines.get(timeout=60)
        except queue.Empty:
            pytest.fail("studio printed nothing within 60 s")
        found = re.search(r"http://\S+", first)
        if not found:
            pytest.fail(f"studio did not print its URL: {first!r}")
        yield found.group(0)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        output.close()


@pytest.fixture(scope="module")
def studio(seeded_url: str) -> Iterator[str]:
    """The studio's printed URL (read-only mode), its process stopped after the module."""
    with _running(seeded_url) as url:
        yield url


@pytest.fixture(scope="module")
def writable(seeded_url: str) -> Iterator[str]:
    """The studio's printed URL in --write mode."""
    with _running(seeded_url, "--write") as url:
        yield url


def _get(url: str, data: bytes | None = None) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, data=data, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode(errors="replace")


def test_prints_a_loopback_url_with_a_token(studio: str) -> None:
    parts = urllib.parse.urlsplit(studio)
    assert parts.hostname == "127.0.0.1"
    assert len(parts.path.strip("/")) >= 32
    status, page = _get(studio)
    assert status == 200 and "auth" in page and "learning" in page


def test_refuses_requests_without_the_token(studio: str) -> None:
    parts = urllib.parse.urlsplit(studio)
    root = f"{parts.scheme}://{parts.netloc}"
    token = parts.path.strip("/")
    for path in (
        "/",
        "/auth-users/list",
        f"/{token[:-1]}/auth-users/list",
        "/statics/css/main.css",
    ):
        status, _ = _get(root + path)
        assert status == 404, path
    assert _get(f"{root}/{token}/auth-users/list")[0] == 200


def test_refuses_another_host_name(studio: str) -> None:
    request = urllib.request.Request(studio, headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    with refused.value:
        assert refused.value.code == 400


def test_listens_on_127_0_0_1_only(studio: str) -> None:
    port = urllib.parse.urlsplit(studio).port
    assert port is not None
    socket.create_connection(("127.0.0.1", port), timeout=5).close()
    # Another loopback address of this machine: only a wildcard bind would answer it.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.2", port), timeout=5)


def test_read_only_mode_refuses_a_write(studio: str, seeded_url: str) -> None:
    form = urllib.parse.urlencode({"email": "new@example.com", "name": "New"}).encode()
    status, _ = _get(f"{studio}auth-users/create", data=form)
    assert status == 403
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute("select count(*) from auth.users").fetchone()
    assert row == (USERS,)


def _delete(url: str) -> int:
    request = urllib.request.Request(url, method="DELETE")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        with error:
            return error.code


def test_only_write_mode_deletes(studio: str, writable: str, seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute("select id from notifications.notifications limit 1").fetchone()
    assert row is not None
    path = f"notifications-notifications/delete?pks={row[0]}"
    assert _delete(studio + path) == 403
    assert _delete(writable + path) == 200
    with psycopg.connect(seeded_url) as conn:
        gone = conn.execute("select id from notifications.notifications where id = %s", row)
        assert gone.fetchone() is None


def test_sigterm_stops_it_through_python_exit(seeded_url: str) -> None:
    """Exit hooks run (they stop an embedded server the studio started)."""
    command = [sys.executable, "-m", "codezest_db.cli", "studio", "--url", seeded_url]
    proc = subprocess.Popen(
        [*command, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    with proc.stdout:
        url = proc.stdout.readline().split()[-1]
        assert _get(url)[0] == 200
        proc.terminate()
        assert proc.wait(timeout=20) == 143  # SystemExit(128 + SIGTERM), not death by signal


def test_its_connections_are_read_only_transactions(seeded_url: str) -> None:
    bound = engine(seeded_url, write=False, role=None)
    try:
        with bound.connect() as conn:
            assert conn.execute(text("show default_transaction_read_only")).scalar() == "on"
            with pytest.raises(exc.DBAPIError) as refused:
                conn.execute(text("delete from auth.sessions"))
        assert isinstance(refused.value.orig, psycopg.errors.ReadOnlySqlTransaction)
    finally:
        bound.dispose()


def test_every_table_has_a_view_at_its_schema_qualified_path(studio: str) -> None:
    from codezest_db.tools.seed.tables import TABLES

    page = _get(studio)[1]
    for table in TABLES:
        assert f"/{table.replace('.', '-').replace('_', '-')}/list" in page, table


def test_role_sees_only_its_schema(seeded_url: str) -> None:
    bound = engine(seeded_url, write=False, role="codezest_payments")
    try:
        assert visible_schemas(bound) == ["payments"]
        with bound.connect() as conn, pytest.raises(sqlalchemy.exc.ProgrammingError):
            conn.execute(text("select count(*) from auth.users"))
    finally:
        bound.dispose()


def _details_ids(page: str, identity: str) -> list[str]:
    return re.findall(rf"/{identity}/details/([0-9a-f-]{{36}})\"", page)


def _link(page: str, label: str) -> str | None:
    """The href of the pagination link whose text is *label* (next, prev or a number)."""
    links = re.findall(r'<a\s+class="page-link"\s+href="([^"#]+)">(.*?)</a>', page, re.S)
    for href, inner in links:
        if re.sub(r"<[^>]+>", "", inner).strip() == label:
            return html.unescape(href)
    return None


@pytest.mark.parametrize("sort", ["", "&sortBy=email_verified_at&sort=desc", "&sortBy=name"])
def test_keyset_pages_walk_every_row_once(studio: str, seeded_url: str, sort: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        expected = {str(r[0]) for r in conn.execute("select id from auth.users")}
    url: str | None = f"{studio}auth-users/list?pageSize=25{sort}"
    seen: list[str] = []
    pages = []
    while url:
        status, page = _get(url)
        assert status == 200
        pages.append(page)
        seen += [i for i in dict.fromkeys(_details_ids(page, "auth-users"))]
        url = _link(page, "next")
    assert len(pages) == 2
    assert len(seen) == len(set(seen)) == USERS and set(seen) == expected
    back = _link(pages[-1], "prev")
    assert back is not None
    assert dict.fromkeys(_details_ids(_get(back)[1], "auth-users")) == dict.fromkeys(
        _details_ids(pages[0], "auth-users")
    )


@pytest.mark.parametrize(
    ("identity", "column"),
    [
        ("auth-users", "password_hash"),  # hidden: its order would leak about the hashes
        ("auth-users", "no_such_column"),
        ("activity-user-activities", "metadata"),  # JSON columns are not sortable
    ],
)
def test_a_column_not_sortable_keeps_the_default_order(
    studio: str, identity: str, column: str
) -> None:
    """Ignored, as a stale or hand-made link: newest first, not an error page."""
    listing = f"{studio}{identity}/list?pageSize=25"
    newest_first = _details_ids(_get(listing)[1], identity)
    status, page = _get(f"{listing}&sortBy={column}&sort=asc")
    assert status == 200
    assert _details_ids(page, identity) == newest_first
    # The same request on a sortable column does reorder the page.
    oldest_first = _details_ids(_get(f"{listing}&sortBy=created_at&sort=asc")[1], identity)
    assert newest_first and oldest_first != newest_first


def test_password_hashes_are_never_shown(studio: str, writable: str, seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute(
            "select id, password_hash from auth.users where password_hash is not null limit 1"
        ).fetchone()
    assert row is not None
    user, secret = row
    pages = [
        f"{studio}auth-users/list?pageSize=100",
        f"{studio}auth-users/details/{user}",
        f"{writable}auth-users/details/{user}",
        f"{writable}auth-users/edit/{user}",
        f"{writable}auth-users/create",
    ]
    for url in pages:
        status, page = _get(url)
        assert status == 200, url
        assert "password_hash" not in page and secret not in page, url
    assert "email" in _get(f"{writable}auth-users/edit/{user}")[1]  # the form is there


def test_a_new_sort_order_starts_at_page_one(studio: str) -> None:
    first = _get(f"{studio}auth-users/list?pageSize=25")[1]
    second = _link(first, "next")
    assert second is not None
    resorted = _get(second + "&sortBy=name&sort=asc")[1]
    by_name = _get(f"{studio}auth-users/list?pageSize=25&sortBy=name&sort=asc")[1]
    assert _details_ids(resorted, "auth-users") == _details_ids(by_name, "auth-users")


def test_filters_by_enum_and_by_column(studio: str, seeded_url: str) -> None:
    status, page = _get(f"{studio}learning-language-enrollments/list?status=COMPLETED&pageSize=100")
    assert status == 200
    labels = re.findall(r'<span class="badge bg-azure-lt">(\w+)</span>', page)
    assert labels and set(labels) == {"COMPLETED"}
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute(
            "select user_id, count(*) from auth.sessions group by 1 limit 1"
        ).fetchone()
    assert row is not None
    page = _get(f"{studio}auth-sessions/list?eq_user_id={row[0]}&pageSize=100")[1]
    assert len(set(_details_ids(page, "auth-sessions"))) == row[1]
    # A value that does not fit its column is the client's mistake, not a crash.
    assert _get(f"{studio}auth-sessions/list?eq_user_id=not-a-uuid")[0] == 400
    key = base64.urlsafe_b64encode(b'["created_at desc", "x", "y"]').decode()
    assert _get(f"{studio}auth-sessions/list?after={key}&page=2")[0] == 400


def test_a_row_shows_related_rows_and_links_users_across_schemas(
    studio: str, seeded_url: str
) -> None:
    with psycopg.connect(seeded_url) as conn:
        found = conn.execute(
            "select module_id, count(*) from learning.materials group by 1 limit 1"
        ).fetchone()
        paying = conn.execute("select user_id from payments.subscriptions limit 1").fetchone()
    assert found is not None and paying is not None
    (module, materials), user = found, paying[0]
    page = _get(f"{studio}learning-modules/details/{module}")[1]
    assert "Related rows" in page
    assert "/learning-programming-languages/details/" in page  # its parent
    assert re.search(rf"learning\.materials\.module_id</a></td>\s*<td>{materials}</td>", page)
    subscription = _get(f"{studio}payments-subscriptions/list?eq_user_id={user}")[1]
    assert f"/auth-users/details/{user}" in subscription
    # In a list, a foreign key links to its row too.
    modules = _get(f"{studio}learning-modules/list")[1]
    assert "/learning-programming-languages/details/" in modules
    # From the user, the rows in every schema that name it.
    profile = _get(f"{studio}auth-users/details/{user}")[1]
    assert "payments.subscriptions.user_id" in profile
    assert "activity.user_activities.user_id" in profile


def _browser(profile: Path) -> object:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"Chromium is needed for the studio's browser test and {', '.join(missing)} is"
            " missing: apt-get install -y chromium chromium-driver",
            pytrace=False,
        )
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1500,950",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))


def test_in_chromium_follow_a_table_and_a_row(studio: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    driver = _browser(tmp_path / "profile")
    assert isinstance(driver, WebDriver)
    update = os.environ.get("CODEZEST_UPDATE_SCREENSHOT") == "1"
    screenshot = README_SCREENSHOT if update else tmp_path / "studio.png"
    try:
        driver.get(studio)
        assert "codezest-db studio" in driver.title or "codezest-db studio" in driver.page_source
        table = driver.find_element(
            By.CSS_SELECTOR, 'a[href$="/learning-language-enrollments/list"]'
        )
        if not table.is_displayed():  # the schema's group in the sidebar is folded
            driver.find_element(By.XPATH, "//a[contains(., 'learning')]").click()
        table.click()
        assert driver.current_url.endswith("/learning-language-enrollments/list")
        rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
        assert len(rows) >= 10
        assert driver.find_elements(By.CSS_SELECTOR, "span.badge.bg-azure-lt")
        screenshot.parent.mkdir(exist_ok=True)
        driver.save_screenshot(str(screenshot))
        link = driver.find_element(
            By.CSS_SELECTOR, 'tbody a[href*="/learning-language-enrollments/details/"]'
        )
        target = link.get_attribute("href")
        link.click()
        assert target and driver.current_url == target
        # Its language (same-schema foreign key) and its user (across schemas) are links.
        assert driver.find_elements(
            By.CSS_SELECTOR, 'a[href*="/learning-programming-languages/details/"]'
        )
        assert driver.find_elements(By.CSS_SELECTOR, 'a[href*="/auth-users/details/"]')
    finally:
        driver.quit()
    assert screenshot.stat().st_size > 10_000
