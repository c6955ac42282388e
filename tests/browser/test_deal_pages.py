"""Browse from the deal list to the CoreWeave deal page in headless Chromium."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_list_to_deal_page(page) -> None:
    page.goto("/")
    row = page.locator("table.deals tbody tr", has_text="CoreWeave – Core Scientific")
    assert row.count() == 1
    assert "$9.0B" in row.inner_text()
    screenshot(page, "deal-list")

    row.get_by_role("link", name="CoreWeave – Core Scientific").click()
    page.wait_for_url("**/deals/coreweave-core-scientific")
    assert page.evaluate("typeof htmx") == "object", "htmx loaded from static/vendor"
    ratio = page.locator('#headline-terms [data-key="exchange_ratio"] .figure')
    assert ratio.inner_text() == "0.1235x"
    implied = page.locator('#headline-terms [data-key="implied_price"] .figure')
    assert implied.inner_text() == "$20.40"
    premium = page.locator('#headline-terms [data-key="premium"] .figure')
    assert premium.inner_text() == "66.0%"
    screenshot(page, "deal-page")

    valuation = page.locator("#valuation")
    assert valuation.get_by_role("heading", name="Valuation").is_visible()
    assert valuation.locator('[data-key="implied_price"] .figure').inner_text() == "$20.40"
    assert valuation.locator('[data-key="premium"] .figure').inner_text() == "65.9%"
    assert valuation.locator('[data-key="offer_equity_value"] .figure').inner_text() == "$9.0B"
    assert valuation.locator("table.dcf").count() == 2
    assert valuation.locator("table.sensitivity td.base").count() == 3  # three grids
    assert valuation.locator("#ratio-price-grid td.base").inner_text() == "65.9%"
    assert valuation.locator("#contribution tr.total td").first.inner_text() == "12.5%"
    for chart in ("#payoff-chart", "#histogram-chart", "#football-field-chart"):
        svg = valuation.locator(f"{chart} svg")
        assert svg.is_visible()
        assert svg.bounding_box()["width"] > 300
    assert "offer $20.40" in valuation.locator("#football-field-chart").inner_text()
    valuation.screenshot(path=str(screenshot(page, "deal-page").with_name("valuation.png")))

    page.locator('#headline-terms [data-key="implied_price"] a.cite', has_text="S4").click()
    assert page.url.endswith("#source-S4")
    assert page.locator("#source-S4 a").get_attribute("href").startswith("https://")


def test_unknown_deal_page(page, console_errors: list[str]) -> None:
    response = page.goto("/deals/not-a-deal")
    assert response is not None and response.status == 404
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 404 (Not Found)"
    ]
    console_errors.clear()
    assert page.get_by_role("heading", name="Not found").is_visible()
    page.get_by_role("link", name="Back to all deals").click()
    page.wait_for_url("**/")


def test_search_as_you_type_keeps_the_state_in_the_url(page) -> None:
    page.goto("/")
    page.evaluate("window.__notReloaded = true")
    search = page.get_by_label("Search")
    search.press_sequentially("Nvidia", delay=30)
    page.wait_for_url("**/?*q=Nvidia*")
    assert page.locator("#deal-results").inner_text().startswith("0 deals")
    search.fill("")
    search.press_sequentially("Core", delay=30)
    page.wait_for_url("**/?*q=Core*")
    row = page.locator("table.deals tbody tr")
    assert row.count() == 1 and "CoreWeave – Core Scientific" in row.inner_text()
    assert page.evaluate("window.__notReloaded") is True, "the results swapped in place"
    screenshot(page, "deal-list-search")
    page.go_back()
    page.wait_for_url("**/?*q=Nvidia*")


def test_new_deal_form_shows_errors_in_place_then_creates(page, console_errors) -> None:
    page.goto("/")
    page.get_by_role("link", name="New deal").click()
    page.wait_for_url("**/deals/new")
    page.locator("#f-name").fill("Acme – Widgets")
    page.locator("#f-consideration").fill("All cash: $10.00 per share")
    page.locator("#f-acquirer-name").fill("Acme Corp")
    page.locator("#f-target-name").fill("Widgets Inc")
    page.get_by_role("button", name="Create deal").click()  # no announcement date yet
    error = page.locator("#e-announced")
    error.wait_for(state="visible")
    assert page.locator("#f-target-name").input_value() == "Widgets Inc", "input kept"
    # The summary takes the focus (a screen reader reads it) and links to the field.
    expect(page.locator("#form-errors")).to_be_focused()
    page.locator("#form-errors").get_by_role("link", name="Announced").click()
    assert page.evaluate("location.hash") == "#f-announced"
    screenshot(page, "new-deal-error")
    assert console_errors == [  # the 422 that carried the message; expected
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    console_errors.clear()
    page.locator("#f-announced").fill("2026-01-15")
    page.get_by_role("button", name="Create deal").click()
    page.wait_for_url("**/deals/acme-widgets")
    assert page.get_by_role("heading", name="Acme – Widgets").is_visible()
