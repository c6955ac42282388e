"""CSRF protection for the pages: a token bound to the login session, and the Origin check.

A logged-in browser's token is an HMAC of its session cookie, so another session's token
never passes; before login (the login form) it is a random double-submit cookie. The base
template sends the token with every htmx request (one `hx-headers:inherited` on <body>), and
forms carry it as a hidden field for plain submissions. State-changing page routes depend on
`verify_csrf`, which also refuses requests from a foreign origin. The JSON API authenticates
with bearer tokens, not cookies, so it needs none of this.
"""

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "dealbook_csrf"
SESSION_COOKIE = "dealbook_session"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


def session_token(secret: str, session_cookie: str) -> str:
    """The CSRF token of a login session: only a page served to that session knows it."""
    mac = hmac.new(secret.encode(), b"csrf:" + session_cookie.encode(), hashlib.sha256)
    return mac.hexdigest()


def expected_token(request: Request) -> str:
    session = request.cookies.get(SESSION_COOKIE)
    if session:
        return session_token(request.app.state.secret_key, session)
    return request.cookies.get(COOKIE, "")


class CsrfCookieMiddleware:
    """Issue the anonymous token cookie once per browser; expose the right token to templates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        anonymous = request.cookies.get(COOKIE)
        fresh = not anonymous
        if fresh:
            anonymous = secrets.token_urlsafe(32)
        session = request.cookies.get(SESSION_COOKIE)
        state = scope.setdefault("state", {})
        state["csrf_token"] = (
            session_token(scope["app"].state.secret_key, session) if session else anonymous
        )

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                cookie = f"{COOKIE}={anonymous}; Path=/; SameSite=Lax; HttpOnly"
                if scope.get("scheme") == "https":
                    cookie += "; Secure"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


def _same_origin(request: Request) -> bool:
    """A browser says where a request came from; it must be this site."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        # No Origin or Referer: not a cross-site browser request (browsers send Origin on
        # cross-site POSTs); Sec-Fetch-Site, where sent, settles it.
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    parts = urlsplit(origin)
    return (parts.scheme, parts.netloc) == (request.url.scheme, request.url.netloc)


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing page request with a missing or wrong token, or from elsewhere."""
    if not _same_origin(request):
        raise HTTPException(403, "This request came from another site; it was refused.")
    expected = expected_token(request)
    given = request.headers.get(HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = str((await request.form()).get(FIELD, ""))
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise HTTPException(403, "This form has expired or came from elsewhere; reload the page.")


CsrfDep = Depends(verify_csrf)
