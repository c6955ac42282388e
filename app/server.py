"""Serve the app from a background thread on a free loopback port (browser tests, benchmarks)."""

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from app.db import make_engine, make_session_factory
from app.main import create_app
from app.migrate import upgrade
from app.seed import seed
from app.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def seeded_server(database_url: str) -> Iterator[str]:
    """Migrate and seed `database_url`, serve the app on it, and yield the base URL."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session, session.begin():
        seed(session)
    engine.dispose()
    config = uvicorn.Config(
        create_app(Settings(database_url=database_url)),
        host="127.0.0.1",
        port=_free_port(),
        log_level="warning",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
