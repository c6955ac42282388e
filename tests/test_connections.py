"""The keep-alive limit (app/web/connections.py): which responses ask the client to reconnect."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.web.connections import KeepAliveLimitMiddleware


def _client(requests: int, draws: list[float], response: Response | None = None) -> TestClient:
    async def page(request: Request) -> Response:
        return response or PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", page)])
    numbers = iter(draws)
    return TestClient(KeepAliveLimitMiddleware(app, requests, draw=lambda: next(numbers)))


def test_a_response_asks_for_a_new_connection_with_probability_one_in_n() -> None:
    # 1/50 = 0.02: a draw below it closes, a draw at or above it keeps the connection.
    client = _client(50, [0.0199, 0.02, 0.5, 0.0])
    closes = [client.get("/").headers.get("connection") for _ in range(4)]
    assert closes == ["close", None, None, "close"]


def test_zero_never_closes_and_draws_nothing() -> None:
    client = _client(0, [])  # a draw would raise StopIteration
    assert all(client.get("/").headers.get("connection") is None for _ in range(3))


def test_a_connection_header_the_app_set_is_left_alone() -> None:
    upgrade = PlainTextResponse("ok", headers={"Connection": "keep-alive"})
    client = _client(1, [0.0], upgrade)
    reply = client.get("/")
    assert reply.headers.get_list("connection") == ["keep-alive"]
    assert reply.text == "ok"
