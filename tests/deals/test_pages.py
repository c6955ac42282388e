"""The deal list and deal page as HTML, on both databases."""

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.deals.models import DealSource
from tests.deals.test_api import NEW_DEAL


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def test_deal_list(client: TestClient, seeded: Session) -> None:
    response = client.get("/")
    assert response.status_code == 200
    text = _text(response.text)
    assert "CoreWeave – Core Scientific" in text
    assert "CoreWeave, Inc." in text and "Core Scientific, Inc." in text
    assert "7 Jul 2025" in text
    assert "terminated" in text
    assert "$9.0B" in text
    assert 'href="/deals/coreweave-core-scientific"' in response.text


def test_empty_list_says_how_to_add_deals(client: TestClient) -> None:
    assert "No deals yet" in client.get("/").text


def test_deal_page_shows_headline_terms_and_sources(client: TestClient, seeded: Session) -> None:
    response = client.get("/deals/coreweave-core-scientific")
    assert response.status_code == 200
    text = _text(response.text)
    for figure in ("0.1235x", "$20.40", "$165.20", "$12.30", "66.0%", "65.9%", "$9.0B"):
        assert figure in text, figure
    assert "9.4%" in text and "90.6%" in text
    assert "1.3 GW" in text
    assert "$500.0M" in text
    assert "39.7M" in text and "$6.6B" in text  # the 'derived puzzle' is shown, not hidden
    assert 'href="https://particle.news/story/coreweave-announces' in response.text
    assert 'id="source-S13"' in response.text
    assert "Current version v1" in text
    # The EV-to-equity bridge is itemised: Core Scientific's $1.0B of leases, for one.
    assert "− Lease liabilities" in text and "(1,000.0)" in text
    assert "Offer enterprise value per MW" in text and "$7.3M" in text


def test_unknown_deal_is_a_real_404_page(client: TestClient) -> None:
    response = client.get("/deals/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No deal called 'nothing-here'" in _text(response.text)
    assert client.get("/no/such/page").status_code == 404


def test_a_deal_without_assumptions_has_a_page_too(client: TestClient) -> None:
    assert client.post("/api/v1/deals", json=NEW_DEAL).status_code == 201
    response = client.get("/deals/acme-widgets")
    assert response.status_code == 200
    text = _text(response.text)
    assert "No assumptions saved for this deal yet." in text
    assert "30.0%" in text and "$1.5B" in text
    assert 'id="valuation"' not in response.text


def test_a_source_address_that_is_not_http_is_shown_not_linked(
    client: TestClient, seeded: Session
) -> None:
    """Forms and the API take only http(s) addresses; one written another way stays text."""
    source = seeded.scalars(select(DealSource).order_by(DealSource.id)).first()
    source.url = "javascript:alert(1)"
    seeded.commit()
    page = client.get("/deals/coreweave-core-scientific").text
    assert 'href="javascript:' not in page
    assert "(javascript:alert(1))" in html.unescape(page)
    assert page.count('rel="noopener noreferrer"') >= 1  # the other sources are still links
