"""Keep-alive connections are recycled (app/web/connections.py) under the production server:
uvicorn honours the app's `Connection: close`, and a client that reconnects is served on."""

from __future__ import annotations

import http.client
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.ops import harness as ops

pytestmark = pytest.mark.postgres


def _connection(base: str) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)


def test_the_server_closes_a_connection_the_app_asks_to_close(tmp_path: Path) -> None:
    environ = {"KEEPALIVE_REQUESTS": "1"}  # every response asks for a new connection
    with (
        ops.scratch_database("keepalive") as url,
        ops.gunicorn(url, tmp_path, workers=2, environ=environ) as server,
    ):
        parts = urlsplit(server.base)
        with socket.create_connection((parts.hostname, parts.port), timeout=3) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: dealbook\r\n\r\n")
            received = b""
            while chunk := sock.recv(65536):  # b"" once the server hangs up (else: timeout)
                received += chunk
        head = received.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.1 200")
        assert b"\r\nconnection: close" in head
        conn = _connection(server.base)
        try:
            for _ in range(3):  # http.client reconnects by itself after each close
                conn.request("GET", "/healthz")
                assert conn.getresponse().read() == b'{"status":"ok"}'
        finally:
            conn.close()


def test_by_default_a_connection_serves_many_requests_then_is_recycled(tmp_path: Path) -> None:
    with ops.scratch_database("keepalive") as url, ops.gunicorn(url, tmp_path) as server:
        conn = _connection(server.base)
        closes = 0
        try:
            for _ in range(500):
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                assert response.status == 200
                closes += response.getheader("Connection") == "close"
                response.read()
        finally:
            conn.close()
        # One in 50 on average (binomial: 10 +- 3); 0 or 30+ would be odds of under 1e-4.
        assert 1 <= closes < 30

        def served() -> list[dict]:
            return [line for line in server.log_lines() if line.get("path") == "/healthz"]

        # A request's line is written after its response is sent: wait for the last ones.
        ops.wait_until(lambda: len(served()) >= 500, 10, "every request's log line")
        assert {line["worker"] for line in served()} <= server.workers()  # logged by its worker
