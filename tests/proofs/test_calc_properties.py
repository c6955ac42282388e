"""Property tests of the calculator API through the app: any JSON body posted to
/api/v1/calc/dcf or /api/v1/calc/exchange gives a result or a 4xx whose `detail` lists each
problem with its place (`loc`) and reason (`msg`); never a 5xx, never an exception.

Bodies are arbitrary JSON, and valid requests with fields replaced by any JSON value, removed,
or joined by unknown ones, and numbers pushed to their edges (zero, tiny, huge, negative), so
the engine itself is reached as well as the schema's checks. Both databases (the API needs a
token, and the token lives in the database).
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from app.valuation.schemas import DCFResponse, ExchangeResponse
from tests.valuation.test_calc_api import DCF as WORKED_DCF

DCF = copy.deepcopy(WORKED_DCF) | {"mid_year": False}
"""The calculator API tests' worked example (a copy: the properties edit it in place)."""
EXCHANGE = {
    "structure": "fixed_ratio",
    "exchange_ratio": 0.1235,
    "value_per_share": None,
    "cash_per_share": 0.0,
    "acquirer_price": [150.0, 165.2, 180.0],
    "target_unaffected_price": 12.3,
    "target_diluted_shares": 441_176_470.0,
    "acquirer_diluted_shares": 382_500_000.0,
    "collar": {"lower": 150.0, "upper": 180.0},
}
ENDPOINTS = {
    "dcf": ("/api/v1/calc/dcf", DCF, DCFResponse),
    "exchange": ("/api/v1/calc/exchange", EXCHANGE, ExchangeResponse),
}
SETTINGS = settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    # The app (and its database transaction) is one per test, shared by its examples.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

edge_numbers = st.sampled_from(
    [0, 0.0, -0.0, 1, -1, 5e-324, -5e-324, 1e-300, 1e300, 1.7976931348623157e308, -1e308, 2**64]
)
numbers = st.floats(allow_nan=False, allow_infinity=False) | st.integers() | edge_numbers
json_values = st.recursive(
    st.none() | st.booleans() | numbers | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=15,
)
"""Any JSON value (json.dumps would refuse NaN and infinity, so they are sent raw below)."""


def _leaves(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _leaves(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _leaves(value, (*prefix, index))
    return found


def mutated(base: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A valid body with up to four edits: a value replaced (often by a number at an edge),
    a field removed, an unknown field added, a list grown or emptied."""
    paths = [p for p in _leaves(base) if p]

    def apply(edits: list[tuple[tuple[Any, ...], str, Any]]) -> dict[str, Any]:
        body = copy.deepcopy(base)
        for path, action, value in edits:
            parent: Any = body
            try:
                for step in path[:-1]:
                    parent = parent[step]
                last = path[-1]
                if action == "delete":
                    del parent[last]
                elif action == "add" and isinstance(parent, dict):
                    parent[f"{last}_x"] = value
                elif action == "add":
                    parent.insert(last, value)
                else:
                    parent[last] = value
            except (KeyError, IndexError, TypeError, AttributeError):
                continue  # an earlier edit removed or replaced this path (a list by a number)
        return body

    edit = st.tuples(
        st.sampled_from(paths),
        st.sampled_from(["replace", "replace", "delete", "add"]),
        edge_numbers | numbers | json_values,
    )
    return st.lists(edit, min_size=1, max_size=4).map(apply)


def _event(name: str) -> None:
    """Tally an outcome for --hypothesis-show-statistics (only inside a property)."""
    if currently_in_test_context():
        event(name)


def check(api: TestClient, endpoint: str, raw: str) -> None:
    url, _, response_model = ENDPOINTS[endpoint]
    response = api.post(url, content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, response.text
    body = response.json()
    if response.status_code == 200:
        _event("computed")
        response_model.model_validate(body)
        return
    _event(f"refused {response.status_code}")
    assert 400 <= response.status_code < 500, response.status_code
    assert isinstance(body["detail"], list) and body["detail"], body
    for problem in body["detail"]:
        assert isinstance(problem["loc"], list), problem
        assert isinstance(problem["msg"], str) and problem["msg"], problem
    if response.status_code == 422 and not raw.lstrip().startswith("{"):
        return  # a body that is not an object: FastAPI names the body itself
    places = [problem["loc"] for problem in body["detail"]]
    assert all(loc and loc[0] == "body" for loc in places), places


@pytest.fixture
def api(client: TestClient) -> TestClient:
    return client


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@SETTINGS
@given(body=json_values)
def test_any_json(api: TestClient, endpoint: str, body: Any) -> None:
    check(api, endpoint, json.dumps(body))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@SETTINGS
@given(data=st.data())
def test_edited_requests(api: TestClient, endpoint: str, data: st.DataObject) -> None:
    body = data.draw(mutated(ENDPOINTS[endpoint][1]))
    check(api, endpoint, json.dumps(body))


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers(api: TestClient, endpoint: str, constant: str) -> None:
    """What Python's json reads as NaN or infinity is refused by name, in every numeric field."""
    _, base, _ = ENDPOINTS[endpoint]
    for field, value in base.items():
        if isinstance(value, float) and not math.isnan(value):
            raw = json.dumps(base).replace(
                f'"{field}": {json.dumps(value)}', f'"{field}": {constant}'
            )
            check(api, endpoint, raw)
