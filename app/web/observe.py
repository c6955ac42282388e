"""What a server tells its operators: one JSON log line per request, and a request id.

The id comes from a trusted `X-Request-ID` (letters, digits, dashes, up to 64) or is made
here; it goes back in the response header and on error pages, so a person's report of a
failure leads straight to its log line. Engine time is the time the request spent valuing.
"""

from __future__ import annotations

import logging
import os
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
    """JSON lines on stdout, one event each (structlog over the standard library).

    Each line and its newline go out in one write: workers sharing one stdout then never
    interleave inside a line (print() writes the newline separately)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.WriteLoggerFactory(sys.stdout),
        cache_logger_on_first_use=True,
    )


def add_engine_time(seconds: float) -> None:
    """Count valuation time against the current request (no-op outside one)."""
    bucket = engine_seconds.get()
    if bucket is not None:
        bucket.append(seconds)


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp, log_requests: bool = True) -> None:
        self.app = app
        self.log_requests = log_requests

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
        seen = {"status": 500, "done": False, "disconnected": False}

        async def receive_watching() -> Message:
            message = await receive()
            if message["type"] == "http.disconnect" and not seen["done"]:
                seen["disconnected"] = True  # gone before its answer: nobody saw the status
            return message

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                message.setdefault("headers", []).append((REQUEST_ID.encode(), request_id.encode()))
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                seen["done"] = True
            await send(message)

        try:
            await self.app(scope, receive_watching, send_with_id)
        finally:
            engine_seconds.reset(token)
            if self.log_requests:
                _log(scope, request_id, seen, time.perf_counter() - started, sum(bucket))


def _log(
    scope: Scope, request_id: str, seen: dict[str, Any], seconds: float, engine: float
) -> None:
    """The request's one line. A client that hung up before its answer is logged with
    nginx's 499 (client closed request), not with the status nobody received."""
    principal = scope["state"].get("principal")
    route = scope.get("route")
    fields: dict[str, Any] = {
        "request_id": request_id,
        "method": scope["method"],
        "path": scope["path"],
        "route": getattr(route, "path", None),
        "status": 499 if seen["disconnected"] else seen["status"],
        "duration_ms": round(seconds * 1000, 2),
        "engine_ms": round(engine * 1000, 2),
        "user": getattr(principal, "username", None),
        "client": (scope.get("client") or ("", 0))[0],
        "worker": os.getpid(),
    }
    if seen["disconnected"]:
        fields["disconnected"] = True
    log.info("request", **fields)
