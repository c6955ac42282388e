"""Version history, restore and download; both databases."""

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.workspace.test_editor import URL, _form, _post


def test_history_lists_versions_with_headline_outputs(client: TestClient, token: str) -> None:
    _post(client, "/versions", _form(client, **{"deal_terms.exchange_ratio": "0.15"}), token)
    page = client.get(URL + "/versions")
    assert page.status_code == 200
    assert 'data-version="2"' in page.text and 'data-version="1"' in page.text
    assert "$20.40" not in page.text  # the page shows DCF values and premiums, not prices
    assert "65.9%" in page.text and "101.5%" in page.text  # premium at 0.1235 and at 0.15
    listed = client.get("/api/v1/deals/coreweave-core-scientific/assumptions").json()
    assert [(v["version"], v["current"], v["parent_version"]) for v in listed] == [
        (2, True, 1),
        (1, False, None),
    ]


def test_restore_makes_a_new_version_copying_the_old(
    client: TestClient, token: str, seeded: Session
) -> None:
    _post(client, "/versions", _form(client, **{"deal_terms.exchange_ratio": "0.15"}), token)
    listed = client.get("/api/v1/deals/coreweave-core-scientific/assumptions").json()
    current_id = listed[0]["id"]
    restored = client.post(
        URL + "/versions/1/revert",
        data={"parent_id": str(current_id)},
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert restored.status_code == 303
    after = client.get("/api/v1/deals/coreweave-core-scientific/assumptions").json()
    assert (after[0]["version"], after[0]["note"]) == (3, "Revert to v1")
    assert after[0]["content_hash"] == after[2]["content_hash"]  # an exact copy of v1
    stale = client.post(
        URL + "/versions/2/revert",
        data={"parent_id": str(current_id)},
        headers={"X-CSRF-Token": token},
        follow_redirects=False,
    )
    assert stale.status_code == 409


def test_download_the_current_version(client: TestClient, token: str) -> None:
    response = client.get(URL + "/assumptions.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    assert "v1.json" in response.headers["content-disposition"]
    payload = json.loads(response.text)
    assert payload["deal_terms"]["exchange_ratio"] == 0.1235
