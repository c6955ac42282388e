"""CSV and XLSX through the app: downloads, unchanged templates, edited files previewed and
confirmed, the page route, and the upload card on both pages. Both databases."""

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assumptions.models import AssumptionSet

DEAL = "/deals/coreweave-core-scientific"
API = "/api/v1/deals/coreweave-core-scientific/assumptions"
MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _versions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AssumptionSet))


def _download(client: TestClient, kind: str) -> bytes:
    response = client.get(f"{DEAL}/assumptions.{kind}")
    assert response.status_code == 200
    return response.content


def _upload(client: TestClient, data: bytes, name: str):
    return client.post(API, files={"file": (name, data, "application/octet-stream")})


@pytest.mark.parametrize("kind", ["json", "csv", "xlsx"])
def test_downloads_are_templates(client: TestClient, seeded: Session, kind: str) -> None:
    response = client.get(f"{DEAL}/assumptions.{kind}")
    assert response.status_code == 200
    assert response.headers["content-type"] == MEDIA[kind]
    disposition = response.headers["content-disposition"]
    assert disposition == (
        f'attachment; filename="coreweave-core-scientific-assumptions-v1.{kind}"'
    )
    preview = _upload(client, response.content, f"mine.{kind}").json()
    assert preview["no_changes"] is True and preview["changes"] == []


def test_unknown_download_kind_is_404(client: TestClient, seeded: Session) -> None:
    assert client.get(f"{DEAL}/assumptions.pdf").status_code == 404


def test_edited_csv_previews_one_change_and_confirms(client: TestClient, seeded: Session) -> None:
    rows = list(csv.reader(io.StringIO(_download(client, "csv").decode())))
    for row in rows:
        if row[:3] == ["target", "operating.ebit_margin", "2030"]:
            row[3] = "0.45"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    preview = _upload(client, out.getvalue().encode(), "edited.csv").json()
    assert preview["changes"] == [
        {"path": "target.operating.ebit_margin.4", "old": 0.42, "new": 0.45}
    ]
    assert _versions(seeded) == 1
    confirmed = client.post(API + "/confirm", json={"token": preview["token"], "note": "csv"})
    assert confirmed.status_code == 201 and confirmed.json()["version"] == 2
    stored = client.get(f"{DEAL}/assumptions.json").json()
    assert stored["target"]["operating"]["ebit_margin"][4] == 0.45


def test_edited_xlsx_previews_one_change_and_confirms(client: TestClient, seeded: Session) -> None:
    wb = load_workbook(io.BytesIO(_download(client, "xlsx")))
    ws = wb["deal_terms"]
    row = next(c.row for c in ws["A"] if c.value == "exchange_ratio")
    ws[f"C{row}"] = 0.15
    out = io.BytesIO()
    wb.save(out)
    preview = _upload(client, out.getvalue(), "edited.xlsx").json()
    assert preview["changes"] == [{"path": "deal_terms.exchange_ratio", "old": 0.1235, "new": 0.15}]
    confirmed = client.post(API + "/confirm", json={"token": preview["token"]})
    assert confirmed.status_code == 201 and confirmed.json()["version"] == 2
    assert client.get(API).json()[0]["version"] == 2
    assert _versions(seeded) == 2


def test_problems_in_each_encoding_name_their_place(client: TestClient, seeded: Session) -> None:
    text = (
        _download(client, "csv")
        .decode()
        .replace(
            "target,operating.tax_rate,,0.21,fraction", "target,operating.tax_rate,,21%,fraction"
        )
    )
    line = 1 + text.splitlines().index("target,operating.tax_rate,,21%,fraction")
    response = _upload(client, text.encode(), "a.csv")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {
            "loc": [f"line {line} (target, operating.tax_rate)"],
            "msg": "'21%' looks like a percent; write rates as fractions (0.21)",
            "type": "upload_error",
        }
    ]
    wb = load_workbook(io.BytesIO(_download(client, "xlsx")))
    row = next(c.row for c in wb["target"]["A"] if c.value == "shares.basic")
    wb["target"][f"C{row}"] = 0
    wb["target"][f"F{row}"] = 5  # a year cell on a single value
    out = io.BytesIO()
    wb.save(out)
    response = _upload(client, out.getvalue(), "a.xlsx")
    assert response.status_code == 422
    assert [(p["loc"][0], p["msg"]) for p in response.json()["detail"]] == [
        (
            f"sheet target, cell F{row} (shares.basic, 2028)",
            "has a year, but shares.basic is one value: leave the year empty",
        ),
        (f"sheet target, cell C{row} (shares.basic)", "Input should be greater than 0"),
    ]
    assert _versions(seeded) == 1


def test_page_upload_takes_xlsx_and_shows_problems(
    client: TestClient, seeded: Session, token: str
) -> None:
    wb = load_workbook(io.BytesIO(_download(client, "xlsx")))
    row = next(c.row for c in wb["target"]["A"] if c.value == "operating.tax_rate")
    wb["target"][f"C{row}"] = 0.25
    out = io.BytesIO()
    wb.save(out)
    headers = {"X-CSRF-Token": token, "HX-Request": "true"}
    files = {"file": ("edited.xlsx", out.getvalue(), "application/octet-stream")}
    page = client.post(f"{DEAL}/upload", files=files, headers=headers)
    assert page.status_code == 200
    assert (
        'data-path="target.operating.tax_rate"' in page.text
        and "Save as a new version" in page.text
    )
    wb["target"][f"C{row}"] = "=0.2+0.05"
    out = io.BytesIO()
    wb.save(out)
    files = {"file": ("edited.xlsx", out.getvalue(), "application/octet-stream")}
    page = client.post(f"{DEAL}/upload", files=files, headers=headers)
    assert page.status_code == 422
    assert f"sheet target, cell C{row} (operating.tax_rate)" in page.text
    assert "no saved value" in page.text and _versions(seeded) == 1


@pytest.mark.parametrize("path", [DEAL, f"{DEAL}/versions"])
def test_both_pages_have_the_upload_card(client: TestClient, seeded: Session, path: str) -> None:
    html = client.get(path).text
    card = html[html.index('<section class="card upload"') :]
    card = card[: card.index("</section>")]
    assert "Choose or drop an assumptions file (JSON, CSV or XLSX)" in card
    assert 'accept=".json,.csv,.xlsx' in card and "data-upload-drop" in card
    for kind in ("xlsx", "csv", "json"):
        assert f'href="{DEAL}/assumptions.{kind}"' in card
    assert html.count('id="upload-result"') == 1
    script = re.search(r'src="(/static/js/upload\.js\?v=[0-9a-f]{12})"', html)
    assert script, "the upload script, by its versioned address"
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", html), "no inline scripts"
    assert not re.search(r"\son[a-z]+\s*=", html), "no inline event handlers"
    assert client.get(script.group(1)).status_code == 200
