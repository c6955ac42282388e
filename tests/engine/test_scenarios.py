"""Sensitivity grids and Monte Carlo: broadcast, seeded, rule-breaking draws counted."""

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import DCFInputs, Distribution, EngineInputError, dcf, dcf_grid, monte_carlo_dcf
from app.engine.checks import MIN_SPREAD
from app.engine.dcf import prepare
from app.engine.scenarios import (
    _any,
    _one_to_two,
    _rule_breaks,
    sorted_histogram,
    sorted_percentiles,
    sorted_share_above,
    standard_normals,
)

BASE = DCFInputs(
    base_revenue=1.0e9,
    revenue_growth=[0.08] * 10,
    ebit_margin=[0.2] * 10,
    da_pct_revenue=0.04,
    capex_pct_revenue=0.05,
    nwc_pct_revenue=0.1,
    tax_rate=0.25,
    wacc=0.09,
    diluted_shares=1.0e8,
    terminal_growth=0.02,
)


def test_grid_equals_single_valuations_and_blanks_broken_cells() -> None:
    w = np.array([0.02, 0.08, 0.10])
    g = np.array([0.0, 0.02, 0.03])
    grid = dcf_grid(BASE, wacc=w, terminal_growth=g)
    assert grid.value_per_share.shape == (3, 3)
    for i, wi in enumerate(w):
        for j, gj in enumerate(g):
            if wi - gj < 0.005:
                assert np.isnan(grid.value_per_share[i, j])
                assert grid.invalid[i, j]
            else:
                single = dcf(replace(BASE, wacc=wi, terminal_growth=gj))
                assert grid.value_per_share[i, j] == single.value_per_share
    assert grid.n_invalid == 2  # 0.02 - 0.02 and 0.02 - 0.03


@pytest.mark.parametrize(
    ("rows", "row_values", "columns", "column_values", "changes"),
    [
        ("wacc", [0.08, 0.1], "exit_multiple", [8.0, 12.0], {"terminal_method": "exit_multiple"}),
        ("wacc", [0.08, 0.1], "terminal_growth", [0.0, 0.02], {"mid_year": True}),
        ("tax_rate", [0.2, 0.3], "nwc_pct_revenue", [0.05, 0.1, 0.2], {}),
        ("debt", [0.0, 5.0e8], "diluted_shares", [9.0e7, 1.1e8], {}),
    ],
)
def test_every_grid_cell_equals_its_single_valuation_bit_for_bit(
    rows: str,
    row_values: list[float],
    columns: str,
    column_values: list[float],
    changes: dict[str, object],
) -> None:
    """Axes the years do not depend on only widen the tail: the numbers stay the same bits."""
    base = replace(BASE, exit_multiple=10.0, **changes)
    grid = dcf_grid(base, **{rows: row_values, columns: column_values})
    assert grid.value_per_share.shape == (len(row_values), len(column_values))
    for i, r in enumerate(row_values):
        for j, c in enumerate(column_values):
            single = dcf(replace(base, **{rows: r, columns: c}))
            assert grid.enterprise_value[i, j] == single.enterprise_value
            assert grid.value_per_share[i, j] == single.value_per_share


def test_a_rule_broken_by_a_shared_input_breaks_every_cell() -> None:
    rows = np.array([[False], [True]])
    assert _any({"shared": np.bool_(False), "per row": rows}, (2, 3)).tolist() == [
        [False] * 3,
        [True] * 3,
    ]
    assert _any({"shared": np.bool_(True), "per row": rows}, (2, 3)).all()


def test_grid_wacc_by_exit_multiple() -> None:
    base = replace(BASE, terminal_method="exit_multiple", exit_multiple=10.0)
    grid = dcf_grid(base, wacc=[0.08, 0.1], exit_multiple=[8.0, 10.0, 12.0])
    assert (np.diff(grid.value_per_share, axis=1) > 0).all()
    assert (np.diff(grid.value_per_share, axis=0) < 0).all()


DRAWS = {
    "revenue_growth": Distribution("normal", sd=0.03),
    "ebit_margin": Distribution("normal", sd=0.03),
    "wacc": Distribution("triangular", low=-0.02, mode=0.0, high=0.02),
}


def test_same_seed_same_numbers_whatever_the_thread_count() -> None:
    one = monte_carlo_dcf(BASE, DRAWS, 50_000, seed=11, offer_price=25.0, block_size=8192)
    again = monte_carlo_dcf(BASE, DRAWS, 50_000, seed=11, offer_price=25.0, block_size=8192)
    two = monte_carlo_dcf(
        BASE, DRAWS, 50_000, seed=11, offer_price=25.0, block_size=8192, threads=2
    )
    assert one == again == two
    other = monte_carlo_dcf(BASE, DRAWS, 50_000, seed=12, offer_price=25.0, block_size=8192)
    assert other.percentiles != one.percentiles


def test_monte_carlo_centres_on_the_base_case() -> None:
    base_value = float(dcf(BASE).value_per_share)
    shocks = {"wacc": Distribution("normal", sd=0.001)}
    r = monte_carlo_dcf(BASE, shocks, 20_000, seed=1, offer_price=base_value)
    assert r.percentiles[50] == pytest.approx(base_value, rel=0.01)
    assert 0.4 < r.prob_above_offer < 0.6
    assert r.percentiles[5] < r.percentiles[25] < r.percentiles[50] < r.percentiles[75]


def test_rule_breaking_draws_are_counted_not_kept() -> None:
    # WACC drawn around 3% against 2% growth: many draws leave WACC - g under the guard.
    risky = {"wacc": Distribution("uniform", low=0.0, high=0.03, apply="replace")}
    r = monte_carlo_dcf(BASE, risky, 10_000, seed=3)
    assert r.n_rejected > 0
    assert r.n_valid + r.n_rejected == 10_000
    assert r.n_rejected == pytest.approx(10_000 * 0.025 / 0.03, rel=0.05)
    # WACC uniform on [0, 3%): below 2.5% breaks the spread guard, at exactly 0 the WACC rule.
    assert r.rejected_by_rule["WACC - g below 0.005"] == r.n_rejected


def test_every_rule_a_single_valuation_enforces_is_counted() -> None:
    """A tax rate drawn around 25% with sd 40% leaves [0, 1) about 27% of the time; each such
    draw is counted under its rule and excluded, never valued."""
    wild = {"tax_rate": Distribution("normal", sd=0.4)}
    r = monte_carlo_dcf(BASE, wild, 100_000, seed=5)
    outside = r.rejected_by_rule["tax rate outside [0, 1)"]
    # P(N(0.25, 0.4) < 0) + P(N(0.25, 0.4) >= 1) = 0.2660 + 0.0304
    assert outside / 100_000 == pytest.approx(0.2964, abs=0.005)
    assert r.n_rejected == outside and r.n_valid == 100_000 - outside
    margin = monte_carlo_dcf(BASE, {"ebit_margin": Distribution("normal", sd=0.5)}, 20_000, seed=6)
    # Ten years per path: one year beyond |margin| 1 rejects the whole path.
    assert margin.rejected_by_rule["EBIT margin outside [-100%, 100%]"] == margin.n_rejected > 0


@pytest.mark.parametrize(
    ("field", "edge", "beyond", "edge_breaks", "rule"),
    [
        ("revenue_growth", -1.0, -1.5, True, "revenue growth at or below -100%"),
        ("ebit_margin", 1.0, 1.0001, False, "EBIT margin outside [-100%, 100%]"),
        ("ebit_margin", -1.0, -1.0001, False, "EBIT margin outside [-100%, 100%]"),
        ("capex_pct_revenue", 0.0, -0.0001, False, "D&A or capex below zero"),
        ("da_pct_revenue", 0.0, -0.0001, False, "D&A or capex below zero"),
    ],
)
def test_a_path_with_one_year_past_a_per_year_rule_breaks_it(
    field: str, edge: float, beyond: float, edge_breaks: bool, rule: str
) -> None:
    """Four paths: fine, one year at the rule's edge, one year beyond it, fine; and all four
    fine (decided without a mask, from the span)."""
    p = prepare(BASE)
    paths = np.full((4, 10), 0.05)
    paths[1, 3], paths[2, 7] = edge, beyond
    broken = _rule_breaks(p, p.values | {field: paths}, MIN_SPREAD)[rule]
    assert broken.tolist() == [False, edge_breaks, True, False]
    fine = _rule_breaks(p, p.values | {field: np.full((4, 10), 0.05)}, MIN_SPREAD)[rule]
    assert fine.tolist() == [False] * 4


def test_distributions_have_their_stated_moments() -> None:
    rng = np.random.Generator(np.random.SFC64(0))
    n = (200_000,)
    normal = Distribution("normal", mean=1.0, sd=2.0).sample(rng, n, np.float64)
    lognormal = Distribution("lognormal", mean=1.0, sd=0.2).sample(rng, n, np.float64)
    triangular = Distribution("triangular", low=0.0, mode=1.0, high=4.0).sample(rng, n, np.float64)
    uniform = Distribution("uniform", low=-1.0, high=3.0).sample(rng, n, np.float32)
    assert normal.mean() == pytest.approx(1.0, abs=0.02) and normal.std() == pytest.approx(
        2.0, rel=0.01
    )
    assert lognormal.mean() == pytest.approx(1.0, rel=0.005)
    assert lognormal.std() == pytest.approx(0.2, rel=0.02)
    assert triangular.mean() == pytest.approx(5 / 3, rel=0.01)
    assert uniform.dtype == np.float32 and uniform.mean() == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    ("draws", "field"),
    [
        ({"colour": Distribution("normal", sd=1.0)}, "colour"),
        ({"wacc": Distribution("normal", sd=0.0)}, "wacc.sd"),
        ({"wacc": Distribution("poisson")}, "wacc.kind"),
        ({"wacc": Distribution("triangular", low=0.0, mode=2.0, high=1.0)}, "wacc.mode"),
    ],
)
def test_bad_distributions_name_the_field(draws: dict, field: str) -> None:
    with pytest.raises(EngineInputError) as excinfo:
        monte_carlo_dcf(BASE, draws, 100, seed=1)
    assert excinfo.value.field == field


def test_draws_do_not_depend_on_the_order_of_the_distributions() -> None:
    # PostgreSQL's JSONB reorders object keys; a stored version must value the same anyway.
    reordered = dict(reversed(list(DRAWS.items())))
    assert monte_carlo_dcf(BASE, DRAWS, 5_000, seed=2) == monte_carlo_dcf(
        BASE, reordered, 5_000, seed=2
    )


def test_grid_worked_example() -> None:
    """docs/methodology.md §7: the §1 company on WACC {9%, 10%} x g {2%, 3%}."""
    from tests.engine.test_dcf import EXAMPLE as company

    grid = dcf_grid(company, wacc=[0.09, 0.10], terminal_growth=[0.02, 0.03])
    expected = [[22.4080945567, 26.1665965267], [19.1931818182, 21.9610389610]]
    np.testing.assert_allclose(grid.value_per_share, expected, rtol=1e-9)


def test_distribution_worked_examples() -> None:
    """Lognormal parameters and the triangular inverse CDF, as worked in §7."""
    import math

    sigma2 = math.log1p((0.02 / 0.10) ** 2)
    assert sigma2 == pytest.approx(0.0392207131533, rel=1e-9)
    assert math.log(0.10) - sigma2 / 2 == pytest.approx(-2.32219544957, rel=1e-9)

    class FixedUniforms:
        def random(self, shape, dtype):
            return np.array([0.1, 0.5], dtype=dtype)

    draws = Distribution("triangular", low=0.0, mode=1.0, high=4.0).sample(
        FixedUniforms(), (2,), np.float64
    )
    np.testing.assert_allclose(draws, [0.632455532034, 1.55051025722], rtol=1e-9)


def test_grid_axis_no_valuation_takes_is_refused_by_name() -> None:
    with pytest.raises(EngineInputError) as excinfo:
        dcf_grid(BASE, wacc=[-0.01, 0.09], terminal_growth=[0.02])
    assert excinfo.value.field == "wacc"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, 1.5]),
        min_size=1,
        max_size=400,
    )
)
def test_percentiles_and_histogram_from_one_sort_equal_numpys(values: list[float]) -> None:
    """The Monte Carlo reads its percentiles and histogram off one sort; they must be what
    np.percentile and np.histogram give, value for value (ties and single values included)."""
    x = np.array(values)
    q = (0.5, 5, 25, 50, 75, 95, 99.5)
    ordered = np.sort(x)
    ours = sorted_percentiles(ordered, q)
    assert ours == np.percentile(x, q).tolist()
    counts, edges = np.histogram(x, bins=40, range=(ours[0], ours[-1]))
    ours_counts, ours_edges = sorted_histogram(ordered, 40, (ours[0], ours[-1]))
    assert ours_edges.tolist() == edges.tolist()
    assert ours_counts.tolist() == counts.tolist()
    # P(x > offer), read off the sort as the Monte Carlo does, is the mean of the comparison.
    offer = ours[3]
    assert sorted_share_above(ordered, offer) == float((x > offer).mean())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_box_muller_normals_are_standard_normal(dtype: type) -> None:
    rng = np.random.Generator(np.random.SFC64(3))
    z = standard_normals(rng, (3, 100_001), dtype)  # an odd count: the last sine is dropped
    assert z.shape == (3, 100_001) and z.dtype == dtype
    flat = z.astype(np.float64).ravel()
    assert abs(flat.mean()) < 0.01 and flat.std() == pytest.approx(1.0, abs=0.01)
    # The tails and the middle where a standard normal has them (Phi(-1.96) = 0.025).
    assert np.mean(flat < -1.96) == pytest.approx(0.025, abs=0.002)
    assert np.mean(flat > 1.96) == pytest.approx(0.025, abs=0.002)
    assert np.mean(np.abs(flat) < 0.674489750196) == pytest.approx(0.5, abs=0.005)
    assert np.mean(flat**4) == pytest.approx(3.0, abs=0.06)  # kurtosis of a normal
    # The two normals of each pair (r cos theta first, r sin theta a half further) are
    # uncorrelated, and so are their squares (they share the radius, yet are independent).
    pairs = (flat.size + 1) // 2
    cosines, sines = flat[: flat.size - pairs], flat[pairs:]
    assert abs(np.corrcoef(cosines, sines)[0, 1]) < 0.01
    assert abs(np.corrcoef(cosines**2, sines**2)[0, 1]) < 0.01
    assert np.isfinite(flat).all()


@pytest.mark.parametrize(("dtype", "bits"), [(np.float32, 23), (np.float64, 52)])
def test_uniforms_from_raw_words_fill_one_to_two(dtype: type, bits: int) -> None:
    """The Box-Muller transform's uniforms: every mantissa bit random, nothing outside [1, 2)."""
    u = _one_to_two(np.random.Generator(np.random.SFC64(5)), 200_001, dtype)
    assert u.shape == (200_001,) and u.dtype == dtype
    assert u.min() >= 1.0 and u.max() < 2.0
    assert u.astype(np.float64).mean() == pytest.approx(1.5, abs=0.003)
    # Each mantissa bit is set in about half the values.
    kind = np.uint32 if dtype == np.float32 else np.uint64
    words = u.view(kind)
    shares = [float(((words >> kind(b)) & kind(1)).mean()) for b in range(bits)]
    assert min(shares) > 0.49 and max(shares) < 0.51
