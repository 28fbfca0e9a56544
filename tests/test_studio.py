"""codezest-db studio: a real server process on a seeded database, driven over HTTP and Chromium."""

from __future__ import annotations

import base64
import html
import http.cookiejar
import json
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
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("analyze")  # the index page's row estimates, exact on a table this small
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


class Client:
    """A browser-like HTTP client of one studio: its session cookie and form token.

    *headers* go with every write; by default those a browser sends on the
    studio's own page (``Origin`` of the studio, ``Sec-Fetch-Site: same-origin``).
    """

    def __init__(self, studio: str) -> None:
        self.studio = studio
        parts = urllib.parse.urlsplit(studio)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        status, page = self.request("GET", studio)
        assert status == 200
        found = re.search(r'<meta name="studio-form-token" content="([0-9a-f]{64})">', page)
        assert found, "the page carries no form token"
        self.token = found.group(1)

    def same_origin(self) -> dict[str, str]:
        return {"Origin": self.origin, "Sec-Fetch-Site": "same-origin"}

    def request(
        self,
        method: str,
        url: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read().decode(errors="replace")

    def post_form(
        self, path: str, fields: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[int, str]:
        body = urllib.parse.urlencode(fields).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **(headers or {})}
        return self.request("POST", self.studio + path, body, sent)


def test_only_write_mode_deletes(studio: str, writable: str, seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute("select id from notifications.notifications limit 1").fetchone()
    assert row is not None
    path = f"notifications-notifications/delete?pks={row[0]}"
    reader, writer = Client(studio), Client(writable)
    headers = {"X-CSRF-Token": reader.token, **reader.same_origin()}
    assert reader.request("DELETE", studio + path, headers=headers)[0] == 403
    # Without the session's form token, or from another site, nothing is deleted either.
    assert writer.request("DELETE", writable + path, headers=writer.same_origin())[0] == 403
    cross = {"X-CSRF-Token": writer.token, "Sec-Fetch-Site": "cross-site"}
    assert writer.request("DELETE", writable + path, headers=cross)[0] == 403
    with psycopg.connect(seeded_url) as conn:
        still = conn.execute("select id from notifications.notifications where id = %s", row)
        assert still.fetchone() == row
    headers = {"X-CSRF-Token": writer.token, **writer.same_origin()}
    assert writer.request("DELETE", writable + path, headers=headers)[0] == 200
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


def test_every_listed_table_opens_even_with_infinite_timestamps(
    studio: str, seeded_url: str
) -> None:
    """Every table the index links to, the internal ones too, opens; ``-infinity``
    (the retention horizon and the rollup's time before any run hold it) is shown
    as PostgreSQL writes it instead of failing the page."""
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        row = conn.execute("select kept_from::text from activity.event_retention").fetchone()
    assert row == ("-infinity",)
    links = sorted(set(re.findall(r'href="([^"]+/list)"', _get(studio)[1])))
    assert len(links) >= 30
    for link in links:
        status, page = _get(link)
        assert status == 200, (link, re.findall(r'empty-title">([^<]*)<', page))
    page = _get(next(link for link in links if link.endswith("/activity-event-retention/list")))[1]
    assert "<td>-infinity</td>" in page


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
    with psycopg.connect(seeded_url) as conn:
        found = conn.execute("select id, token_hash from auth.sessions limit 1").fetchone()
    assert found is not None
    session, token_hash = found
    for url in (
        f"{studio}auth-sessions/list?pageSize=100",
        f"{studio}auth-sessions/details/{session}",
        f"{writable}auth-sessions/edit/{session}",
    ):
        status, page = _get(url)
        assert status == 200, url
        assert "token_hash" not in page and token_hash not in page, url


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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP violations land there
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
        # The five schemas' groups in the sidebar are open: every table's link shows.
        for identity in ("auth-users", "payments-invoices", "activity-analytics-events"):
            link = driver.find_element(By.CSS_SELECTOR, f'aside a[href$="/{identity}/list"]')
            assert link.is_displayed(), identity
        # The sidebar's title is whole: nothing of it overflows its box.
        title = driver.find_element(By.CSS_SELECTOR, "aside .navbar-brand h3")
        assert title.text == "codezest-db studio (read-only)"
        overflow = driver.execute_script(
            "const e = arguments[0], box = e.closest('aside').getBoundingClientRect();"
            " const r = e.getBoundingClientRect();"
            " return [e.scrollWidth - e.clientWidth, r.left - box.left, box.right - r.right];",
            title,
        )
        assert overflow[0] <= 0 and overflow[1] >= 0 and overflow[2] >= 0, overflow
        table = driver.find_element(
            By.CSS_SELECTOR, 'aside a[href$="/learning-language-enrollments/list"]'
        )
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
        assert _csp_violations(driver) == []
    finally:
        driver.quit()
    assert screenshot.stat().st_size > 10_000


# -- safety: headers, cross-site writes, hidden columns ------------------------


def test_every_response_carries_the_security_headers(studio: str) -> None:
    parts = urllib.parse.urlsplit(studio)
    root = f"{parts.scheme}://{parts.netloc}"
    for url in (
        studio,
        f"{studio}auth-users/list",
        f"{studio}statics/css/main.css",
        f"{root}/no-such-page",  # a 404
    ):
        request = urllib.request.Request(url)
        try:
            response = urllib.request.urlopen(request, timeout=30)
        except urllib.error.HTTPError as error:
            response = error
        with response:
            headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, url
        assert "default-src 'none'" in csp and "unsafe-inline" not in csp, url
        assert headers["X-Frame-Options"] == "DENY", url
        assert headers["Referrer-Policy"] == "no-referrer", url
        assert headers["X-Content-Type-Options"] == "nosniff", url


def _user(conn: psycopg.Connection[tuple[object, ...]], where: str = "true") -> tuple[str, ...]:
    """(id, email, name, role) of a user."""
    row = conn.execute(
        f"select id::text, email, name, role::text from auth.users where {where}"
        " order by created_at limit 1"
    ).fetchone()
    assert row is not None
    return tuple(str(v) for v in row)


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},  # no Origin, but the browser says it is cross-site
        {"Sec-Fetch-Site": "same-site"},  # another port of 127.0.0.1 is the same site
        {"Origin": "http://evil.example"},  # an older browser: no fetch metadata
        {"Origin": "null"},  # a sandboxed frame or a data: page, in an older browser
        {"Origin": "null", "Sec-Fetch-Site": "cross-site"},  # ... in a current one
        {"Origin": "http://127.0.0.1:1", "Sec-Fetch-Site": "same-origin"},  # not this origin
    ],
    ids=[
        "origin-and-fetch-site",
        "fetch-site-only",
        "same-site",
        "origin-only",
        "null-origin",
        "null-origin-cross-site",
        "other-origin",
    ],
)
def test_a_cross_site_form_post_changes_nothing(
    writable: str, seeded_url: str, headers: dict[str, str]
) -> None:
    """With the session's cookie and a valid form token, even: the origin is what is refused."""
    client = Client(writable)
    with psycopg.connect(seeded_url) as conn:
        user_id, email, name, role = _user(conn)
        before = conn.execute("select count(*), max(updated_at) from auth.users").fetchone()
    create = {
        "csrf_token": client.token,
        "email": "intruder@example.com",
        "name": "Intruder",
        "role": "ADMIN",
        "save": "Save",
    }
    status, page = client.post_form("auth-users/create", create, headers)
    assert status == 403 and "cross-site request refused" in page
    edit = {"csrf_token": client.token, "email": email, "name": "Pwned", "role": "ADMIN"}
    assert client.post_form(f"auth-users/edit/{user_id}", edit, headers)[0] == 403
    with psycopg.connect(seeded_url) as conn:
        assert conn.execute("select count(*), max(updated_at) from auth.users").fetchone() == before
        assert _user(conn, f"id = '{user_id}'") == (user_id, email, name, role)
        intruder = conn.execute("select 1 from auth.users where email = 'intruder@example.com'")
        assert intruder.fetchone() is None


def test_a_write_needs_the_sessions_form_token(writable: str, seeded_url: str) -> None:
    client, other = Client(writable), Client(writable)
    assert client.token != other.token  # per session, not per process
    fields = {"email": "tokenless@example.com", "name": "Tokenless", "role": "INSTRUCTOR"}
    for token in (None, "0" * 64, other.token):
        sent = fields if token is None else {**fields, "csrf_token": token}
        status, page = client.post_form("auth-users/create", sent, client.same_origin())
        assert status == 403 and "form token" in page, token
    with psycopg.connect(seeded_url) as conn:
        found = conn.execute("select 1 from auth.users where email = 'tokenless@example.com'")
        assert found.fetchone() is None
    # The same post from the studio's own page, with its token, does create the user.
    empty = {"created_at": "", "updated_at": "", "email_verified_at": "", "save": "Save"}
    status, _ = client.post_form(
        "auth-users/create", {**fields, **empty, "csrf_token": client.token}, client.same_origin()
    )
    assert status == 200  # redirected to the list
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute(
            "select name, role::text, created_at is not null from auth.users"
            " where email = 'tokenless@example.com'"
        ).fetchone()
        conn.execute("delete from auth.users where email = 'tokenless@example.com'")
    assert row == ("Tokenless", "INSTRUCTOR", True)  # empty fields took the columns' defaults


@pytest.mark.parametrize(
    ("identity", "column", "query"),
    [
        ("auth-users", "password_hash", "select password_hash from auth.users"
         " where password_hash is not null limit 1"),
        ("auth-sessions", "token_hash", "select token_hash from auth.sessions limit 1"),
        ("auth-password-resets", "token_hash", "select coalesce(max(token_hash), 'x')"
         " from auth.password_resets"),
    ],
)  # fmt: skip
def test_a_filter_on_a_hidden_column_is_refused(
    studio: str, seeded_url: str, identity: str, column: str, query: str
) -> None:
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute(query).fetchone()
    assert row is not None
    secret = urllib.parse.quote(str(row[0]))
    status, page = _get(f"{studio}{identity}/list?eq_{column}={secret}")
    assert status == 400 and f"cannot filter on &#39;{column}&#39;" in page
    assert not _details_ids(page, identity)
    # Nor can a search reach it: the hash matches no row.
    status, page = _get(f"{studio}{identity}/list?search={secret}")
    assert status == 200 and not _details_ids(page, identity)


def test_an_unknown_filter_is_an_error_not_ignored(studio: str) -> None:
    status, page = _get(f"{studio}auth-users/list?eq_no_such_column=1")
    assert status == 400
    assert "cannot filter on &#39;no_such_column&#39;: auth.users has no such column" in page


# -- faithful: partitions, estimates, JSON, NULL --------------------------------


def test_partitions_are_folded_into_their_table(studio: str, seeded_url: str) -> None:
    with psycopg.connect(seeded_url) as conn:
        partitions = [
            r[0]
            for r in conn.execute(
                "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
                " where i.inhparent = 'activity.analytics_events'::regclass"
            )
        ]
        found = conn.execute(
            "select user_id, count(*) from activity.analytics_events where user_id is not null"
            " group by 1 order by 2 desc limit 1"
        ).fetchone()
    assert len(partitions) >= 2 and found is not None
    user, events = found
    index = _get(studio)[1]
    assert "/activity-analytics-events/list" in index
    for name in partitions:
        slug = name.replace("_", "-")
        assert f"/activity-{slug}/list" not in index, name
        assert _get(f"{studio}activity-{slug}/list")[0] == 404, name
    profile = _get(f"{studio}auth-users/details/{user}")[1]
    assert profile.count("activity.analytics_events") == 1  # once, not once per partition
    assert re.search(rf"activity\.analytics_events\.user_id</a></td>\s*<td>{events}</td>", profile)


def test_the_index_lists_every_schema_with_row_estimates(studio: str, seeded_url: str) -> None:
    from codezest_db.tools.seed.tables import TABLES

    page = _get(studio)[1]
    cards = dict(
        re.findall(r'<div class="card studio-schema" data-schema="(\w+)">(.*?)</table>', page, re.S)
    )
    assert list(cards) == ["auth", "learning", "payments", "notifications", "activity"]
    with psycopg.connect(seeded_url) as conn:
        for table in TABLES:
            schema, name = table.split(".")
            # pg_class.reltuples; a partitioned table's is its partitions' sum.
            row = conn.execute(
                "select sum(c.reltuples)::bigint from pg_class c where c.oid = %s::regclass"
                " and c.relkind = 'r' or c.oid in (select inhrelid from pg_inherits"
                " where inhparent = %s::regclass)",
                [table, table],
            ).fetchone()
            assert row is not None
            shown = re.search(
                rf">{name}</a></td>\s*<td class=\"text-end studio-estimate\">([\d,]+)</td>",
                cards[schema],
            )
            assert shown, table
            assert int(shown.group(1).replace(",", "")) == row[0], table
        # Analyzed whole by the fixture, and not written to by any test: the estimate is the count.
        events = conn.execute("select count(*) from activity.analytics_events").fetchone()
    assert events is not None
    for schema, name, count in (
        ("activity", "analytics_events", events[0]),
        ("auth", "users", USERS),
    ):
        estimate = rf">{name}</a></td>\s*<td class=\"text-end studio-estimate\">{count:,}<"
        assert re.search(estimate, cards[schema]), name


def test_json_is_shown_as_json_and_null_as_null(studio: str, seeded_url: str) -> None:
    value = {"title": 'it\'s "quoted"', "tags": ["a", "b"], "none": None, "ok": True}
    with psycopg.connect(seeded_url) as conn:
        row = conn.execute(
            "update activity.user_activities"
            " set metadata = %s, entity_type = null, entity_id = null"
            " where id = (select id from activity.user_activities order by id limit 1)"
            " returning id",
            [psycopg.types.json.Jsonb(value)],
        ).fetchone()
    assert row is not None
    details = _get(f"{studio}activity-user-activities/details/{row[0]}")[1]
    shown = re.search(r'<pre class="studio-json">(.*?)</pre>', details, re.S)
    assert shown and json.loads(html.unescape(shown.group(1))) == value
    assert "{&#39;" not in details and "None" not in details  # no Python repr
    assert re.search(r"<td>entity_type</td>\s*<td><span class=\"[^\"]*studio-null\">NULL", details)
    listing = _get(f"{studio}activity-user-activities/list?eq_id={row[0]}")[1]
    assert "studio-null" in listing and "&#34;tags&#34;: [&#34;a&#34;, &#34;b&#34;]" in listing


def test_an_empty_page_says_so(studio: str) -> None:
    status, page = _get(f"{studio}auth-users/list?eq_email=nobody%40example.com")
    assert status == 200
    assert "No rows" in page and "Showing 1 to 0" not in page
    assert "Showing 1 to 25 of" in _get(f"{studio}auth-users/list")[1]


# -- one-line errors --------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_database_it_cannot_use_is_one_line_on_stderr(test_server: TestServer) -> None:
    base = psycopg.conninfo.conninfo_to_dict(test_server.admin_url)
    host, port = base.get("host", "127.0.0.1"), base.get("port", "5432")
    empty = test_server.create_database("codezest_studio_unmigrated")
    try:
        cases = {
            f"postgresql://postgres@127.0.0.1:{_closed_port()}/postgres": "Connection refused",
            f"postgresql://postgres@{host}:{port}/codezest_no_such_db": "does not exist",
            "this is not a url": "not a valid PostgreSQL URL",
            empty: "codezest-db migrate",
        }
        for url, expected in cases.items():
            done = subprocess.run(
                [sys.executable, "-m", "codezest_db.cli", "studio", "--url", url, "--port", "0"],
                capture_output=True,
                text=True,
                timeout=120,
            )
            lines = done.stderr.strip().splitlines()
            assert done.returncode == 1, (url, done.stderr)
            assert len(lines) == 1 and "Traceback" not in done.stderr, (url, done.stderr)
            assert lines[0].startswith("codezest-db studio: ") and expected in lines[0], lines
            assert done.stdout == ""  # no URL printed: nothing is served
    finally:
        test_server.drop_database(empty)


# -- in Chromium: an edit writes only what changed; the page keeps to its CSP --------

AUDIT = """
create table public.studio_test_audit (id bigserial primary key, changed text[] not null);
create function public.studio_test_audit() returns trigger language plpgsql as $$
begin
  insert into public.studio_test_audit (changed)
  select coalesce(array_agg(n.key order by n.key), '{}')
    from jsonb_each(to_jsonb(new)) n join jsonb_each(to_jsonb(old)) o using (key)
   where n.value is distinct from o.value;
  return new;
end $$;
-- Fires before users_set_updated_at (alphabetical order): it sees the UPDATE as sent.
create trigger a_studio_test_audit before update on auth.users
  for each row execute function public.studio_test_audit();
-- Fires when the UPDATE's SET list names any column but name, even to its own value.
create function public.studio_test_set_list() returns trigger language plpgsql as $$
begin
  insert into public.studio_test_audit (changed) values ('{SET other columns}');
  return new;
end $$;
create trigger a_studio_test_set_list before update of id, email, password_hash, role,
  email_verified_at, last_login_at, created_at, updated_at, deleted_at on auth.users
  for each row execute function public.studio_test_set_list();
"""


@pytest.fixture
def audited(seeded_url: str) -> Iterator[str]:
    """Records, for every UPDATE of auth.users, which columns the statement changed."""
    with psycopg.connect(seeded_url, autocommit=True) as conn:
        conn.execute(AUDIT)
    try:
        yield seeded_url
    finally:
        with psycopg.connect(seeded_url, autocommit=True) as conn:
            conn.execute("drop trigger a_studio_test_audit on auth.users")
            conn.execute("drop trigger a_studio_test_set_list on auth.users")
            conn.execute("drop function public.studio_test_audit()")
            conn.execute("drop function public.studio_test_set_list()")
            conn.execute("drop table public.studio_test_audit")


def _csp_violations(driver: object) -> list[str]:
    logs = driver.get_log("browser")  # type: ignore[attr-defined]
    return [e["message"] for e in logs if "Content Security Policy" in e["message"]]


def test_in_chromium_an_edit_writes_only_the_field_changed(
    writable: str, audited: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    timestamps = "created_at::text, updated_at::text, email_verified_at::text, last_login_at::text"
    with psycopg.connect(audited) as conn:
        row = conn.execute(
            f"select id::text, {timestamps} from auth.users"
            " where email_verified_at is not null and last_login_at is not null"
            " and extract(microseconds from created_at)::int % 1000000 <> 0"
            " order by created_at limit 1"
        ).fetchone()
    assert row is not None
    user, *before = row
    assert all("." in t and t.endswith("+00") for t in before)  # microseconds and a zone
    driver = _browser(tmp_path / "profile")
    assert isinstance(driver, WebDriver)
    try:

        def save(name: str | None) -> None:
            driver.get(f"{writable}auth-users/edit/{user}")
            if name is not None:
                field = driver.find_element(By.NAME, "name")
                field.clear()
                field.send_keys(name)
            button = driver.find_element(By.CSS_SELECTOR, 'input[name="save"][value="Save"]')
            # A click by script: the button may sit under the page's sticky footer.
            driver.execute_script("arguments[0].click()", button)
            WebDriverWait(driver, 30).until(lambda d: "/auth-users/list" in d.current_url)

        save("Renamed In Chromium")
        with psycopg.connect(audited) as conn:
            after = conn.execute(
                f"select name, {timestamps} from auth.users where id = %s", [user]
            ).fetchone()
            audit = conn.execute("select changed from public.studio_test_audit").fetchall()
        assert after is not None
        # The UPDATE named the name in its SET list, and no other column.
        assert audit == [(["name"],)]
        assert after[0] == "Renamed In Chromium"
        # Byte for byte; updated_at is then the trigger's (auth.set_updated_at), not the form's.
        assert [after[1], after[3], after[4]] == [before[0], before[2], before[3]]
        # Saved untouched: no UPDATE at all.
        save(None)
        with psycopg.connect(audited) as conn:
            count = conn.execute("select count(*) from public.studio_test_audit").fetchone()
        assert count == (1,)
        assert _csp_violations(driver) == []
    finally:
        driver.quit()


def test_in_chromium_delete_sends_the_form_token(
    writable: str, seeded_url: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    with psycopg.connect(seeded_url) as conn:
        row = conn.execute("select id from notifications.notifications limit 1").fetchone()
    assert row is not None
    driver = _browser(tmp_path / "profile")
    assert isinstance(driver, WebDriver)
    try:
        driver.get(f"{writable}notifications-notifications/details/{row[0]}")
        driver.find_element(By.CSS_SELECTOR, 'a[data-bs-target="#modal-delete"]').click()
        button = WebDriverWait(driver, 30).until(
            expected_conditions.element_to_be_clickable((By.ID, "modal-delete-button"))
        )
        button.click()
        WebDriverWait(driver, 30).until(
            lambda d: "/notifications-notifications/list" in d.current_url
        )
        assert _csp_violations(driver) == []
    finally:
        driver.quit()
    with psycopg.connect(seeded_url) as conn:
        gone = conn.execute("select 1 from notifications.notifications where id = %s", row)
        assert gone.fetchone() is None


def test_in_chromium_saving_an_untouched_form_writes_nothing_in_any_table(
    writable: str, seeded_url: str, tmp_path: Path
) -> None:
    """Every column type's field round-trips: text (CRLF from a textarea), JSON, numeric,
    inet, enums, booleans, NULLs, timestamps. Proof: the row's version (xmin) is unchanged."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    from codezest_db.tools.seed.tables import TABLES

    rows = {}
    with psycopg.connect(seeded_url) as conn:
        for table in TABLES:
            found = conn.execute(f"select id::text, xmin::text from {table} order by id limit 1")
            row = found.fetchone()
            if row is not None:
                rows[table] = row
    assert len(rows) >= 25  # the seed fills (nearly) every table
    driver = _browser(tmp_path / "profile")
    assert isinstance(driver, WebDriver)
    failures = []
    try:
        for table, (key, _) in rows.items():
            identity = table.replace(".", "-").replace("_", "-")
            driver.get(f"{writable}{identity}/list?eq_id={key}")
            edit = driver.find_element(By.CSS_SELECTOR, f'a[href*="/{identity}/edit/"]')
            driver.get(str(edit.get_attribute("href")))
            button = driver.find_element(By.CSS_SELECTOR, 'input[name="save"][value="Save"]')
            driver.execute_script("arguments[0].click()", button)
            WebDriverWait(driver, 30).until(lambda d: "/edit/" not in d.current_url or (
                d.find_elements(By.CSS_SELECTOR, ".invalid-feedback, .alert-danger")))  # fmt: skip
            if "/edit/" in driver.current_url:
                errors = driver.find_elements(By.CSS_SELECTOR, ".invalid-feedback, .alert-danger")
                failures.append(f"{table}: {[e.text for e in errors]}")
        assert _csp_violations(driver) == []
    finally:
        driver.quit()
    assert failures == []
    with psycopg.connect(seeded_url) as conn:
        for table, (key, xmin) in rows.items():
            now = conn.execute(f"select xmin::text from {table} where id = %s", [key]).fetchone()
            assert now == (xmin,), f"{table}: the row was rewritten"
