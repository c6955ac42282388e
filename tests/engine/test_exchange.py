"""Exchange-ratio engine: the CoreWeave–Core Scientific terms, collars and properties."""

import itertools

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.engine import (
    EngineInputError,
    exchange_grid,
    exchange_offer,
    ratio_for_ownership,
    ratio_for_premium,
    vwap,
)

# ../shared/reference/coreweave-core-scientific.md
RATIO, CRWV_PRICE, CORZ_UNAFFECTED = 0.1235, 165.20, 12.30
FULLY_DILUTED = 9.0e9 / 20.40  # derived: about 441 million
NEW_SHARES_PROXY = 39_685_636
CRWV_DILUTED = NEW_SHARES_PROXY * 0.906 / 0.094  # what the proxy's 9.4% / 90.6% split implies


def test_coreweave_core_scientific_headline_terms() -> None:
    r = exchange_offer(
        "fixed_ratio",
        CRWV_PRICE,
        CORZ_UNAFFECTED,
        FULLY_DILUTED,
        CRWV_DILUTED,
        exchange_ratio=RATIO,
    )
    assert round(float(r.implied_price), 2) == 20.40  # published, to the cent
    assert round(float(r.premium), 2) == 0.66  # published "66%"
    assert float(r.premium) == pytest.approx(0.1235 * 165.20 / 12.30 - 1, rel=1e-12)
    assert float(r.equity_value) == pytest.approx(9.0e9, rel=0.005)  # "about $9 billion"


def test_coreweave_proxy_ownership_from_the_basic_issuance() -> None:
    basic_target_shares = NEW_SHARES_PROXY / RATIO
    r = exchange_offer(
        "fixed_ratio",
        CRWV_PRICE,
        CORZ_UNAFFECTED,
        basic_target_shares,
        CRWV_DILUTED,
        exchange_ratio=RATIO,
    )
    assert float(r.new_shares) == pytest.approx(NEW_SHARES_PROXY, rel=1e-12)
    assert round(float(r.target_ownership), 3) == 0.094
    assert round(float(r.acquirer_ownership), 3) == 0.906
    # The 'derived puzzle': the basic issuance is worth $6.6B, not the fully diluted $9B.
    assert float(r.new_shares) * CRWV_PRICE == pytest.approx(6.556e9, rel=1e-3)


def test_later_implied_values_follow_the_acquirer_price() -> None:
    r = exchange_offer(
        "fixed_ratio", [103.40], CORZ_UNAFFECTED, FULLY_DILUTED, CRWV_DILUTED, exchange_ratio=RATIO
    )
    assert round(float(r.implied_price[0]), 2) == 12.77  # published for 2025-08-29


COMMON = {
    "target_unaffected_price": 10.0,
    "target_diluted_shares": 100.0,
    "acquirer_diluted_shares": 400.0,
}


def test_collar_worked_example() -> None:
    prices = np.array([40.0, 50.0, 55.0, 60.0, 70.0])
    fixed_ratio = exchange_offer(
        "fixed_ratio", prices, exchange_ratio=0.25, collar_lower=50, collar_upper=60, **COMMON
    )
    np.testing.assert_allclose(
        fixed_ratio.effective_ratio, [0.3125, 0.25, 0.25, 0.25, 0.25 * 60 / 70], rtol=1e-12
    )
    np.testing.assert_allclose(fixed_ratio.implied_price, [12.5, 12.5, 13.75, 15.0, 15.0])
    fixed_value = exchange_offer(
        "fixed_value", prices, value_per_share=13.0, collar_lower=50, collar_upper=60, **COMMON
    )
    np.testing.assert_allclose(
        fixed_value.effective_ratio, [0.26, 0.26, 13 / 55, 13 / 60, 13 / 60], rtol=1e-12
    )
    np.testing.assert_allclose(
        fixed_value.implied_price, [10.4, 13.0, 13.0, 13.0, 13 * 70 / 60], rtol=1e-12
    )


def test_walkaway_flags() -> None:
    r = exchange_offer(
        "fixed_ratio",
        [30.0, 50.0, 90.0],
        exchange_ratio=0.25,
        walkaway_lower=35.0,
        walkaway_upper=80.0,
        **COMMON,
    )
    assert r.below_walkaway.tolist() == [True, False, False]
    assert r.above_walkaway.tolist() == [False, False, True]


@settings(max_examples=80, deadline=None)
@given(
    structure=st.sampled_from(["fixed_ratio", "fixed_value"]),
    lower=st.floats(10.0, 100.0),
    width=st.floats(1.0, 50.0),
)
def test_collar_payoff_is_continuous_at_both_bounds(
    structure: str, lower: float, width: float
) -> None:
    upper = lower + width
    eps = 1e-7 * lower
    prices = np.array([lower - eps, lower, lower + eps, upper - eps, upper, upper + eps])
    r = exchange_offer(
        structure,
        prices,
        exchange_ratio=0.3,
        value_per_share=0.3 * (lower + upper) / 2,
        collar_lower=lower,
        collar_upper=upper,
        **COMMON,
    )
    implied = r.implied_price
    assert implied[1] == pytest.approx(implied[0], rel=1e-6)
    assert implied[1] == pytest.approx(implied[2], rel=1e-6)
    assert implied[4] == pytest.approx(implied[3], rel=1e-6)
    assert implied[4] == pytest.approx(implied[5], rel=1e-6)


@settings(max_examples=60, deadline=None)
@given(lower=st.floats(10.0, 100.0), width=st.floats(1.0, 50.0), value=st.floats(1.0, 50.0))
def test_fixed_value_is_flat_inside_the_band(lower: float, width: float, value: float) -> None:
    prices = np.linspace(lower, lower + width, 25)
    r = exchange_offer(
        "fixed_value",
        prices,
        value_per_share=value,
        collar_lower=lower,
        collar_upper=lower + width,
        **COMMON,
    )
    np.testing.assert_allclose(r.implied_price, value, rtol=1e-12)


@settings(max_examples=60, deadline=None)
@given(ratios=st.lists(st.floats(0.001, 10.0), min_size=2, max_size=20, unique=True))
def test_ownership_is_a_fraction_rising_with_the_ratio(ratios: list[float]) -> None:
    ratios = sorted(ratios)
    assume(all(b > a * (1 + 1e-9) for a, b in itertools.pairwise(ratios)))
    r = exchange_offer("fixed_ratio", 50.0, exchange_ratio=np.array(ratios), **COMMON)
    assert ((r.target_ownership > 0) & (r.target_ownership < 1)).all()
    assert (np.diff(r.target_ownership) > 0).all()


def test_vectorised_equals_scalar_calls() -> None:
    prices = np.random.default_rng(5).uniform(20, 90, (4, 6))
    together = exchange_offer(
        "fixed_ratio", prices, exchange_ratio=0.25, collar_lower=40, collar_upper=70, **COMMON
    )
    for index in np.ndindex(prices.shape):
        alone = exchange_offer(
            "fixed_ratio",
            prices[index],
            exchange_ratio=0.25,
            collar_lower=40,
            collar_upper=70,
            **COMMON,
        )
        assert together.implied_price[index] == alone.implied_price
        assert together.target_ownership[index] == alone.target_ownership


def test_inverse_solvers_round_trip() -> None:
    ratio = ratio_for_ownership(0.094, NEW_SHARES_PROXY / RATIO, CRWV_DILUTED)
    assert float(ratio) == pytest.approx(RATIO, rel=1e-12)
    ratio = ratio_for_premium(0.5, 10.0, 40.0, cash_per_share=3.0)
    r = exchange_offer("fixed_ratio", 40.0, exchange_ratio=ratio, cash_per_share=3.0, **COMMON)
    assert float(r.premium) == pytest.approx(0.5, rel=1e-12)


def test_premium_to_vwap() -> None:
    five_day = vwap([160.0, 165.0, 170.0], [1.0, 2.0, 1.0])
    assert float(five_day) == 165.0
    r = exchange_offer("fixed_ratio", 165.0, exchange_ratio=0.1, vwap=8.25, **COMMON)
    assert float(r.premium_to_vwap) == pytest.approx(16.5 / 8.25 - 1, rel=1e-12)


def test_grid_of_ratio_by_price_is_one_broadcast_call() -> None:
    grid = exchange_grid([0.1, 0.2, 0.3], [40.0, 50.0], **COMMON)
    assert grid.implied_price.shape == (3, 2)
    assert grid.implied_price[2, 1] == pytest.approx(15.0)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"structure": "floating"}, "structure"),
        ({"acquirer_price": -1.0}, "acquirer_price"),
        ({"acquirer_price": float("nan")}, "acquirer_price"),
        ({"exchange_ratio": None}, "exchange_ratio"),
        ({"collar_lower": 60.0, "collar_upper": 50.0}, "collar_lower"),
        ({"collar_lower": 60.0}, "collar"),
        ({"target_diluted_shares": 0.0}, "target_diluted_shares"),
    ],
)
def test_bad_terms_name_the_field(kwargs: dict, field: str) -> None:
    args = {"structure": "fixed_ratio", "acquirer_price": 50.0, "exchange_ratio": 0.25} | COMMON
    with pytest.raises(EngineInputError) as excinfo:
        exchange_offer(**(args | kwargs))
    assert excinfo.value.field == field


def test_vwap_and_solver_worked_examples() -> None:
    """docs/methodology.md §4, numbers worked by hand there."""
    assert float(vwap([10.0, 12.0], [100.0, 300.0])) == pytest.approx(11.5, rel=1e-12)
    r = ratio_for_ownership(0.094, 321_341_182.0, 382.5e6)
    assert float(r) == pytest.approx(0.1234993605, rel=1e-9)
    assert float(ratio_for_premium(0.5, 12.30, 165.20, 2.0)) == pytest.approx(
        0.0995762712, rel=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(
    prices=st.lists(st.floats(5.0, 200.0), min_size=1, max_size=12),
    structure=st.sampled_from(["fixed_ratio", "fixed_value"]),
    band=st.tuples(st.floats(20.0, 80.0), st.floats(1.0, 60.0)),
)
def test_vectorised_offer_equals_a_loop_of_scalar_calls(
    prices: list[float], structure: str, band: tuple[float, float]
) -> None:
    terms = {
        "exchange_ratio": 0.25,
        "value_per_share": 13.0,
        "collar_lower": band[0],
        "collar_upper": band[0] + band[1],
        **COMMON,
    }
    together = exchange_offer(structure, np.array(prices), **terms)
    for i, price in enumerate(prices):
        alone = exchange_offer(structure, price, **terms)
        assert together.effective_ratio[i] == alone.effective_ratio
        assert together.implied_price[i] == alone.implied_price
        assert together.target_ownership[i] == alone.target_ownership
