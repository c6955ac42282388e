"""New deal, edit deal and delete, as HTML forms; both databases."""

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.deals.models import Deal
from tests.conftest import csrf_of

FORM = {
    "name": "Acme – Widgets",
    "announced": "2026-01-15",
    "status": "announced",
    "consideration": "All cash: $10.00 per share",
    "consideration_type": "cash",
    "currency": "USD",
    "acquirer.name": "Acme Corp",
    "acquirer.ticker": "ACME",
    "acquirer.sector": "Industrials",
    "target.name": "Widgets Inc",
    "sources.0.key": "S1",
    "sources.0.title": "Press release",
    "sources.0.url": "https://example.com/pr",
    "sources.1.key": "",
    "sources.1.title": "",
    "sources.1.url": "",
}


def _form_values(page: str) -> dict[str, str]:
    """What a browser would submit: inputs' values and each select's chosen option."""
    values = dict(re.findall(r'<input[^>]*? name="([^"]+)"[^>]*? value="([^"]*)"', page))
    for name, options in re.findall(r'<select[^>]*? name="([^"]+)">(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        first = re.search(r'<option value="([^"]*)"', options)
        values[name] = (chosen or first).group(1)
    return values


@pytest.fixture
def token(client: TestClient) -> str:
    assert client.get("/deals/new").status_code == 200
    return csrf_of(client)


def _post(client: TestClient, url: str, data: dict, token: str, htmx: bool = False):
    headers = {"X-CSRF-Token": token} | ({"HX-Request": "true"} if htmx else {})
    return client.post(url, data=data, headers=headers, follow_redirects=False)


def test_create_then_find_it_by_sector(client: TestClient, token: str) -> None:
    created = _post(client, "/deals", FORM, token)
    assert created.status_code == 303 and created.headers["location"] == "/deals/acme-widgets"
    page = client.get("/deals/acme-widgets")
    assert page.status_code == 200 and "Acme Corp" in page.text
    listed = client.get("/?sector=Industrials&consideration=cash")
    assert "Acme – Widgets" in listed.text
    assert "Acme – Widgets" not in client.get("/?consideration=stock").text


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"announced": ""}, "announced", "is required"),
        ({"announced": "2026-02-30"}, "announced", "enter a real date"),
        ({"acquirer.name": ""}, "acquirer.name", "is required"),
        ({"sources.0.url": "not a link"}, "sources.0.url", "starting with https://"),
        ({"sources.0.key": "S 1"}, "sources.0.key", "letters, digits, - or _ (no spaces)"),
        ({"target.name": "Acme Corp"}, "", "different companies"),
        ({"slug": "new"}, "slug", "reserved"),
    ],
)
def test_bad_input_comes_back_beside_the_field(
    client: TestClient, session: Session, token: str, change: dict, field: str, words: str
) -> None:
    response = _post(client, "/deals", FORM | change, token, htmx=True)
    assert response.status_code == 422
    if field:
        error_id = "e-" + field.replace(".", "-")
        assert f'id="{error_id}"' in response.text
    assert words in response.text
    # A summary at the top takes the focus and links to each field with a problem.
    assert 'id="form-errors" role="alert" tabindex="-1" autofocus' in response.text
    if field:
        assert f'href="#f-{field.replace(".", "-")}"' in response.text
    assert "Pattern" not in response.text and "String should" not in response.text
    assert 'value="Widgets Inc"' in response.text or change.get("target.name")  # input kept
    assert session.scalar(select(func.count()).select_from(Deal)) == 0


def test_edit_keeps_facts_and_detects_a_stale_form(
    client: TestClient, seeded: Session, token: str
) -> None:
    form_page = client.get("/deals/coreweave-core-scientific/edit")
    assert (
        'value="CoreWeave, Inc."' in form_page.text
        and 'name="revision" value="1"' in form_page.text
    )
    values = _form_values(form_page.text)
    values.pop("csrf_token", None)
    assert values["facts.0.unit"] == "ratio" and values["facts.2.unit"] == "text"
    values["summary"] = "Edited summary."
    saved = _post(client, "/deals/coreweave-core-scientific/edit", values, token, htmx=True)
    assert (
        saved.status_code == 200
        and saved.headers["HX-Redirect"] == "/deals/coreweave-core-scientific"
    )
    body = client.get("/api/v1/deals/coreweave-core-scientific").json()
    assert body["summary"] == "Edited summary." and body["revision"] == 2
    assert len(body["facts"]) == 23 and len(body["sources"]) == 14
    facts = {f["key"]: f for f in body["facts"]}
    assert facts["exchange_ratio"]["value"] == 0.1235 and facts["premium"]["value"] == 0.66
    assert facts["outcome"]["text"].startswith("Rejected by Core Scientific")
    assert facts["implied_price"]["sources"] == ["S1", "S3", "S4"]
    stale = _post(client, "/deals/coreweave-core-scientific/edit", values, token)  # revision 1
    assert stale.status_code == 409 and "changed by someone else" in stale.text


def test_delete_is_soft_and_confirmed(client: TestClient, seeded: Session, token: str) -> None:
    page = client.get("/deals/coreweave-core-scientific").text
    assert "Delete deal…" in page and "Yes, delete this deal" in page
    deleted = _post(client, "/deals/coreweave-core-scientific/delete", {"revision": "1"}, token)
    assert deleted.status_code == 303 and deleted.headers["location"] == "/"
    assert client.get("/deals/coreweave-core-scientific").status_code == 404
    assert "CoreWeave" not in client.get("/").text
    assert seeded.scalar(select(func.count()).select_from(Deal)) == 1  # still stored


def test_forms_need_the_token(client: TestClient, token: str) -> None:
    assert client.post("/deals", data=FORM).status_code == 403


def test_facts_entered_in_the_form(client: TestClient, token: str) -> None:
    facts = {
        "facts.0.key": "premium",
        "facts.0.label": "Premium",
        "facts.0.value": "0.3",
        "facts.0.unit": "fraction",
        "facts.0.basis": "published",
        "facts.0.sources": "S1",
        "facts.1.key": "collar",
        "facts.1.label": "Collar",
        "facts.1.value": "None",
        "facts.1.unit": "text",
        "facts.1.basis": "published",
        "facts.2.key": "",
        "facts.2.unit": "usd",
        "facts.2.basis": "published",
    }
    assert _post(client, "/deals", FORM | facts, token).status_code == 303
    body = client.get("/api/v1/deals/acme-widgets").json()
    assert [(f["key"], f["value"], f["text"]) for f in body["facts"]] == [
        ("premium", 0.3, None),
        ("collar", None, "None"),
    ]
    not_a_number = FORM | facts | {"name": "Other", "facts.0.value": "30%"}
    response = _post(client, "/deals", not_a_number, token, htmx=True)
    assert response.status_code == 422 and 'id="e-facts-0-value"' in response.text
    uncited = FORM | facts | {"name": "Other", "facts.1.sources": "S9"}
    response = _post(client, "/deals", uncited, token, htmx=True)
    assert response.status_code == 422 and "unknown source(s) S9" in response.text


def test_the_deal_page_shows_an_edit_of_facts_alone(
    client: TestClient, seeded: Session, token: str
) -> None:
    """The page keeps its facts' markup per deal revision: an edit that changes nothing but
    a fact and a source must still bump the revision, and the next view must show it."""
    before = client.get("/deals/coreweave-core-scientific").text
    assert "Checked against the merger agreement." not in before
    assert "Reworded source" not in before
    values = _form_values(client.get("/deals/coreweave-core-scientific/edit").text)
    values.pop("csrf_token", None)
    assert values["facts.0.key"] == "exchange_ratio" and values["sources.0.key"] == "S1"
    values["facts.0.note"] = "Checked against the merger agreement."
    values["sources.0.title"] = "Reworded source"
    saved = _post(client, "/deals/coreweave-core-scientific/edit", values, token, htmx=True)
    assert saved.status_code == 200
    assert client.get("/api/v1/deals/coreweave-core-scientific").json()["revision"] == 2
    after = client.get("/deals/coreweave-core-scientific").text
    assert "Checked against the merger agreement." in after and "Reworded source" in after
    assert after.count('data-key="exchange_ratio"') == before.count('data-key="exchange_ratio"')
