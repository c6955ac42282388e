"""Comparing two versions: the field-by-field diff and the waterfall adding up; both databases."""

import re

import pytest
from fastapi.testclient import TestClient

from app.assumptions.diff import Change, apply, changes
from app.seed import load_assumptions
from tests.workspace.test_editor import URL, _form, _post


def _money(text: str) -> float:
    negative = text.startswith("(")
    value = float(text.strip("()$").replace(",", ""))
    return -value if negative else value


def test_waterfall_steps_add_up_to_the_change(client: TestClient, token: str) -> None:
    edits = {
        "target.cost_of_capital.beta": "1.7",
        "target.operating.ebit_margin.4": "0.45",
        "deal_terms.collar.lower": "150",
        "deal_terms.collar.upper": "190",
    }
    assert _post(client, "/versions", _form(client, **edits), token).status_code == 200
    page = client.get(URL + "/versions/compare?a=1&b=2")
    assert page.status_code == 200
    paths = re.findall(r'<tr data-path="([^"]+)">', page.text)
    assert paths == [
        "deal_terms.collar",
        "target.operating.ebit_margin.4",
        "target.cost_of_capital.beta",
    ]
    cells = re.findall(r'<tr data-path="[^"]+">.*?</tr>', page.text, re.S)
    steps = [_money(re.findall(r'<td class="num">([^<]*)</td>', c)[2]) for c in cells]
    totals = re.search(
        r'<th scope="row">Change</th><td></td><td></td>\s*<td class="num">([^<]*)', page.text
    )
    assert sum(steps) == pytest.approx(_money(totals.group(1)), abs=0.011)  # rounding per row
    assert steps[0] == 0.0  # a collar moves no DCF value
    versions = client.get(URL + "/versions").text
    assert "/versions/compare?a=1&amp;b=2" in versions


def test_same_content_says_so(client: TestClient, token: str) -> None:
    _post(client, "/versions", _form(client, note="no edits"), token)
    page = client.get(URL + "/versions/compare?a=1&b=2")
    assert "hold the same assumptions" in page.text
    assert client.get(URL + "/versions/compare?a=1&b=9").status_code == 404


def test_diff_and_apply_round_trip() -> None:
    old = load_assumptions("coreweave-core-scientific").model_dump(mode="json")
    new = apply(old, Change("target.operating.revenue_growth.2", None, 0.7))
    new = apply(new, Change("deal_terms.collar", None, {"lower": 1.0, "upper": 2.0}))
    found = changes(old, new)
    assert [c.path for c in found] == ["deal_terms.collar", "target.operating.revenue_growth.2"]
    rebuilt = old
    for change in found:
        rebuilt = apply(rebuilt, change)
    assert rebuilt == new
