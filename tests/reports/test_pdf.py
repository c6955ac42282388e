"""The valuation PDF: its text holds the deal's figures as the page shows them, its contents
page points at the right pages, both paper sizes work, and the same version gives the same
document. Pages are rendered to PNG under test-artifacts/ for a look."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.engine import ENGINE_VERSION
from tests.conftest import IN_CI

URL = "/deals/coreweave-core-scientific"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "report"
SECTIONS = (
    "Executive summary",
    "Terms and exchange ratio",
    "Standalone valuations",
    "Synergies",
    "Pro forma ownership, contribution and accretion",
    "Sensitivities",
    "Monte Carlo",
    "Football field",
    "Appendix A: assumptions",
    "Appendix B: methodology",
    "Appendix C: sources",
)


@pytest.fixture(scope="module", autouse=True)
def poppler() -> None:
    if shutil.which("pdftotext") is None:
        message = "Poppler's pdftotext is missing: apt-get install -y poppler-utils"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _tool(*args: str) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def _pages_text(path: Path) -> list[str]:
    return _tool("pdftotext", "-layout", str(path), "-").split("\f")


def _save(tmp_path: Path, body: bytes, name: str) -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_report_holds_the_figures_the_page_shows(
    client: TestClient, seeded: Session, tmp_path: Path
) -> None:
    response = client.get(f"{URL}/report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert (
        "coreweave-core-scientific-valuation-v1-a4.pdf" in response.headers["content-disposition"]
    )
    path = _save(tmp_path, response.content, "report.pdf")
    info = _tool("pdfinfo", str(path))
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages >= 8
    assert "(A4)" in info

    text = _pages_text(path)
    whole = " ".join(" ".join(text).split())
    page = " ".join(client.get(URL).text.split())
    # The headline figures, formatted exactly as the deal page formats them.
    for figure in (
        "$20.40",
        "65.9%",
        "0.1235x",
        "$9.0B",
        "$6.6B",
        "12.5%",
        "9.4%",
        "$10.47",
        "$99.43",
        "$7.3M",
        "$3.6B",
        "39.7M",
        "54.5M",
    ):
        assert figure in whole and figure in page, figure
    # The cover names what the figures came from.
    version_hash = re.search(r"#([0-9a-f]{12})", page).group(1)
    assert version_hash in whole and ENGINE_VERSION in whole and "20250707" in whole
    # Every input is listed with where it came from, and the methodology is the docs' text.
    assert "operating.ebit_margin" in whole and "cost_of_capital.risk_free" in whole
    assert "Diluted CoreWeave shares implied by the proxy" in whole
    assert "Worked example" in whole and "treasury stock method" in whole
    assert "https://www.stocktitan.net/sec-filings/CORZ/defm14a" in whole

    # The contents page's numbers point at the pages where each section starts.
    contents = next(t for t in text if "Contents" in t)
    for title in SECTIONS:
        match = re.search(re.escape(title) + r"[ .]*?(\d+)\s*$", contents, re.MULTILINE)
        assert match, title
        number = int(match.group(1))
        assert title in text[number - 1], f"{title} is not on page {number}"
    # Running header and footer on every page after the cover.
    for number, page_text in enumerate(text[1:pages], start=2):
        assert f"Page {number} of {pages}" in page_text
        assert "Assumptions v1" in page_text

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", "70", "-png", "-f", "1", "-l", "6", str(path), str(ARTIFACTS / "a4")],
        check=True,
    )


def test_letter_paper_and_an_older_version(client: TestClient, seeded: Session, tmp_path) -> None:
    letter = client.get(f"{URL}/report.pdf", params={"paper": "letter", "download_token": "abc12"})
    assert letter.status_code == 200 and letter.cookies.get("download_token") == "abc12"
    info = _tool("pdfinfo", str(_save(tmp_path, letter.content, "letter.pdf")))
    assert "612 x 792 pts (letter)" in info
    assert client.get(f"{URL}/report.pdf", params={"paper": "a3"}).status_code == 422
    assert client.get(f"{URL}/versions/7/report.pdf").status_code == 404


def test_the_same_version_gives_the_same_document(client: TestClient, seeded: Session) -> None:
    first = client.get(f"{URL}/versions/1/report.pdf").content
    second = client.get(f"{URL}/versions/1/report.pdf").content
    assert first == second
