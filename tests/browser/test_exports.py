"""The deal page's report exports in Chromium: the progress indicator shows while the PDF is
laid out and goes away once the file arrives (static/js/download.js), and the file is the
report of the version the page shows."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS

pytestmark = pytest.mark.browser

SLUG = "coreweave-core-scientific"


@pytest.mark.parametrize(("link", "paper"), [("PDF report (A4)", "a4"), ("US Letter", "letter")])
def test_pdf_export_shows_progress_until_the_file_arrives(page, link: str, paper: str) -> None:
    page.goto(f"/deals/{SLUG}")
    exports = page.locator("p.exports")
    shown = int(re.search(r"Export v(\d+)", exports.inner_text()).group(1))
    busy = page.locator("#export-busy")
    expect(busy).to_be_hidden()
    with page.expect_download(timeout=60_000) as download:
        # no_wait_after: a click that starts a download would otherwise return only once the
        # response has begun, when the indicator is already on its way out.
        exports.get_by_role("link", name=link, exact=True).click(no_wait_after=True)
        expect(busy).to_be_visible()  # the report takes a second or two to lay out
        ARTIFACTS.mkdir(exist_ok=True)
        exports.screenshot(path=str(ARTIFACTS / f"export-{paper}-busy.png"))
    expect(busy).to_be_hidden(timeout=10_000)  # the server's cookie ends the wait
    assert download.value.suggested_filename == f"{SLUG}-valuation-v{shown}-{paper}.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")
