"""Request ids and the request log: every response carries an id (a sane incoming
X-Request-ID, else a new one), the log line has it, and error pages and error bodies show it,
so a person's report of a failure leads to its log line."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse

from app.web import observe


def _boom() -> None:
    raise RuntimeError("a bug")


@pytest.fixture
def failing(client: TestClient) -> TestClient:
    """The app with a page and an API route that raise, answering 500 instead of raising."""
    client.app.add_api_route("/boom", _boom)
    client.app.add_api_route("/api/v1/boom", _boom)
    return TestClient(client.app, raise_server_exceptions=False, headers=client.headers)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("support-ticket-42", True),
        ("A" * 64, True),
        ("A" * 65, False),  # too long
        ("two words", False),
        ("semi;colon", False),
        ("", False),
    ],
)
def test_a_sane_incoming_id_is_kept_else_one_is_made(
    anonymous: TestClient, given: str, kept: bool
) -> None:
    response = anonymous.get("/healthz", headers={"X-Request-ID": given})
    answered = response.headers["x-request-id"]
    if kept:
        assert answered == given
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", answered)


def test_every_request_gets_a_new_id(anonymous: TestClient) -> None:
    ids = {anonymous.get("/healthz").headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5


def test_a_500_page_shows_its_id_and_no_traceback(failing: TestClient) -> None:
    page = failing.get("/boom", headers={"X-Request-ID": "report-me-1"})
    assert page.status_code == 500 and page.headers["x-request-id"] == "report-me-1"
    assert '<code id="request-id">report-me-1</code>' in page.text
    assert "Something went wrong on our side" in page.text
    assert "Traceback" not in page.text and "a bug" not in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'self'")

    api = failing.get("/api/v1/boom", headers={"X-Request-ID": "report-me-2"})
    assert api.status_code == 500 and api.headers["x-request-id"] == "report-me-2"
    (problem,) = api.json()["detail"]
    assert problem["msg"].endswith("Reference: report-me-2.") and "a bug" not in problem["msg"]


def test_client_errors_name_no_reference(client: TestClient) -> None:
    """Only server failures carry the reference in their message (4xx say what to fix)."""
    missing = client.get("/api/v1/deals/no-such-deal")
    assert missing.status_code == 404 and "Reference" not in missing.json()["detail"][0]["msg"]


def test_one_log_line_per_request_with_its_id(monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[dict[str, Any]] = []
    monkeypatch.setattr(observe.log, "info", lambda event, **fields: lines.append(fields))
    app = FastAPI()

    @app.get("/items/{item}")
    def item(item: str) -> PlainTextResponse:
        observe.add_engine_time(0.25)
        return PlainTextResponse(item, status_code=201)

    app.add_middleware(observe.RequestLogMiddleware)
    response = TestClient(app).get("/items/7", headers={"X-Request-ID": "line-1"})
    assert response.headers["x-request-id"] == "line-1"
    (line,) = lines
    assert line["request_id"] == "line-1" and line["status"] == 201
    assert line["method"] == "GET" and line["path"] == "/items/7"
    assert line["route"] == "/items/{item}"
    assert line["engine_ms"] == 250.0 and line["duration_ms"] >= 0
    assert line["user"] is None and "disconnected" not in line


def test_no_log_line_when_logging_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    lines: list[dict[str, Any]] = []
    monkeypatch.setattr(observe.log, "info", lambda event, **fields: lines.append(fields))
    app = FastAPI()
    app.add_api_route("/", lambda: PlainTextResponse("ok"))
    app.add_middleware(observe.RequestLogMiddleware, log_requests=False)
    response = TestClient(app).get("/")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"]) and lines == []
