"""The XSS corpus typed into the new-deal form, then the deal's pages opened in Chromium:
nothing runs (no dialog), and the browser reports no CSP violation and no console error
(the `page` fixture checks the console)."""

from __future__ import annotations

import re

import pytest

from tests.proofs.test_xss import CORPUS, EVERYTHING, fit

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
"""


def test_the_corpus_runs_nowhere(page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.context.add_init_script(RECORD_VIOLATIONS)

    name = fit(200)
    page.goto("/deals/new")
    fields = {
        "#f-name": name,
        "#f-slug": "xss-corpus",
        "#f-announced": "2025-01-02",
        "#f-consideration": fit(300, 3),
        "#f-summary": EVERYTHING,
        "#f-acquirer-name": fit(200, 1),
        "#f-target-name": fit(200, 5),
        "#f-sources-0-key": "S1",
        "#f-sources-0-title": fit(300, 2),
        "#f-sources-0-url": "https://example.com/",
        "#f-facts-0-key": "premium",
        "#f-facts-0-label": fit(200, 4),
        "#f-facts-0-value": "0.3",
        "#f-facts-0-sources": "S1",
        "#f-facts-0-note": EVERYTHING,
    }
    for selector, value in fields.items():
        page.fill(selector, value)
    page.select_option('[id="f-facts.0.unit"]', "fraction")
    page.locator("#deal-form button[type=submit]").click()
    page.wait_for_url("**/deals/xss-corpus")

    for url in ("/deals/xss-corpus", "/", f"/?q={re.escape(CORPUS[0])}", "/deals/xss-corpus/edit"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert page.evaluate("window.__violations") == [], url
    page.goto("/deals/xss-corpus")
    assert page.locator("h1").inner_text() == name  # shown as text, literally
    assert dialogs == [], f"a payload ran: {dialogs}"
