"""The deals JSON API, on both databases."""

import copy

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.deals.models import Company, Deal

NEW_DEAL = {
    "name": "Acme – Widgets",
    "acquirer": {"name": "Acme Corp", "ticker": "ACME"},
    "target": {"name": "Widgets Inc", "ticker": "WDGT"},
    "announced": "2026-01-15",
    "status": "announced",
    "consideration": "All cash: $10.00 per share",
    "sources": [{"key": "S1", "title": "Press release", "url": "https://example.com/pr"}],
    "facts": [
        {"key": "premium", "label": "Premium", "value": 0.3, "unit": "fraction", "sources": ["S1"]},
        {"key": "equity_value", "label": "Equity value", "value": 1.5e9, "unit": "usd"},
    ],
}


def test_list_has_the_reference_deal(client: TestClient, seeded: Session) -> None:
    response = client.get("/api/v1/deals")
    assert response.status_code == 200
    [deal] = response.json()
    assert deal["slug"] == "coreweave-core-scientific"
    assert deal["acquirer"]["name"] == "CoreWeave, Inc."
    assert deal["target"]["ticker"] == "CORZ"
    assert deal["announced"] == "2025-07-07"
    assert deal["status"] == "terminated"
    assert deal["equity_value"] == 9.0e9


def test_get_deal_has_facts_with_sources(client: TestClient, seeded: Session) -> None:
    body = client.get("/api/v1/deals/coreweave-core-scientific").json()
    facts = {f["key"]: f for f in body["facts"]}
    assert facts["exchange_ratio"]["value"] == 0.1235
    assert facts["implied_price"]["value"] == 20.40
    assert facts["premium_check"]["basis"] == "derived"
    assert set(facts["implied_price"]["sources"]) == {"S1", "S3", "S4"}
    sources = {s["key"]: s["url"] for s in body["sources"]}
    assert sources["S1"].startswith("https://particle.news/")


def test_unknown_deal_is_404_json(client: TestClient) -> None:
    response = client.get("/api/v1/deals/no-such-deal")
    assert response.status_code == 404
    assert response.json()["detail"][0]["loc"] == ["slug"]


def test_create_deal(client: TestClient, session: Session) -> None:
    response = client.post("/api/v1/deals", json=NEW_DEAL)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["slug"] == "acme-widgets"
    assert body["equity_value"] == 1.5e9
    assert client.get("/api/v1/deals/acme-widgets").status_code == 200
    # The company is reused, not duplicated, by a second deal with the same acquirer.
    second = copy.deepcopy(NEW_DEAL) | {"name": "Acme – Gadgets", "target": {"name": "Gadgets"}}
    assert client.post("/api/v1/deals", json=second).status_code == 201
    acme = select(func.count()).select_from(Company).where(Company.name == "Acme Corp")
    assert session.scalar(acme) == 1


def test_duplicate_slug_is_409_and_changes_nothing(client: TestClient, session: Session) -> None:
    assert client.post("/api/v1/deals", json=NEW_DEAL).status_code == 201
    response = client.post("/api/v1/deals", json=NEW_DEAL)
    assert response.status_code == 409
    assert response.json()["detail"][0]["loc"] == ["slug"]
    assert session.scalar(select(func.count()).select_from(Deal)) == 1


def _invalid(**changes: object) -> dict:
    body = copy.deepcopy(NEW_DEAL)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = body
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        node[leaf] = value
    return body


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        (_invalid(announced="15/01/2026"), "announced", "date"),
        (_invalid(status="maybe"), "status", "announced"),
        (_invalid(facts__0__value=30), "facts", "looks like a percent"),
        (_invalid(facts__0__sources=["S9"]), "body", "unknown source"),
        (_invalid(sources__0__url="not a url"), "sources", "URL"),
        (_invalid(target={"name": "Acme Corp"}), "body", "different companies"),
        (_invalid(name=""), "name", "at least 1"),
        (_invalid(slug="Bad Slug!"), "slug", "pattern"),
        (_invalid(surprise=1), "surprise", "Extra inputs"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, session: Session, body: dict, field: str, message: str
) -> None:
    response = client.post("/api/v1/deals", json=body)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(field in map(str, e["loc"]) and message in e["msg"] for e in errors), errors
    assert session.scalar(select(func.count()).select_from(Deal)) == 0


def test_nan_and_infinity_are_rejected(client: TestClient) -> None:
    raw = (
        '{"name": "X", "acquirer": {"name": "A"}, "target": {"name": "B"}, '
        '"announced": "2026-01-01", "consideration": "c", '
        '"facts": [{"key": "k", "label": "l", "value": NaN, "unit": "usd"}, '
        '{"key": "j", "label": "l", "value": 1e400, "unit": "usd"}]}'
    )
    response = client.post(
        "/api/v1/deals", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["detail"]]
    assert ["body", "facts", 0, "value"] in locs
    assert ["body", "facts", 1, "value"] in locs


def test_openapi_documents_the_deals_api(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"get", "post"} <= set(spec["paths"]["/api/v1/deals"])
    assert "/api/v1/deals/{slug}" in spec["paths"]
    assert client.get("/docs").status_code == 200


def test_duplicate_fact_keys_are_422(client: TestClient) -> None:
    body = copy.deepcopy(NEW_DEAL)
    body["facts"].append(dict(body["facts"][0]))
    response = client.post("/api/v1/deals", json=body)
    assert response.status_code == 422
    assert "duplicate keys: premium" in response.text
