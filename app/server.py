"""Serve the app from a background thread on a free loopback port (browser tests, benchmarks).

The database is migrated and seeded, with one user of each role on the seeded deal's team
(password `DEMO_PASSWORD`), so a test or benchmark can log in as a person would.
"""

import http.cookiejar
import re
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import uvicorn

from app.auth import service as accounts
from app.auth.models import Role
from app.db import make_engine, make_session_factory
from app.deals.service import get_deal
from app.main import create_app
from app.migrate import upgrade
from app.seed import REFERENCE_DEALS, seed
from app.settings import Settings

DEMO_PASSWORD = "correct horse battery staple"
DEMO_USERS = {"admin": Role.ADMIN, "analyst": Role.ANALYST, "viewer": Role.VIEWER}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(database_url: str, users: Mapping[str, Role] = DEMO_USERS) -> None:
    """Migrate, seed, and add the users (the non-admins on every reference deal's team)."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session, session.begin():
        seed(session)
        existing = {u.username for u in accounts.list_users(session)}
        for name, role in users.items():
            if name in existing:
                continue
            user = accounts.create_user(session, name, DEMO_PASSWORD, role, fast_hash=True)
            if role is not Role.ADMIN:
                for slug in REFERENCE_DEALS:
                    accounts.add_member(session, get_deal(session, slug, viewer=None).id, user)
    engine.dispose()


@contextmanager
def seeded_server(
    database_url: str, users: Mapping[str, Role] = DEMO_USERS, **settings: Any
) -> Iterator[str]:
    """Prepare `database_url`, serve the app on it, and yield the base URL (`settings`
    override the app's, e.g. a pool timeout)."""
    prepare(database_url, users)
    config = Settings(
        database_url=database_url, fast_password_hashing=True, log_requests=False, **settings
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=free_port(), log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)


def logged_in(base: str, username: str, password: str = DEMO_PASSWORD):
    """An opener (urllib) logged in through the login form, and the CSRF token its pages use."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login").read().decode()
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    form = {"csrf_token": csrf, "username": username, "password": password, "next": "/"}
    request = urllib.request.Request(base + "/login", data=urllib.parse.urlencode(form).encode())
    request.add_header("Origin", base)
    opener.open(request).read()
    home = opener.open(base + "/").read().decode()
    return opener, re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
