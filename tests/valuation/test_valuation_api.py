"""Stored valuation runs over JSON, on both databases."""

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.deals.test_api import NEW_DEAL


def test_latest_run_of_the_seeded_deal(client: TestClient, seeded: Session) -> None:
    response = client.get("/api/v1/deals/coreweave-core-scientific/valuation")
    assert response.status_code == 200
    body = response.json()
    assert body["assumption_version"] == 1
    assert body["seed"] == 20250707
    assert round(body["results"]["exchange"]["implied_price"], 2) == 20.40


def test_posting_values_again_with_identical_numbers(client: TestClient, seeded: Session) -> None:
    first = client.get("/api/v1/deals/coreweave-core-scientific/valuation").json()
    second = client.post("/api/v1/deals/coreweave-core-scientific/valuations")
    assert second.status_code == 201
    assert second.json()["id"] != first["id"]
    assert second.json()["results"] == first["results"]
    reseeded = client.post("/api/v1/deals/coreweave-core-scientific/valuations?seed=1").json()
    assert reseeded["seed"] == 1
    assert reseeded["results"]["monte_carlo"] != first["results"]["monte_carlo"]
    assert reseeded["results"]["exchange"] == first["results"]["exchange"]
    latest = client.get("/api/v1/deals/coreweave-core-scientific/valuation").json()
    assert latest["id"] == reseeded["id"]


def test_deal_without_assumptions_is_404_naming_why(client: TestClient) -> None:
    assert client.post("/api/v1/deals", json=NEW_DEAL).status_code == 201
    response = client.get("/api/v1/deals/acme-widgets/valuation")
    assert response.status_code == 404
    assert "no saved assumptions" in response.json()["detail"][0]["msg"]
    assert client.post("/api/v1/deals/nope/valuations").status_code == 404
