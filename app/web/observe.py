"""What a server tells its operators: one JSON log line per request, and a request id.

The id comes from a trusted `X-Request-ID` (letters, digits, dashes, up to 64) or is made
here; it goes back in the response header and on error pages, so a person's report of a
failure leads straight to its log line. Engine time is the time the request spent valuing.
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = "x-request-id"
_VALID_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
engine_seconds: ContextVar[list[float] | None] = ContextVar("engine_seconds", default=None)

log = structlog.get_logger("dealbook.request")


def configure_logging(level: str = "INFO") -> None:
    """JSON lines on stdout, one event each (structlog over the standard library)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def add_engine_time(seconds: float) -> None:
    """Count valuation time against the current request (no-op outside one)."""
    bucket = engine_seconds.get()
    if bucket is not None:
        bucket.append(seconds)


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(REQUEST_ID.encode(), b"").decode("latin-1")
        request_id = given if _VALID_ID.match(given) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        bucket: list[float] = []
        token = engine_seconds.set(bucket)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((REQUEST_ID.encode(), request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            engine_seconds.reset(token)
            principal = state.get("principal")
            route = scope.get("route")
            fields: dict[str, Any] = {
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "route": getattr(route, "path", None),
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "engine_ms": round(sum(bucket) * 1000, 2),
                "user": getattr(principal, "username", None),
                "client": (scope.get("client") or ("", 0))[0],
            }
            log.info("request", **fields)
