"""Regression tests for the bugs the proofs found, one each, on both databases.

schemathesis found the undocumented statuses, the lost `Allow` header, the bounds missing
from the OpenAPI document, `true` taken as a number, the null ratios, the naive SQLite
times and PostgreSQL's NUL error; probing its findings found the integer overflows, NUL in
URLs and the source address longer than its column.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.proofs.test_calc_properties import DCF, EXCHANGE

SLUG = "coreweave-core-scientific"
DEAL = {
    "name": "Acme – Widgets",
    "acquirer": {"name": "Acme Corp"},
    "target": {"name": "Widgets Inc"},
    "announced": "2026-01-15",
    "consideration": "All cash",
    "sources": [{"key": "S1", "title": "Press release", "url": "https://example.com/pr"}],
}


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_every_api_operation_documents_its_auth_errors(spec: dict[str, Any]) -> None:
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}
    for method, path, operation in _operations(spec):
        for code in ("401", "403"):
            assert operation["responses"][code]["content"] == error, (method, path, code)
        if "{slug}" in path:
            assert "404" in operation["responses"], (method, path)
        if "requestBody" in operation:
            assert {"400", "413", "422"} <= set(operation["responses"]), (method, path)


def test_only_the_token_api_is_in_the_openapi_document(spec: dict[str, Any]) -> None:
    """The report downloads are pages (cookie login); listing them offered token clients a
    bearer login they do not take."""
    assert all(path.startswith("/api/v1/") for path in spec["paths"])


def test_numeric_bounds_use_json_schema_keywords(spec: dict[str, Any]) -> None:
    dcf = spec["components"]["schemas"]["DCFRequest"]["properties"]
    assert dcf["wacc"] | {"title": ""} == {
        "type": "number",
        "title": "",
        "minimum": -1.0,
        "maximum": 1.0,
        "exclusiveMinimum": 0,
        "exclusiveMaximum": 1,
    }
    assert dcf["tax_rate"]["minimum"] == 0 and dcf["tax_rate"]["exclusiveMaximum"] == 1
    assert dcf["ebit_margin"]["anyOf"][0] == {"type": "number", "minimum": -1.0, "maximum": 1.0}
    raw = [key for key in ("gt", "ge", "lt", "le") if f'"{key}":' in str(spec).replace("'", '"')]
    assert raw == []


def test_a_405_names_every_method_of_the_path(client: TestClient) -> None:
    response = client.delete("/api/v1/deals")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["detail"][0]["msg"] == "Method Not Allowed"
    assert client.put("/api/v1/deals/x/assumptions").headers["allow"] == "GET, POST"


@pytest.mark.parametrize(
    ("endpoint", "body", "field"),
    [
        ("dcf", DCF | {"mid_year": 1}, "mid_year"),
        ("dcf", DCF | {"base_revenue": True}, "base_revenue"),
        ("dcf", DCF | {"wacc": "0.1"}, "wacc"),
        ("exchange", EXCHANGE | {"cash_per_share": False}, "cash_per_share"),
        ("exchange", EXCHANGE | {"acquirer_price": [True]}, "acquirer_price"),
    ],
)
def test_the_calculator_takes_json_numbers_only(
    client: TestClient, endpoint: str, body: dict, field: str
) -> None:
    response = client.post(f"/api/v1/calc/{endpoint}", json=body)
    assert response.status_code == 422, response.text
    assert any(e["loc"][:2] == ["body", field] for e in response.json()["detail"])


def test_undefined_ratios_are_null_as_documented(client: TestClient, spec: dict) -> None:
    zero = DCF | {"ebit_margin": 0.0, "da_pct_revenue": 0.0, "capex_pct_revenue": 0.0}
    zero |= {"nwc_pct_revenue": 0.0, "net_debt": 0.0}
    body = client.post("/api/v1/calc/dcf", json=zero).json()
    assert body["enterprise_value"] == 0.0
    assert body["tv_share_of_ev"] is None and body["implied_exit_multiple"] is None
    schema = spec["components"]["schemas"]["DCFResponse"]["properties"]["tv_share_of_ev"]
    assert {"type": "null"} in schema["anyOf"]


@pytest.mark.parametrize(
    ("endpoint", "body"),
    [
        ("dcf", DCF | {"diluted_shares": 5e-324}),
        ("dcf", DCF | {"base_revenue": 1e308, "revenue_growth": [3.0, 3.0, 3.0]}),
        ("exchange", EXCHANGE | {"target_unaffected_price": 5e-324}),
    ],
)
def test_overflowing_inputs_are_a_422(client: TestClient, endpoint: str, body: dict) -> None:
    response = client.post(f"/api/v1/calc/{endpoint}", json=body)
    assert response.status_code == 422, response.text
    [problem] = response.json()["detail"]
    assert problem["loc"] == ["body"] and "too large to compute" in problem["msg"]


def test_api_times_carry_their_offset(client: TestClient, seeded: Session) -> None:
    """SQLite hands back naive times; an RFC 3339 date-time needs its offset."""
    [version] = client.get(f"/api/v1/deals/{SLUG}/assumptions").json()
    assert version["created_at"].endswith(("Z", "+00:00"))
    run = client.post(f"/api/v1/deals/{SLUG}/valuations?seed=1").json()
    assert run["created_at"].endswith(("Z", "+00:00"))


@pytest.mark.parametrize("seed", ["-1", str(2**63), "1" * 30])
def test_seeds_outside_the_column_are_a_422(client: TestClient, seeded: Session, seed: str) -> None:
    response = client.post(f"/api/v1/deals/{SLUG}/valuations?seed={seed}")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "seed"]


@pytest.mark.parametrize(
    "url",
    [
        f"/deals/{SLUG}/versions/{2**31}/report.pdf",
        f"/deals/{SLUG}/versions/{10**20}/model.xlsx",
        f"/deals/{SLUG}/versions/compare?a=1&b={10**20}",
    ],
)
def test_version_numbers_outside_the_column_are_a_422(
    client: TestClient, seeded: Session, url: str
) -> None:
    assert client.get(url).status_code == 422


def test_nul_in_a_new_deal_is_a_422_naming_the_field(client: TestClient) -> None:
    """PostgreSQL cannot store NUL; it was a 500 there and stored on SQLite."""
    body = copy.deepcopy(DEAL)
    body["name"] = "Acme\x00Widgets"
    body["acquirer"]["description"] = "a\x00b"
    response = client.post("/api/v1/deals", json=body)
    assert response.status_code == 422, response.text
    places = [e["loc"] for e in response.json()["detail"]]
    assert ["body", "name"] in places and ["body", "acquirer", "description"] in places


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/deals/a%00b",
        "/api/v1/deals/a%00b/assumptions",
        "/deals/a%00b",
        "/?q=%00",
        "/admin/audit?actor=%00",
    ],
)
def test_nul_in_a_url_is_a_422(client: TestClient, seeded: Session, url: str) -> None:
    """Caught where it meets the database, for every route at once."""
    response = client.get(url)
    assert response.status_code == 422
    assert "NUL" in response.text


def test_nul_in_a_version_note_is_a_422(client: TestClient, seeded: Session) -> None:
    template = client.get(f"/deals/{SLUG}/assumptions.json").content
    preview = client.post(
        f"/api/v1/deals/{SLUG}/assumptions", files={"file": ("a.json", template, "text/json")}
    ).json()
    response = client.post(
        f"/api/v1/deals/{SLUG}/assumptions/confirm",
        json={"token": preview["token"], "note": "from\x00here"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "note"]


def test_nul_in_an_uploaded_file_is_placed(client: TestClient, seeded: Session) -> None:
    template = client.get(f"/deals/{SLUG}/assumptions.json").text
    hostile = template.replace('"CoreWeave, Inc."', '"Core\\u0000Weave"', 1)
    response = client.post(
        f"/api/v1/deals/{SLUG}/assumptions", files={"file": ("a.json", hostile, "text/json")}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["$.acquirer.name"]


def test_a_source_address_longer_than_its_column_is_a_422(client: TestClient) -> None:
    body = copy.deepcopy(DEAL)
    body["sources"][0]["url"] = "https://example.com/" + "a" * 1000
    response = client.post("/api/v1/deals", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "sources", 0, "url"]
