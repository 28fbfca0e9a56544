"""The studio's request guard: security headers on every response, writes only from its own pages.

A pure ASGI middleware in front of sqladmin:

- every response carries a strict Content-Security-Policy (scripts, styles
  and fonts from the studio itself only, ``frame-ancestors 'none'``),
  ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer``,
  ``X-Content-Type-Options: nosniff`` and ``Cache-Control: no-store``;
- a browser gets a session cookie (HttpOnly, SameSite=Strict, scoped to the
  token's path); every form carries the session's form token, derived from
  it with a key that lives only in this process;
- a request that is not GET, HEAD or OPTIONS is refused with 403 in
  read-only mode, and in ``--write`` mode unless it comes from the studio's
  own origin (``Sec-Fetch-Site: same-origin`` when the browser sends it, an
  ``Origin`` equal to the page's when sent, see `_cross_site`) and carries the session's form
  token (form field or ``X-CSRF-Token`` header).
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

from starlette.requests import Request

__all__ = ["FORM_FIELD", "HEADER", "SECURITY_HEADERS", "Guard", "form_token"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "codezest_studio_session"
FORM_FIELD = "csrf_token"
HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_BODY = 4 * 1024 * 1024  # the studio's forms are small: a larger body is refused
CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"cache-control", b"no-store"),
)

# The form token of the request being served: read by the forms' hidden field.
_current_token: contextvars.ContextVar[str] = contextvars.ContextVar("studio_form_token")


def form_token() -> str:
    """The form token of the session of the request being served ("" outside a request)."""
    return _current_token.get("")


class Guard:
    """Wraps the studio's app; *prefix* is the secret path (``/<token>``)."""

    def __init__(self, app: App, *, prefix: str, write: bool) -> None:
        self.app = app
        self.prefix = prefix
        self.write = write
        self.key = secrets.token_bytes(32)

    def token_for(self, session: str) -> str:
        return hmac.new(self.key, session.encode(), hashlib.sha256).hexdigest()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        session = _session_cookie(headers.get("cookie", ""))
        new_session = None
        if not session:
            session = new_session = secrets.token_urlsafe(24)
        token = self.token_for(session)

        in_prefix = scope["path"].startswith(f"{self.prefix}/")

        async def send_guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                extra = list(SECURITY_HEADERS)
                # A new session starts with a page (its forms carry the token):
                # the page's scripts and styles, fetched at once without the
                # cookie yet, must not replace it with sessions of their own.
                if new_session and in_prefix and _is_page(message):
                    cookie = (
                        f"{COOKIE}={new_session}; Path={self.prefix}/; HttpOnly; SameSite=Strict"
                    )
                    extra.append((b"set-cookie", cookie.encode()))
                names = {name for name, _ in extra if name != b"set-cookie"}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + extra
            await send(message)

        if scope["method"] in SAFE_METHODS:
            reset = _current_token.set(token)
            try:
                await self.app(scope, receive, send_guarded)
            finally:
                _current_token.reset(reset)
            return
        if not self.write:
            await _refuse(send_guarded, "the studio is read-only (start it with --write)")
            return
        why = _cross_site(headers)
        if why:
            await _refuse(send_guarded, why)
            return
        body, too_large = await _read_body(receive)
        if too_large:
            await _refuse(send_guarded, "request body too large", status=413)
            return
        given = headers.get(HEADER) or await _form_field(scope, body)
        if new_session or not given or not hmac.compare_digest(given, token):
            await _refuse(send_guarded, "missing or wrong form token: reload the page and retry")
            return
        reset = _current_token.set(token)
        try:
            await self.app(scope, _replay(body), send_guarded)
        finally:
            _current_token.reset(reset)


def _is_page(start: Message) -> bool:
    if start.get("status") != 200:
        return False
    types = [v for k, v in start.get("headers", []) if k.lower() == b"content-type"]
    return bool(types) and types[0].startswith(b"text/html")


def _cross_site(headers: dict[str, str]) -> str | None:
    """Why a write request is not from the studio's own pages, or None.

    ``Sec-Fetch-Site`` (sent by every current browser) must be
    ``same-origin``: ``same-site`` includes every other port of 127.0.0.1.
    An ``Origin``, when sent, must be the page's own: ``http://`` and the Host.
    ``Origin: null`` is what a browser sends for the studio's own forms (its
    pages' ``Referrer-Policy: no-referrer`` hides the origin too): accepted
    only with ``Sec-Fetch-Site: same-origin``, which no page can forge.
    """
    site = headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return f"cross-site request refused (Sec-Fetch-Site: {site})"
    origin = headers.get("origin")
    if origin is None or origin == f"http://{headers.get('host', '')}":
        return None
    if origin == "null" and site == "same-origin":
        return None
    return f"cross-site request refused (Origin: {origin})"


def _session_cookie(header: str) -> str | None:
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(header)
    except Exception:  # a malformed Cookie header: as if none
        return None
    morsel = cookies.get(COOKIE)
    value = morsel.value if morsel else ""
    plain = value.replace("-", "").replace("_", "")
    return value if 20 <= len(value) <= 64 and plain.isalnum() and plain.isascii() else None


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return b"", True
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks), False


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _form_field(scope: Scope, body: bytes) -> str | None:
    content_type = next(
        (v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"content-type"), ""
    )
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    request = Request(scope, _replay(body))
    try:
        async with request.form(max_files=0) as form:
            value = form.get(FORM_FIELD)
    except Exception:  # a malformed body: no token
        return None
    return value if isinstance(value, str) else None


async def _refuse(send: Send, reason: str, status: int = 403) -> None:
    body = f"{status} Forbidden: {reason}\n".encode() if status == 403 else reason.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
