"""The DCF against hand-worked numbers (docs/methodology.md), numpy-financial and properties."""

from dataclasses import replace

import numpy as np
import numpy_financial as npf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import DCFInputs, EngineInputError, dcf
from app.engine.dcf import REQUIRED, SUMMARY, prepare, run

REL = 1e-9

# The worked example of docs/methodology.md, section "DCF".
EXAMPLE = DCFInputs(
    base_revenue=100.0,
    revenue_growth=[0.10, 0.10, 0.10],
    ebit_margin=0.20,
    da_pct_revenue=0.05,
    capex_pct_revenue=0.05,
    nwc_pct_revenue=0.10,
    tax_rate=0.25,
    wacc=0.10,
    diluted_shares=10.0,
    terminal_growth=0.02,
    cash=20.0,
    debt=50.0,
)


def test_worked_example_end_of_year() -> None:
    r = dcf(EXAMPLE)
    np.testing.assert_allclose(r.revenue, [110.0, 121.0, 133.1], rtol=REL)
    np.testing.assert_allclose(r.ebit, [22.0, 24.2, 26.62], rtol=REL)
    np.testing.assert_allclose(r.nopat, [16.5, 18.15, 19.965], rtol=REL)
    np.testing.assert_allclose(r.delta_nwc, [1.0, 1.1, 1.21], rtol=REL)
    np.testing.assert_allclose(r.fcff, [15.5, 17.05, 18.755], rtol=REL)
    np.testing.assert_allclose(r.discount_factors, [1 / 1.1, 1 / 1.21, 1 / 1.331], rtol=REL)
    np.testing.assert_allclose(r.pv_fcff, [15.5 / 1.1] * 3, rtol=REL)
    assert r.terminal_value == pytest.approx(239.12625, rel=REL)  # 18.755 x 1.02 / 0.08
    assert r.pv_terminal_value == pytest.approx(239.12625 / 1.331, rel=REL)
    assert r.enterprise_value == pytest.approx(42.272727272727 + 179.659090909091, rel=REL)
    assert r.equity_value == pytest.approx(221.931818181818 + 20 - 50, rel=REL)
    assert r.value_per_share == pytest.approx(19.1931818181818, rel=REL)
    assert r.tv_share_of_ev == pytest.approx(179.659090909091 / 221.931818181818, rel=REL)
    assert r.implied_exit_multiple == pytest.approx(239.12625 / 33.275, rel=REL)


def test_worked_example_mid_year() -> None:
    r = dcf(replace(EXAMPLE, mid_year=True))
    half = 1.1**0.5
    np.testing.assert_allclose(
        r.discount_factors, [half / 1.1, half / 1.21, half / 1.331], rtol=REL
    )
    # Gordon TV is discounted at n - 0.5 too under the mid-year convention.
    assert r.pv_terminal_value == pytest.approx(239.12625 * half / 1.331, rel=REL)
    assert r.enterprise_value == pytest.approx((42.272727272727 + 179.659090909091) * half, rel=REL)


def test_worked_example_exit_multiple() -> None:
    r = dcf(replace(EXAMPLE, terminal_method="exit_multiple", exit_multiple=8.0, mid_year=True))
    assert r.terminal_value == pytest.approx(33.275 * 8.0, rel=REL)  # EBITDA_3 = 26.62 + 6.655
    # An exit multiple is discounted at n even under the mid-year convention.
    assert r.pv_terminal_value == pytest.approx(266.2 / 1.331, rel=REL)
    implied_g = (266.2 * 0.10 - 18.755) / (266.2 + 18.755)
    assert r.implied_terminal_growth == pytest.approx(implied_g, rel=REL)


def test_matches_numpy_financial_npv() -> None:
    r = dcf(EXAMPLE)
    # npf.npv discounts its first value at t=0, so year 1 follows a zero.
    flows = np.concatenate([[0.0], r.fcff[:-1], [r.fcff[-1] + r.terminal_value]])
    assert r.enterprise_value == pytest.approx(npf.npv(0.10, flows), rel=REL)


def test_one_call_many_scenarios_equals_a_loop_of_single_calls() -> None:
    rng = np.random.default_rng(3)
    growth = rng.uniform(-0.05, 0.3, (7, 5))
    margin = rng.uniform(0.05, 0.3, (7, 5))
    wacc = rng.uniform(0.07, 0.14, 7)
    inputs = DCFInputs(
        base_revenue=500.0,
        revenue_growth=growth,
        ebit_margin=margin,
        da_pct_revenue=0.04,
        capex_pct_revenue=0.06,
        nwc_pct_revenue=0.08,
        tax_rate=0.21,
        wacc=wacc,
        diluted_shares=40.0,
        terminal_growth=0.025,
        mid_year=True,
    )
    together = dcf(inputs, block=3)  # several blocks, one of them partial
    for i in range(7):
        alone = dcf(replace(inputs, revenue_growth=growth[i], ebit_margin=margin[i], wacc=wacc[i]))
        assert together.value_per_share[i] == alone.value_per_share
        np.testing.assert_array_equal(together.fcff[i], alone.fcff)


@settings(max_examples=30, deadline=None)
@given(
    growth=st.lists(st.lists(st.floats(-0.3, 1.5), min_size=4, max_size=4), min_size=1, max_size=6),
    wacc=st.floats(0.05, 0.25),
    mid_year=st.booleans(),
    method=st.sampled_from(["gordon", "exit_multiple"]),
)
def test_vectorised_dcf_equals_a_loop_of_scalar_calls(
    growth: list[list[float]], wacc: float, mid_year: bool, method: str
) -> None:
    """Any batch of scenarios valued in one call equals each valued alone, bit for bit."""
    g = np.array(growth)
    w = wacc + 0.01 * np.arange(len(growth))
    batch = replace(
        EXAMPLE,
        revenue_growth=g,
        wacc=w,
        mid_year=mid_year,
        terminal_method=method,
        exit_multiple=9.0,
        ebit_margin=[0.2, 0.22, 0.24, 0.25],
        da_pct_revenue=[0.05] * 4,
        capex_pct_revenue=[0.05] * 4,
    )
    together = dcf(batch, block=2)
    for i in range(len(growth)):
        alone = dcf(replace(batch, revenue_growth=g[i], wacc=w[i]))
        assert together.enterprise_value[i] == alone.enterprise_value
        assert together.value_per_share[i] == alone.value_per_share
        np.testing.assert_array_equal(together.pv_fcff[i], alone.pv_fcff)


@settings(max_examples=60, deadline=None)
@given(
    w1=st.floats(0.04, 0.20),
    dw=st.floats(0.0001, 0.05),
    g=st.floats(-0.02, 0.03),
    growth=st.floats(-0.1, 0.5),
)
def test_enterprise_value_falls_as_wacc_rises(
    w1: float, dw: float, g: float, growth: float
) -> None:
    base = replace(EXAMPLE, revenue_growth=[growth] * 3, terminal_growth=min(g, w1 - 0.006))
    low, high = dcf(replace(base, wacc=w1)), dcf(replace(base, wacc=w1 + dw))
    assert high.enterprise_value < low.enterprise_value


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"tax_rate": 25}, "tax_rate", "looks like a percent"),
        ({"wacc": 9}, "wacc", "looks like a percent"),
        ({"terminal_growth": 0.098}, "terminal_growth", "below the 0.005 minimum"),
        ({"wacc": 0.02, "terminal_growth": 0.03}, "terminal_growth", "WACC > g"),
        ({"ebit_margin": [0.2, float("nan"), 0.2]}, "ebit_margin", "NaN or infinity"),
        ({"cash": float("inf")}, "cash", "NaN or infinity"),
        ({"ebit_margin": [0.2, 0.2]}, "ebit_margin", "expected 3"),
        ({"diluted_shares": 0.0}, "diluted_shares", "positive"),
        ({"base_revenue": -5.0}, "base_revenue", "positive"),
        ({"terminal_method": "perpetuity"}, "terminal_method", "gordon"),
        ({"capex_pct_revenue": 12}, "capex_pct_revenue", "looks like a percent"),
    ],
)
def test_bad_input_names_the_field(change: dict, field: str, words: str) -> None:
    with pytest.raises(EngineInputError) as excinfo:
        dcf(replace(EXAMPLE, **change))
    assert excinfo.value.field == field
    assert words in excinfo.value.reason


def test_build_out_capex_above_revenue_is_allowed() -> None:
    r = dcf(replace(EXAMPLE, capex_pct_revenue=[1.5, 1.0, 0.05]))
    assert r.fcff[0] < 0 < r.fcff[2]


def test_summary_only_mode_gives_the_same_values() -> None:
    full, summary = dcf(EXAMPLE), dcf(EXAMPLE, per_year=False)
    assert summary.fcff is None
    assert summary.value_per_share == full.value_per_share


def test_results_not_asked_for_are_skipped_and_the_rest_keep_their_bits() -> None:
    """A grid or a Monte Carlo needs EV and value per share only, not the four TV ratios."""
    rng = np.random.default_rng(3)
    many = replace(EXAMPLE, wacc=rng.uniform(0.08, 0.12, 1000))
    p = prepare(many)
    every = run(p, per_year=False)
    some = run(p, per_year=False, outputs=("value_per_share",))
    assert set(every) == set(SUMMARY)
    assert set(some) == set(REQUIRED)
    for name in REQUIRED:
        assert np.array_equal(some[name], every[name])


@pytest.mark.parametrize(
    ("field", "bad", "words"),
    [
        ("revenue_growth", float("nan"), "NaN"),
        ("ebit_margin", 30.0, "looks like a percent"),
        ("wacc", 0.01, "WACC > g"),
    ],
)
def test_large_inputs_are_checked_too(field: str, bad: float, words: str) -> None:
    # Above DEFER_ABOVE elements the checks run block by block; the last block is bad here.
    n = 70_000
    growth = np.full((n, 3), 0.1)
    margin = np.full((n, 3), 0.2)
    wacc = np.full(n, 0.1)
    arrays = {"revenue_growth": growth, "ebit_margin": margin, "wacc": wacc}
    arrays[field][-1] = bad
    with pytest.raises(EngineInputError) as excinfo:
        dcf(replace(EXAMPLE, **arrays), per_year=False)
    assert excinfo.value.field == ("terminal_growth" if field == "wacc" else field)
    assert words in excinfo.value.reason


def test_thread_count_does_not_change_a_bit() -> None:
    rng = np.random.default_rng(9)
    inputs = replace(
        EXAMPLE,
        revenue_growth=rng.uniform(0.0, 0.2, (5000, 3)),
        wacc=rng.uniform(0.08, 0.12, 5000),
    )
    one = dcf(inputs, per_year=False, block=512)
    two = dcf(inputs, per_year=False, block=512, threads=2)
    np.testing.assert_array_equal(one.value_per_share, two.value_per_share)
    np.testing.assert_array_equal(one.implied_terminal_growth, two.implied_terminal_growth)


def test_the_layout_of_per_year_inputs_does_not_change_a_bit() -> None:
    # Row-major (scenarios, years) inputs are turned year-first in tiles of TILE scenarios;
    # year-first ones (a transposed view) are read as they are. 10,000 scenarios: two whole
    # tiles and a partial one in a block, and a second, partial block.
    rng = np.random.default_rng(11)
    n = 10_000
    paths = {
        name: rng.uniform(low, high, (n, 4))
        for name, low, high in [
            ("revenue_growth", -0.05, 0.25),
            ("ebit_margin", 0.05, 0.3),
            ("da_pct_revenue", 0.02, 0.06),
            ("capex_pct_revenue", 0.03, 0.08),
        ]
    }
    inputs = replace(EXAMPLE, wacc=rng.uniform(0.08, 0.12, n), **paths)
    turned = replace(inputs, **{k: np.ascontiguousarray(v.T).T for k, v in paths.items()})
    assert turned.revenue_growth.strides == (8, n * 8)
    rows = dcf(inputs, per_year=False, block=6_000)
    years = dcf(turned, per_year=False, block=6_000)
    for name in SUMMARY:
        np.testing.assert_array_equal(getattr(rows, name), getattr(years, name))
    for i in (0, 4_095, 4_096, 5_999, 6_000, n - 1):
        alone = dcf(replace(inputs, wacc=inputs.wacc[i], **{k: v[i] for k, v in paths.items()}))
        assert rows.value_per_share[i] == alone.value_per_share
        assert rows.tv_share_of_ev[i] == alone.tv_share_of_ev
