"""Download the assumptions, edit the file, upload it, see the preview, confirm: in Chromium.

JSON through the file input on the versions page; an XLSX template edited in openpyxl and
dropped onto the deal page's upload card (static/js/upload.js), then found in the history
with its diff."""

import base64
import io
import json
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import screenshot

pytestmark = pytest.mark.browser


def test_upload_edited_file_preview_and_confirm(page, console_errors, tmp_path) -> None:
    page.goto("/deals/coreweave-core-scientific/versions")
    # The browser tests share one server, so count from whatever version is current now.
    latest = int(page.locator("table.versions tbody tr").first.get_attribute("data-version"))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the current version (JSON)").click()
    edited = json.loads(download.value.path().read_text())
    edited["target"]["operating"]["ebit_margin"][4] = 0.45
    good = tmp_path / "edited.json"
    good.write_text(json.dumps(edited))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(edited | {"currency": "USD", "surprise": 1}))

    page.get_by_label("Choose or drop an assumptions file (JSON, CSV or XLSX)").set_input_files(
        str(bad)
    )
    page.get_by_role("button", name="Preview changes").click()
    page.locator(".problems").wait_for()
    assert "$.surprise" in page.locator(".problems").inner_text()
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    console_errors.clear()

    page.get_by_label("Choose or drop an assumptions file (JSON, CSV or XLSX)").set_input_files(
        str(good)
    )
    page.get_by_role("button", name="Preview changes").click()
    page.locator("#upload-changes").wait_for()
    rows = page.locator("#upload-changes tbody tr")
    assert rows.count() == 1 and "target.operating.ebit_margin.4" in rows.inner_text()
    screenshot(page, "upload-preview")
    page.get_by_label("Note").fill("Margin 45% in 2030")
    page.get_by_role("button", name="Save as a new version").click()
    page.wait_for_url("**/deals/coreweave-core-scientific")
    assert f"Current version v{latest + 1}" in page.locator("#assumptions").inner_text()
    page.goto("/deals/coreweave-core-scientific/versions")
    assert "Margin 45% in 2030" in page.locator("table.versions").inner_text()


DROP = """([name, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], name));
  const card = document.querySelector("[data-upload-drop]");
  const init = {dataTransfer: files, bubbles: true, cancelable: true};
  card.dispatchEvent(new DragEvent("dragover", init));
  card.dispatchEvent(new DragEvent("drop", init));
}"""


def test_drop_an_edited_xlsx_template_on_the_deal_page(page, console_errors) -> None:
    page.goto("/deals/coreweave-core-scientific")
    current = page.locator("#assumptions").inner_text()
    latest = int(re.search(r"Current version v(\d+)", current).group(1))
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the current version (XLSX)").click()
    assert download.value.suggested_filename.endswith(f"-v{latest}.xlsx")
    wb = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    ws = wb["deal_terms"]
    row = next(c.row for c in ws["A"] if c.value == "exchange_ratio")
    ratio = round(ws[f"C{row}"].value + 0.01, 4)
    ws[f"C{row}"] = ratio
    out = io.BytesIO()
    wb.save(out)

    page.evaluate(DROP, ["edited.xlsx", base64.b64encode(out.getvalue()).decode()])
    page.locator("#upload-changes").wait_for()
    rows = page.locator("#upload-changes tbody tr")
    assert (
        rows.count() == 1 and rows.first.get_attribute("data-path") == "deal_terms.exchange_ratio"
    )
    screenshot(page, "upload-xlsx-preview")
    result = page.locator("#upload-result")  # the deal page's editor has a Note field too
    result.get_by_label("Note").fill("Ratio from the workbook")
    result.get_by_role("button", name="Save as a new version").click()
    # The page reloads itself (HX-Redirect to the same address), showing the new version.
    expect(page.locator("#assumptions")).to_contain_text(f"Current version v{latest + 1}")

    page.goto("/deals/coreweave-core-scientific/versions")
    entry = page.locator(f'table.versions tr[data-version="{latest + 1}"]')
    assert "Ratio from the workbook" in entry.inner_text()
    entry.get_by_role("link", name="what changed").click()
    page.locator('tr[data-path="deal_terms.exchange_ratio"]').wait_for()
    assert page.locator("table.compare tbody tr[data-path]").count() == 1
