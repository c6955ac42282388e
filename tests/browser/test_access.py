"""Accounts in Chromium: a viewer reads but cannot edit; a walk through every kind of page
trips no Content-Security-Policy and leaves nothing in web storage."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import log_in, screenshot

pytestmark = pytest.mark.browser

DEAL = "/deals/coreweave-core-scientific"
WATCH_CSP = (
    "window.__csp = [];"
    "document.addEventListener('securitypolicyviolation',"
    " e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));"
)


def test_a_viewer_reads_but_cannot_edit(anonymous_page, console_errors: list[str]) -> None:
    page = anonymous_page
    page.goto(DEAL)
    page.wait_for_url(re.compile(r"/login\?next="))  # the deal is behind a login
    log_in(page, "viewer")
    page.wait_for_url(f"**{DEAL}")
    expect(page.locator('#valuation [data-key="implied_price"] .figure')).to_have_text("$20.40")
    for control in ("#editor", "#upload", ".deal-actions", ".exports", "[data-save-version]"):
        assert page.locator(control).count() == 0, f"a viewer sees {control}"
    assert "analyst role" in page.locator("#assumptions").inner_text()
    screenshot(page, "viewer-deal-page")
    # Posting an edit anyway, with the page's own CSRF token, is refused.
    status = page.evaluate(
        """async () => {
            const headers = document.body.getAttribute('hx-headers:inherited');
            const token = JSON.parse(headers)['X-CSRF-Token'];
            const body = new URLSearchParams({csrf_token: token, note: 'sneaky'});
            const r = await fetch(location.pathname + '/versions', {method: 'POST', body,
                headers: {'X-CSRF-Token': token}});
            return r.status;
        }"""
    )
    assert status == 403
    page.goto(f"{DEAL}/edit")
    assert "cannot do this" in page.locator("main").inner_text()
    console_errors[:] = [e for e in console_errors if "403" not in e]  # the refusals, logged


def test_a_walk_through_the_app_trips_no_csp(browser, live_server, logins, tmp_path) -> None:
    context = browser.new_context(base_url=live_server, storage_state=logins["admin"])
    context.add_init_script(WATCH_CSP)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    violations: list[str] = []

    def visit(url: str) -> None:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        violations.extend(page.evaluate("window.__csp"))

    for url in (
        "/",
        "/?q=core",
        DEAL,
        f"{DEAL}/versions",
        f"{DEAL}/versions/compare?a=1&b=1",
        f"{DEAL}/edit",
        f"{DEAL}/team",
        "/deals/new",
        "/account",
        "/admin/users",
        "/admin/audit",
        "/docs",
    ):
        visit(url)
    visit(DEAL)  # and use it: a live recompute, a search as you type
    page.get_by_label("Exchange ratio").fill("0.14")
    expect(page.locator('#valuation [data-key="implied_price"] .figure')).to_have_text("$23.13")
    violations.extend(page.evaluate("window.__csp"))
    visit("/")
    page.get_by_label("Search").fill("core")
    expect(page.locator("#deal-results")).to_contain_text("CoreWeave")
    violations.extend(page.evaluate("window.__csp"))
    assert page.locator("#swagger-ui").count() == 0  # back on the list
    storage = page.evaluate("[localStorage.length, sessionStorage.length]")
    context.close()
    assert violations == [], violations
    assert storage == [0, 0], "deal data in web storage"
    assert errors == [], errors
