"""The deal page's report exports in Chromium: the progress indicator shows while the PDF is
laid out and goes away once the file arrives (static/js/download.js), and the file is the
report of the version the page shows."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SLUG = "coreweave-core-scientific"


@pytest.mark.parametrize(("link", "paper"), [("PDF report (A4)", "a4"), ("US Letter", "letter")])
def test_pdf_export_shows_progress_until_the_file_arrives(page, link: str, paper: str) -> None:
    page.goto(f"/deals/{SLUG}")
    exports = page.locator("p.exports")
    shown = int(re.search(r"Export v(\d+)", exports.inner_text()).group(1))
    busy = page.locator("#export-busy")
    expect(busy).to_be_hidden()
    # Watched from inside the page: while a click that will end in a download is pending,
    # Playwright holds locator queries until the response arrives, by when the report (seconds
    # to lay out on a slow machine) is done and the indicator is on its way out.
    page.evaluate(WATCH_BUSY)
    with page.expect_download(timeout=60_000) as download:
        exports.get_by_role("link", name=link, exact=True).click(no_wait_after=True)
    expect(busy).to_be_hidden(timeout=10_000)  # the server's cookie ends the wait
    watched = page.evaluate("window.busyWatch")
    assert watched["onClick"] == "inline"  # shown at once
    assert watched["shownFor"] >= 300  # and kept up while the server laid the report out
    assert download.value.suggested_filename == f"{SLUG}-valuation-v{shown}-{paper}.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")


WATCH_BUSY = """() => {
  const busy = document.getElementById("export-busy");
  const shown = () => getComputedStyle(busy).display !== "none";
  window.busyWatch = {onClick: null, shownFor: 0};
  // Added after static/js/download.js's listener, so it runs once the indicator is switched on.
  document.addEventListener("click", () => {
    const started = Date.now();
    window.busyWatch.onClick = getComputedStyle(busy).display;
    const timer = setInterval(() => {
      if (shown()) window.busyWatch.shownFor = Date.now() - started;
      else clearInterval(timer);
    }, 50);
  });
}"""
