"""Download the assumptions, edit the file, upload it, see the preview, confirm: in Chromium."""

import json

import pytest

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

    page.get_by_label("Choose or drop a JSON file").set_input_files(str(bad))
    page.get_by_role("button", name="Preview changes").click()
    page.locator(".problems").wait_for()
    assert "$.surprise" in page.locator(".problems").inner_text()
    assert console_errors == [
        "Failed to load resource: the server responded with a status of 422 (Unprocessable Entity)"
    ]
    console_errors.clear()

    page.get_by_label("Choose or drop a JSON file").set_input_files(str(good))
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
