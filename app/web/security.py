"""Response headers that keep pages and data where they belong, and the request-size cap.

Every response gets a strict Content-Security-Policy with a fresh nonce: scripts only from
this site (and only nonce-carrying ones count for htmx's CSP extension), no inline script or
eval, no framing, no plugins, Trusted Types for DOM sinks. Deal data is never cached by the
browser or a proxy.
"""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

DOCS_PATHS = ("/docs",)
"""Swagger UI writes HTML into the page itself, which Trusted Types would refuse."""


def policy(nonce: str, path: str = "") -> str:
    trusted = (
        ()
        if path in DOCS_PATHS
        else (
            "require-trusted-types-for 'script'",
            "trusted-types htmx",
        )
    )
    return "; ".join(
        (
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            "style-src 'self'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
            *trusted,
        )
    )


STATIC_PREFIX = "/static/"


class SecurityHeadersMiddleware:
    """CSP (with a per-response nonce on `request.state.csp_nonce`) and the other headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        https = scope.get("scheme") == "https"
        static = scope["path"].startswith(STATIC_PREFIX)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                present = {name.lower() for name, _ in headers}
                add = [
                    (b"content-security-policy", policy(nonce, scope["path"]).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if not static and b"cache-control" not in present:
                    add.append((b"cache-control", b"no-store"))
                if https:
                    add.append((b"strict-transport-security", b"max-age=31536000"))
                headers.extend(add)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyTooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Refuse a request body above the limit while it streams in (413), before any of it is
    parsed or spooled: a declared Content-Length is checked up front, the bytes as they come."""

    def __init__(self, app: ASGIApp, limit: int, overhead: int = 64 * 1024) -> None:
        self.app = app
        self.limit = limit + overhead  # multipart boundaries and form fields ride along

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        megabytes = (self.limit - 64 * 1024) / 2**20
        if scope["path"].startswith("/api/"):
            body = (
                '{"detail": [{"loc": ["body"], "msg": "the request is larger than the '
                f'{megabytes:g} MB limit", "type": "too_large"}}]}}'
            ).encode()
            kind = b"application/json"
        else:
            body = f"The file is larger than the {megabytes:g} MB limit.".encode()
            kind = b"text/plain; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})
