"""Searching, filtering, sorting and paging the deal list, on both databases."""

import copy
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.audit.service import CLI
from app.deals.schemas import DealCreate
from app.deals.service import DealQuery, create_deal, list_deals
from tests.deals.test_api import NEW_DEAL


@pytest.fixture
def three_deals(seeded: Session) -> Session:
    for i, (name, status, announced) in enumerate(
        [("Acme – Widgets", "completed", "2024-03-01"), ("Zeta – Bolt", "pending", "2026-02-01")]
    ):
        body = copy.deepcopy(NEW_DEAL) | {
            "name": name,
            "status": status,
            "announced": announced,
            "target": {"name": f"Target {i}", "ticker": f"TG{i}"},
        }
        create_deal(seeded, DealCreate.model_validate(body), creator=None, actor=CLI)
    seeded.commit()
    return seeded


def _names(page) -> list[str]:
    return [d.name for d in page.deals]


def test_search_by_name_company_or_ticker(three_deals: Session) -> None:
    assert _names(list_deals(three_deals, DealQuery(q="core"), viewer=None)) == [
        "CoreWeave – Core Scientific"
    ]
    assert _names(list_deals(three_deals, DealQuery(q="CORZ"), viewer=None)) == [
        "CoreWeave – Core Scientific"
    ]
    assert _names(list_deals(three_deals, DealQuery(q="tg1"), viewer=None)) == ["Zeta – Bolt"]
    assert list_deals(three_deals, DealQuery(q="nothing like it"), viewer=None).total == 0


def test_filter_sort_and_page(three_deals: Session) -> None:
    assert _names(list_deals(three_deals, DealQuery(status="pending"), viewer=None)) == [
        "Zeta – Bolt"
    ]
    newest_first = list_deals(three_deals, DealQuery(), viewer=None)
    assert [d.announced.year for d in newest_first.deals] == [2026, 2025, 2024]
    by_name = list_deals(three_deals, DealQuery(sort="name", descending=False), viewer=None)
    assert _names(by_name) == ["Acme – Widgets", "CoreWeave – Core Scientific", "Zeta – Bolt"]
    second = list_deals(
        three_deals, DealQuery(sort="name", descending=False, page=2, per_page=2), viewer=None
    )
    assert (second.total, second.pages, _names(second)) == (3, 2, ["Zeta – Bolt"])


@pytest.mark.parametrize(
    ("sort", "descending", "expected"),
    [
        # Acquirers: Acme Corp (twice) and CoreWeave; ties fall back to the deal's name.
        ("acquirer", False, ["Acme – Widgets", "Zeta – Bolt", "CoreWeave – Core Scientific"]),
        ("target", True, ["Zeta – Bolt", "Acme – Widgets", "CoreWeave – Core Scientific"]),
        # $9.0B for CoreWeave – Core Scientific, $1.5B for the others.
        ("equity_value", True, ["CoreWeave – Core Scientific", "Acme – Widgets", "Zeta – Bolt"]),
        ("equity_value", False, ["Acme – Widgets", "Zeta – Bolt", "CoreWeave – Core Scientific"]),
        # By consideration type (stock, cash, mixed); deals without one go last.
        ("consideration", False, ["CoreWeave – Core Scientific", "Acme – Widgets", "Zeta – Bolt"]),
    ],
)
def test_every_column_sorts(
    three_deals: Session, sort: str, descending: bool, expected: list[str]
) -> None:
    assert (
        _names(list_deals(three_deals, DealQuery(sort=sort, descending=descending), viewer=None))
        == expected
    )


def test_the_url_holds_the_state(client: TestClient, three_deals: Session) -> None:
    page = client.get("/?q=core&status=terminated&sort=name&dir=asc")
    assert page.status_code == 200
    assert "CoreWeave – Core Scientific" in page.text and "Zeta" not in page.text
    assert 'value="core"' in page.text
    assert re.search(r'<option value="terminated" selected>', page.text)
    assert "1 deal matching" in page.text


def test_htmx_search_returns_only_the_results(client: TestClient, three_deals: Session) -> None:
    fragment = client.get("/?q=zeta", headers={"HX-Request": "true"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "Zeta – Bolt" in fragment.text


def test_bad_list_parameters_are_a_clear_422(client: TestClient) -> None:
    response = client.get("/?sort=colour")
    assert response.status_code == 422
    assert "sort" in response.text
