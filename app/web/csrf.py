"""CSRF protection for the HTML forms: a double-submit token.

The middleware gives every browser a random token in a cookie and on `request.state`; the base
template sends it with every htmx request (one `hx-headers:inherited` on <body>) and forms carry
it as a hidden field for plain submissions. State-changing page routes depend on
`verify_csrf`, which compares the two in constant time. The JSON API uses no cookies, so it
needs none of this.
"""

import hmac
import secrets

from fastapi import Depends, HTTPException, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

COOKIE = "dealbook_csrf"
HEADER = "X-CSRF-Token"
FIELD = "csrf_token"


class CsrfCookieMiddleware:
    """Issue the token cookie once per browser; expose the token to templates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        token = request.cookies.get(COOKIE)
        fresh = not token
        if fresh:
            token = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_token"] = token

        async def send_with_cookie(message: Message) -> None:
            if fresh and message["type"] == "http.response.start":
                cookie = f"{COOKIE}={token}; Path=/; SameSite=Lax; HttpOnly"
                message.setdefault("headers", []).append((b"set-cookie", cookie.encode()))
            await send(message)

        await self.app(scope, receive, send_with_cookie)


async def verify_csrf(request: Request) -> None:
    """Refuse a state-changing page request whose token does not match the cookie."""
    expected = request.cookies.get(COOKIE, "")
    given = request.headers.get(HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        given = str((await request.form()).get(FIELD, ""))
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise HTTPException(403, "This form has expired or came from elsewhere; reload the page.")


CsrfDep = Depends(verify_csrf)
