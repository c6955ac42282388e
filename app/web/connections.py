"""Keep-alive connections end after about N requests each (like nginx's keepalive_requests).

The workers share one listening socket. A client that opens its connections in a burst (a
load balancer's pool, wrk) can have every one of them accepted by one worker's event loop in
a single wake-up, and keep-alive then pins them there: the other worker idles. Measured with
8 connections on 2 workers: all 8 on one, 41 recomputes/s instead of over 100. Asking a
client to reconnect now and then hands the new connection to whichever worker accepts it
first, which is the one with time to spare, so the load evens out within seconds.

Random reconnects still leave the split to chance: 8 connections fall 5 + 3 or worse more
often than 4 + 4, and the crowded worker's requests wait longest (its median recompute took
65-114 ms while the other's took 43-52 ms). So the workers also share their load: each
publishes a smoothed count of its requests in flight (`WorkerLoad`, in memory the gunicorn
master maps before forking), and a worker with two or more in flight above its least busy
sibling asks the client it is answering to reconnect. That is the least-outstanding-requests
rule of a good balancer. In alternating runs the recompute's p99 went from 222-265 ms to
149-170 ms.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLOSE = (b"connection", b"close")
FREE = -1.0
"""A slot no live worker holds."""
SLOT_FIELDS = 3
"""Per worker: smoothed in flight, when it was last brought up to date, in flight then."""
MARGIN = 1.5
"""How much busier than its least busy sibling a worker may be before it sheds a client."""
HALF_LIFE_S = 0.25
"""How fast the smoothed count forgets: long enough to ride out the gaps between a client's
requests, short enough to see a move of one connection within a second."""


def _floats(buffer: memoryview) -> memoryview:
    """The shared bytes as float64 values (any memoryview of them, whatever its format)."""
    return buffer.cast("B").cast("d")


class WorkerLoad:
    """Each worker's requests in flight, smoothed over time, in memory its siblings share.

    One slot of float64 per worker: the time-weighted average of its in-flight count, the
    time of its last change and the count since then; a reader brings another worker's
    average up to now itself, so a worker that has gone quiet reads as quiet. Only the event
    loop of a slot's own worker writes it (no lock); the master frees a dead worker's slot.
    """

    def __init__(
        self, buffer: memoryview, slot: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.values = _floats(buffer)
        self.slot = slot
        self.clock = clock
        self.base = slot * SLOT_FIELDS
        self.values[self.base] = 0.0
        self.values[self.base + 1] = clock()
        self.values[self.base + 2] = 0.0

    @staticmethod
    def free_all(buffer: memoryview) -> None:
        values = _floats(buffer)
        for base in range(0, len(values), SLOT_FIELDS):
            values[base + 2] = FREE

    @staticmethod
    def free(buffer: memoryview, slot: int) -> None:
        _floats(buffer)[slot * SLOT_FIELDS + 2] = FREE

    def _average(self, base: int, now: float) -> float:
        average, since, current = self.values[base : base + SLOT_FIELDS]
        # The count held at `current` since `since`: the average decays towards it.
        return current + (average - current) * math.exp2(-max(now - since, 0.0) / HALF_LIFE_S)

    def _change(self, step: int, gone: float = 0.0) -> None:
        """Bring the average up to now, less `gone` clients, then count `step` in or out."""
        now = self.clock()
        base = self.base
        self.values[base] = self._average(base, now) - gone
        self.values[base + 1] = now
        self.values[base + 2] += step

    def enter(self) -> None:
        self._change(+1)

    def leave(self) -> None:
        self._change(-1)

    def crowded(self) -> bool:
        """Two requests or more in flight, on average, above the least busy sibling (one more
        is as even as an odd number of clients can be)."""
        now = self.clock()
        own = self._average(self.base, now)
        others = [
            self._average(base, now)
            for base in range(0, len(self.values), SLOT_FIELDS)
            if base != self.base and self.values[base + 2] != FREE
        ]
        return bool(others) and own > min(others) + MARGIN

    def shed(self) -> None:
        """One client is leaving: count it gone now, so the next response does not send a
        second one after it before the averages have moved."""
        self._change(0, gone=1.0)


shared: WorkerLoad | None = None
"""This worker's load slot, set by gunicorn's post_fork hook (None: a single process)."""


def share_load(buffer: memoryview, slot: int) -> None:
    """Called in a new worker, before the app is built: publish this worker's load."""
    global shared
    shared = WorkerLoad(buffer, slot)


class KeepAliveLimitMiddleware:
    """Each response asks the client to close the connection with probability 1/`requests`,
    and always while this worker is crowded (`load`, when the workers share theirs).

    Random rather than counted: nothing to keep per connection, and nothing to forget when a
    client goes away. `requests` 0 turns both off.
    """

    def __init__(
        self,
        app: ASGIApp,
        requests: int,
        draw: Callable[[], float] = random.random,
        load: WorkerLoad | None = None,
    ) -> None:
        self.app = app
        self.requests = requests
        self.draw = draw
        self.load = load

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.requests <= 0:
            await self.app(scope, receive, send)
            return
        load = self.load
        by_chance = self.draw() * self.requests < 1
        if load is None and not by_chance:
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start" and (
                by_chance or (load is not None and load.crowded())
            ):
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"connection" for name, _ in headers):
                    headers.append(CLOSE)
                    if load is not None and not by_chance:
                        load.shed()
                message = {**message, "headers": headers}
            await send(message)

        if load is None:
            await self.app(scope, receive, closing)
            return
        load.enter()
        try:
            await self.app(scope, receive, closing)
        finally:
            load.leave()
