"""The calculator API: exact request fields, numbers, and 422s naming the field."""

import pytest
from fastapi.testclient import TestClient


@pytest.fixture
def api(client: TestClient) -> TestClient:
    """The calculator needs a login (a token) like the rest of the API."""
    return client


DCF = {
    "base_revenue": 100.0,
    "revenue_growth": [0.1, 0.1, 0.1],
    "ebit_margin": 0.2,
    "da_pct_revenue": 0.05,
    "capex_pct_revenue": [0.05, 0.05, 0.05],
    "tax_rate": 0.25,
    "nwc_pct_revenue": 0.1,
    "wacc": 0.1,
    "terminal": {"method": "gordon", "growth": 0.02},
    "net_debt": 30.0,
    "diluted_shares": 10.0,
}


def test_dcf_worked_example(api: TestClient) -> None:
    response = api.post("/api/v1/calc/dcf", json=DCF)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fcff"] == pytest.approx([15.5, 17.05, 18.755], rel=1e-12)
    assert body["terminal_value"] == pytest.approx(239.12625, rel=1e-12)
    assert body["enterprise_value"] == pytest.approx(221.931818181818, rel=1e-12)
    assert body["equity_value"] == pytest.approx(191.931818181818, rel=1e-12)
    assert body["value_per_share"] == pytest.approx(19.1931818181818, rel=1e-12)
    for key in ("revenue", "ebit", "discount_factors", "pv_fcff", "pv_terminal_value"):
        assert key in body


def test_dcf_exit_multiple_and_mid_year(api: TestClient) -> None:
    body = DCF | {"terminal": {"method": "exit_multiple", "ev_ebitda": 8.0}, "mid_year": True}
    result = api.post("/api/v1/calc/dcf", json=body).json()
    assert result["terminal_value"] == pytest.approx(266.2, rel=1e-12)
    assert result["pv_terminal_value"] == pytest.approx(266.2 / 1.331, rel=1e-12)


@pytest.mark.parametrize(
    ("change", "loc", "words"),
    [
        ({"tax_rate": 25}, ["body", "tax_rate"], "looks like a percent"),
        ({"wacc": 9}, ["body", "wacc"], "looks like a percent"),
        ({"ebit_margin": [0.2, 0.2]}, ["body", "ebit_margin"], "revenue_growth has 3"),
        (
            {"terminal": {"method": "gordon", "growth": 0.098}},
            ["body", "terminal", "growth"],
            "0.005",
        ),
        ({"diluted_shares": 0}, ["body", "diluted_shares"], "greater than 0"),
        (
            {"terminal": {"method": "exit_multiple"}},
            ["body", "terminal", "exit_multiple", "ev_ebitda"],
            "required",
        ),
        ({"colour": "red"}, ["body", "colour"], "Extra inputs"),
    ],
)
def test_dcf_bad_input_is_422_naming_the_field(
    api: TestClient, change: dict, loc: list, words: str
) -> None:
    response = api.post("/api/v1/calc/dcf", json=DCF | change)
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"] == loc and words in e["msg"] for e in errors), errors


def test_dcf_nan_is_rejected(api: TestClient) -> None:
    raw = '{"base_revenue": NaN}'
    response = api.post(
        "/api/v1/calc/dcf", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert ["body", "base_revenue"] in [e["loc"] for e in response.json()["detail"]]


EXCHANGE = {
    "structure": "fixed_ratio",
    "exchange_ratio": 0.1235,
    "acquirer_price": 165.20,
    "target_unaffected_price": 12.30,
    "target_diluted_shares": 9.0e9 / 20.40,
    "acquirer_diluted_shares": 382.5e6,
    "collar": None,
}


def test_exchange_coreweave(api: TestClient) -> None:
    body = api.post("/api/v1/calc/exchange", json=EXCHANGE).json()
    assert round(body["implied_price"], 2) == 20.40
    assert round(body["premium"], 2) == 0.66
    assert body["equity_value"] == pytest.approx(9.0e9, rel=0.005)
    assert set(body) == {
        "effective_ratio",
        "implied_price",
        "premium",
        "equity_value",
        "new_shares",
        "target_ownership",
    }


def test_exchange_along_a_price_path_with_a_collar(api: TestClient) -> None:
    body = EXCHANGE | {
        "acquirer_price": [100.0, 165.2, 200.0],
        "collar": {"lower": 150, "upper": 180},
    }
    result = api.post("/api/v1/calc/exchange", json=body).json()
    assert result["effective_ratio"] == pytest.approx([0.1235 * 1.5, 0.1235, 0.1235 * 0.9])
    assert len(result["target_ownership"]) == 3


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"exchange_ratio": None}, "exchange_ratio"),
        ({"structure": "fixed_value"}, "value_per_share"),
        ({"structure": "floating"}, "structure"),
        ({"collar": {"lower": 180, "upper": 150}}, "collar"),
        ({"acquirer_price": [165.2, -1]}, "acquirer_price"),
    ],
)
def test_exchange_bad_input_is_422(api: TestClient, change: dict, field: str) -> None:
    response = api.post("/api/v1/calc/exchange", json=EXCHANGE | change)
    assert response.status_code == 422
    assert any(e["loc"][:2] == ["body", field] for e in response.json()["detail"])


def test_calculator_is_documented(api: TestClient) -> None:
    paths = api.get("/openapi.json").json()["paths"]
    assert "/api/v1/calc/dcf" in paths and "/api/v1/calc/exchange" in paths
