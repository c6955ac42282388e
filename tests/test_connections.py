"""The keep-alive limit and the shared worker load (app/web/connections.py): which responses
ask the client to reconnect."""

from __future__ import annotations

import mmap
import multiprocessing
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from app.web import connections
from app.web.connections import FREE, SLOT_FIELDS, KeepAliveLimitMiddleware, WorkerLoad


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


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _siblings(count: int, clock: Clock) -> list[WorkerLoad]:
    buffer = memoryview(mmap.mmap(-1, 8 * SLOT_FIELDS * 4))
    WorkerLoad.free_all(buffer)
    return [WorkerLoad(buffer, slot, clock) for slot in range(count)]


def _hold(load: WorkerLoad, requests: int) -> None:
    for _ in range(requests):
        load.enter()


def _settled(*in_flight: int) -> tuple[Clock, list[WorkerLoad]]:
    """Siblings holding these many requests each for 20 half-lives: averages = counts."""
    clock = Clock()
    loads = _siblings(len(in_flight), clock)
    for load, requests in zip(loads, in_flight, strict=True):
        _hold(load, requests)
    clock.now = 5.0
    return clock, loads


def test_a_worker_with_two_more_in_flight_than_a_sibling_is_crowded() -> None:
    _, (a, b) = _settled(5, 3)
    assert a.crowded() and not b.crowded()
    a.shed()  # one client sent away: 4 against 3 is close enough
    assert not a.crowded()


def test_an_even_or_nearly_even_split_sheds_nobody() -> None:
    _, (a, b, c) = _settled(4, 4, 5)
    assert not any(load.crowded() for load in (a, b, c))


def test_the_average_rides_out_short_gaps_and_forgets_a_quiet_sibling() -> None:
    clock, (a, b) = _settled(3, 3)
    for _ in range(3):  # b's clients all pause for 10 ms between requests
        b.leave()
    clock.now = 5.01
    assert not a.crowded()  # b still averages about 2.9
    clock.now = 7.0  # 8 half-lives of b idle: about 0.01
    assert a.crowded()
    _hold(b, 3)
    assert a._average(a.base, clock.now) == pytest.approx(3.0)
    assert b._average(b.base, clock.now) == pytest.approx(3.0 * 2**-8, rel=1e-4)


def test_a_freed_slot_is_no_sibling() -> None:
    _, (a, b) = _settled(10, 0)
    assert a.crowded()  # against b, idle
    WorkerLoad.free(b.values, b.slot)
    assert not a.crowded()


def test_a_crowded_worker_asks_the_client_it_answers_to_reconnect() -> None:
    clock, (a, _) = _settled(5, 3)

    async def page(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", page)])
    client = TestClient(KeepAliveLimitMiddleware(app, 50, draw=lambda: 0.5, load=a))
    assert client.get("/").headers.get("connection") == "close"
    assert a.values[a.base + 2] == 5.0  # the request counted in flight, and out again
    assert a._average(a.base, clock.now) == pytest.approx(4.0, rel=1e-5)  # and its client gone
    assert client.get("/").headers.get("connection") is None  # 4 against 3: keep it


def test_the_load_is_shared_with_a_forked_worker_and_freed_when_it_exits() -> None:
    """gunicorn.conf.py's hooks, as gunicorn calls them: slots for new workers in the
    master, the slot published in the worker after the fork, freed when the worker exits."""
    conf = runpy.run_path(str(Path(__file__).parents[1] / "gunicorn.conf.py"))
    server = SimpleNamespace(WORKERS={})
    workers = [SimpleNamespace(), SimpleNamespace()]
    for pid, worker in enumerate(workers):
        conf["pre_fork"](server, worker)
        server.WORKERS[pid] = worker
    assert [w.slot for w in workers] == [0, 1]
    buffer = memoryview(conf["_load"])
    here = WorkerLoad(buffer, workers[0].slot)
    ready = multiprocessing.get_context("fork").Event()
    done = multiprocessing.get_context("fork").Event()

    def worker_process() -> None:
        conf["post_fork"](server, workers[1])
        _hold(connections.shared, 4)
        ready.set()
        done.wait(10)

    child = multiprocessing.get_context("fork").Process(target=worker_process)
    child.start()
    try:
        assert ready.wait(10)
        values = buffer.cast("B").cast("d")
        assert values[1 * SLOT_FIELDS + 2] == 4.0  # the child's count, seen by the parent
        assert not here.crowded()
    finally:
        done.set()
        child.join(10)
    conf["child_exit"](server, workers[1])
    assert values[1 * SLOT_FIELDS + 2] == FREE
    del server.WORKERS[1]
    replacement = SimpleNamespace()
    conf["pre_fork"](server, replacement)
    assert replacement.slot == 1  # a replacement takes the freed slot
