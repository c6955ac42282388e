"""A real server and headless Chromium (Debian's), for tests that use the pages as a person does."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.server import DEMO_PASSWORD, seeded_server
from tests.conftest import IN_CI

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app on a loopback port with a migrated, seeded SQLite database."""
    with seeded_server(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'dealbook.db'}") as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium`"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


@pytest.fixture
def console_errors() -> list[str]:
    """What the page logged as errors; a test that expects one (a 404) removes it."""
    return []


def log_in(tab, username: str, password: str = DEMO_PASSWORD) -> None:
    """Through the login form, as a person does (on the login page already shown, if any,
    so its `next` is kept)."""
    if "/login" not in tab.url:
        tab.goto("/login")
    tab.get_by_label("User name").fill(username)
    tab.get_by_label("Password").fill(password)
    tab.get_by_role("button", name="Log in").click()
    tab.wait_for_url(lambda url: "/login" not in url)


@pytest.fixture(scope="session")
def logins(browser, live_server: str) -> dict[str, dict]:
    """Each demo user's cookies after logging in once (contexts reuse them)."""
    states = {}
    for username in ("analyst", "viewer", "admin"):
        context = browser.new_context(base_url=live_server)
        log_in(context.new_page(), username)
        states[username] = context.storage_state()
        context.close()
    return states


def _tab(browser, live_server: str, console_errors: list[str], state: dict | None):
    context = browser.new_context(
        base_url=live_server, viewport={"width": 1280, "height": 900}, storage_state=state
    )
    tab = context.new_page()
    tab.on("pageerror", lambda exc: console_errors.append(str(exc)))
    tab.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    return context, tab


@pytest.fixture
def page(browser, live_server: str, console_errors: list[str], logins) -> Iterator[object]:
    """A tab logged in as an analyst on the seeded deal's team."""
    context, tab = _tab(browser, live_server, console_errors, logins["analyst"])
    yield tab
    context.close()
    assert console_errors == [], f"the page logged errors: {console_errors}"


@pytest.fixture
def viewer_page(browser, live_server: str, console_errors: list[str], logins) -> Iterator[object]:
    context, tab = _tab(browser, live_server, console_errors, logins["viewer"])
    yield tab
    context.close()
    assert console_errors == [], f"the page logged errors: {console_errors}"


@pytest.fixture
def anonymous_page(browser, live_server: str, console_errors: list[str]) -> Iterator[object]:
    context, tab = _tab(browser, live_server, console_errors, None)
    yield tab
    context.close()
    assert console_errors == [], f"the page logged errors: {console_errors}"


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
