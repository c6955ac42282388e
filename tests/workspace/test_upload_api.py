"""Uploading an assumption file over the API: preview, confirm, and every bad file refused
with its place and reason while the versions stay as they were. Both databases."""

import json

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.assumptions.models import AssumptionSet

API = "/api/v1/deals/coreweave-core-scientific/assumptions"


@pytest.fixture
def template(client: TestClient, seeded: Session) -> dict:
    return json.loads(client.get("/deals/coreweave-core-scientific/assumptions.json").text)


def _upload(client: TestClient, content: bytes | str, name: str = "assumptions.json"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(API, files={"file": (name, data, "application/json")})


def _versions(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(AssumptionSet))


def test_unchanged_template_is_no_changes(client: TestClient, template: dict) -> None:
    preview = _upload(client, json.dumps(template)).json()
    assert preview["no_changes"] is True and preview["changes"] == []
    assert preview["base_version"] == 1


def test_preview_then_confirm(client: TestClient, template: dict, seeded: Session) -> None:
    template["deal_terms"]["exchange_ratio"] = 0.15
    preview = _upload(client, json.dumps(template)).json()
    assert preview["changes"] == [{"path": "deal_terms.exchange_ratio", "old": 0.1235, "new": 0.15}]
    assert preview["before"]["premium"] == pytest.approx(0.1235 * 165.2 / 12.3 - 1)
    assert preview["after"]["premium"] == pytest.approx(0.15 * 165.2 / 12.3 - 1)
    assert _versions(seeded) == 1  # a preview stores nothing
    confirmed = client.post(API + "/confirm", json={"token": preview["token"], "note": "0.15"})
    assert confirmed.status_code == 201 and confirmed.json()["version"] == 2
    listed = client.get(API).json()
    assert listed[0]["version"] == 2 and listed[0]["note"] == "0.15"
    again = client.post(API + "/confirm", json={"token": preview["token"]})
    assert again.status_code == 409  # the same preview cannot land twice


def test_tokens_cannot_be_forged(client: TestClient, template: dict) -> None:
    token = _upload(client, json.dumps(template)).json()["token"]
    forged = client.post(API + "/confirm", json={"token": token[:-4] + "AAAA"})
    assert forged.status_code == 422 and forged.json()["detail"][0]["loc"] == ["token"]


def _set(doc: dict, path: str, value: object) -> dict:
    node = doc
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value
    return doc


@pytest.mark.parametrize(
    ("change", "place", "words"),
    [
        (("target.operating.tax_rate", 25), "$.target.operating.tax_rate", "looks like a percent"),
        (("acquirer.shares.basic", 0), "$.acquirer.shares.basic", "greater than 0"),
        (("target.operating.ebit_margin", [0.1, 0.2]), "$", "expected 5"),
        (("deal_terms.colour", "red"), "$.deal_terms.colour", "is not a field of the"),
        (("deal_terms.exchange_ratio", "12%"), "$.deal_terms.exchange_ratio", "fractions (0.12)"),
        (("deal_terms.exchange_ratio", "a lot"), "$.deal_terms.exchange_ratio", "valid number"),
        (("synergies", None), "$.synergies", "valid dictionary"),
    ],
)
def test_invalid_content_is_placed(
    client: TestClient, template: dict, seeded: Session, change: tuple, place: str, words: str
) -> None:
    response = _upload(client, json.dumps(_set(template, *change)))
    assert response.status_code == 422
    problems = response.json()["detail"]
    assert any(p["loc"] == [place] and words in p["msg"] for p in problems), problems
    assert _versions(seeded) == 1


@pytest.mark.parametrize(
    ("content", "name", "status", "words"),
    [
        ("", "a.json", 422, "is empty"),
        ("{not json", "a.json", 422, "not valid JSON"),
        ('{"deal_terms": NaN}', "a.json", 422, "NaN is not a number"),
        ('{"x": Infinity}', "a.json", 422, "Infinity"),
        ("[1, 2, 3]", "a.json", 422, "must be an object"),
        ("{" + '"a": {' * 40 + "}" * 41, "a.json", 422, "nested deeper"),
        (b"\xff\xfe\x00binary", "a.json", 422, "not UTF-8"),
        ("{}", "assumptions.csv", 422, "looks like JSON"),
        ("{}", "assumptions.txt", 422, "is not a .json, .csv or .xlsx file"),
    ],
)
def test_bad_files_are_refused(
    client: TestClient, seeded: Session, content: str | bytes, name: str, status: int, words: str
) -> None:
    response = _upload(client, content, name)
    assert response.status_code == status
    assert words in json.dumps(response.json())
    assert _versions(seeded) == 1


def test_oversized_files_are_413(client: TestClient, seeded: Session) -> None:
    client.app.state.settings = client.app.state.settings.model_copy(
        update={"max_upload_bytes": 1000}
    )
    response = _upload(client, "{" + " " * 5000 + "}")
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"][0]["msg"]
