"""Worked examples (docs/methodology.md) for WACC, dilution, synergies and accretion."""

from dataclasses import replace

import numpy as np
import pytest

from app.engine import (
    EngineInputError,
    ProFormaInputs,
    SynergyInputs,
    accretion_dilution,
    breakeven_synergies,
    capm_cost_of_equity,
    contribution,
    diluted_shares,
    ev_per_mw,
    relever_beta,
    synergy_split,
    synergy_value,
    treasury_stock_method,
    unlever_beta,
    wacc,
)

REL = 1e-9


def test_wacc_worked_example() -> None:
    assert float(capm_cost_of_equity(0.043, 1.4, 0.055, 0.01)) == pytest.approx(0.13, rel=REL)
    r = wacc(
        risk_free=0.04,
        beta=1.2,
        equity_risk_premium=0.05,
        pre_tax_cost_of_debt=0.06,
        tax_rate=0.25,
        debt_weight=0.3,
    )
    assert float(r.cost_of_equity) == pytest.approx(0.10, rel=REL)
    assert float(r.after_tax_cost_of_debt) == pytest.approx(0.045, rel=REL)
    assert float(r.wacc) == pytest.approx(0.7 * 0.10 + 0.3 * 0.045, rel=REL)


def test_hamada_unlever_relever_round_trip() -> None:
    unlevered = unlever_beta(1.3, 0.5, 0.25)
    assert float(unlevered) == pytest.approx(1.3 / 1.375, rel=REL)
    assert float(relever_beta(unlevered, 0.5, 0.25)) == pytest.approx(1.3, rel=REL)
    relevered = wacc(
        risk_free=0.04,
        beta=1.0,
        beta_is_unlevered=True,
        equity_risk_premium=0.05,
        pre_tax_cost_of_debt=0.06,
        tax_rate=0.25,
        debt_weight=0.2,
    )
    assert float(relevered.levered_beta) == pytest.approx(1 + 0.75 * 0.25, rel=REL)


def test_wacc_rejects_percent_inputs() -> None:
    with pytest.raises(EngineInputError) as excinfo:
        wacc(
            risk_free=4.3,
            beta=1.2,
            equity_risk_premium=0.05,
            pre_tax_cost_of_debt=0.06,
            tax_rate=0.25,
            debt_weight=0.3,
        )
    assert excinfo.value.field == "risk_free"


def test_treasury_stock_method_and_if_converted() -> None:
    # 100 options at $10 and 50 at $30, price $20: only the first are in the money.
    assert float(treasury_stock_method([100.0, 50.0], [10.0, 30.0], 20.0)) == 50.0
    d = diluted_shares(
        1000.0,
        np.array([20.0, 40.0]),
        options=([100.0], [10.0]),
        warrants=([60.0], [30.0]),
        rsus=10.0,
        convertibles=([200.0], [25.0]),
    )
    np.testing.assert_allclose(d.options, [50.0, 75.0])
    np.testing.assert_allclose(d.warrants, [0.0, 15.0])
    np.testing.assert_allclose(d.convertibles, [0.0, 200.0])  # converts only above $25
    np.testing.assert_allclose(d.total, [1060.0, 1300.0])
    # The note's principal (200 x $25) leaves debt only where it converts.
    np.testing.assert_allclose(d.converted_principal, [0.0, 5000.0])
    explicit = diluted_shares(
        1000.0, 40.0, convertibles=([200.0], [25.0]), convertible_principal=[4800.0]
    )
    assert float(explicit.converted_principal) == 4800.0


def test_synergy_worked_example() -> None:
    r = synergy_value(
        SynergyInputs(
            run_rate_cost=100.0,
            phase_in=[0.5, 1.0],
            costs_to_achieve=[50.0, 0.0],
            tax_rate=0.25,
            discount_rate=0.10,
            terminal_growth=0.0,
        )
    )
    np.testing.assert_allclose(r.pre_tax, [0.0, 100.0])
    np.testing.assert_allclose(r.after_tax, [0.0, 75.0])
    assert float(r.terminal_value) == pytest.approx(750.0, rel=REL)
    assert float(r.npv) == pytest.approx(75 / 1.21 + 750 / 1.21, rel=REL)


def test_revenue_synergies_count_at_their_margin_not_in_full() -> None:
    r = synergy_value(
        SynergyInputs(
            run_rate_cost=0.0,
            run_rate_revenue=1000.0,
            revenue_synergy_margin=0.2,
            phase_in=[1.0],
            costs_to_achieve=[0.0],
            tax_rate=0.0,
            discount_rate=0.1,
        )
    )
    assert float(r.pre_tax[0]) == 200.0


def test_breakeven_synergies_pay_exactly_the_premium() -> None:
    inputs = SynergyInputs(
        run_rate_cost=100.0,
        phase_in=[0.5, 1.0, 1.0],
        costs_to_achieve=[40.0, 10.0, 0.0],
        tax_rate=0.21,
        discount_rate=0.09,
        terminal_growth=0.01,
        mid_year=True,
    )
    run_rate = breakeven_synergies(500.0, inputs)
    npv = synergy_value(replace(inputs, run_rate_cost=run_rate)).npv
    assert float(npv) == pytest.approx(500.0, rel=REL)


def test_synergy_split() -> None:
    s = synergy_split(100.0, 0.25, 40.0)
    assert (float(s.target), float(s.acquirer)) == (55.0, 45.0)
    assert float(s.target + s.acquirer) == 100.0


def test_accretion_worked_example() -> None:
    r = accretion_dilution(
        ProFormaInputs(
            acquirer_net_income=[100.0, 110.0],
            target_net_income=[20.0, 22.0],
            acquirer_shares=100.0,
            new_shares=25.0,
            synergies_pre_tax=[20.0, 40.0],
            tax_rate=0.25,
            cash_used=100.0,
            interest_rate_on_cash=0.04,
            new_debt=200.0,
            new_debt_rate=0.05,
            intangibles_writeup=30.0,
            amortisation_years=1.5,
        )
    )
    # Year 1: 100 + 20 + 15 - 3 - 7.5 - 15 = 109.5 on 125 shares. Year 2: half a year of
    # amortisation: 110 + 22 + 30 - 3 - 7.5 - 7.5 = 144.
    np.testing.assert_allclose(r.pro_forma_net_income, [109.5, 144.0], rtol=REL)
    np.testing.assert_allclose(r.pro_forma_eps, [0.876, 1.152], rtol=REL)
    np.testing.assert_allclose(r.accretion, [0.876 - 1, 1.152 / 1.1 - 1], rtol=REL)
    zero = 1.0 * 125 - (109.5 - 15)
    assert float(r.breakeven_synergies[0]) == pytest.approx(zero / 0.75, rel=REL)


def test_contribution_and_ev_per_mw() -> None:
    shares = contribution(
        {"revenue": np.array([300.0, 330.0]), "net_income": 30.0},
        {"revenue": np.array([100.0, 170.0]), "net_income": 10.0},
    )
    np.testing.assert_allclose(shares["revenue"], [0.25, 0.34])
    assert float(shares["net_income"]) == 0.25
    assert float(ev_per_mw(10.4e9, 1300.0)) == pytest.approx(8.0e6)
    with pytest.raises(EngineInputError):
        ev_per_mw(1.0, 0.0)


def test_contribution_is_blank_when_a_company_loses_money() -> None:
    shares = contribution({"net_income": np.array([-30.0, 50.0])}, {"net_income": [10.0, 50.0]})
    assert np.isnan(shares["net_income"][0]) and shares["net_income"][1] == 0.5


def test_contribution_ev_per_mw_and_accretion_worked_examples() -> None:
    """docs/methodology.md §6: 25% contribution, n.m. on a loss, $10.0M per MW, n.m. accretion."""
    shares = contribution(
        {"revenue": 300.0, "net_income": 50.0}, {"revenue": 100.0, "net_income": -10.0}
    )
    assert float(shares["revenue"]) == 0.25 and np.isnan(shares["net_income"])
    assert float(ev_per_mw(13.0e9, 1300.0)) == pytest.approx(10.0e6, rel=1e-12)
    r = accretion_dilution(
        ProFormaInputs(
            acquirer_net_income=[-10.0, 100.0],
            target_net_income=[20.0, 20.0],
            acquirer_shares=100.0,
            new_shares=25.0,
            synergies_pre_tax=[0.0, 20.0],
            tax_rate=0.25,
        )
    )
    assert np.isnan(r.accretion[0]) and r.pro_forma_eps[0] == pytest.approx(0.08, rel=1e-12)
    assert r.accretion[1] == pytest.approx(0.08, rel=1e-12)  # 135 / 125 = 1.08 vs 1.00


def test_hamada_relevered_wacc_from_an_asset_beta() -> None:
    """An asset beta of 1.0 at a 20% debt weight and 25% tax: bL = 1 + 0.75 x 0.25 = 1.1875."""
    r = wacc(
        risk_free=0.04,
        beta=1.0,
        beta_is_unlevered=True,
        equity_risk_premium=0.05,
        pre_tax_cost_of_debt=0.06,
        tax_rate=0.25,
        debt_weight=0.2,
    )
    assert float(r.levered_beta) == pytest.approx(1.1875, rel=1e-12)
    assert float(r.wacc) == pytest.approx(0.8 * (0.04 + 1.1875 * 0.05) + 0.2 * 0.045, rel=1e-12)
