"""Map one saved assumption version onto the engine's inputs (and nothing else)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.assumptions.schemas import AssumptionPayload, CompanyModel
from app.engine import (
    DCFInputs,
    DilutedShares,
    SynergyInputs,
    WaccResult,
    diluted_shares,
    wacc,
)


@dataclass(frozen=True)
class CompanyInputs:
    """A company's engine inputs with the intermediate results they were built from."""

    cost_of_capital: WaccResult
    shares: DilutedShares
    dcf: DCFInputs
    interest_expense: float


def _options(items: list) -> tuple[np.ndarray, np.ndarray]:
    counts = np.array([o.count for o in items], dtype=np.float64)
    strikes = np.array([o.strike for o in items], dtype=np.float64)
    return counts, strikes


def company_shares(company: CompanyModel, price: float) -> DilutedShares:
    """Diluted shares at `price` (TSM for options, warrants, RSUs; convertibles if in the money)."""
    capital = company.shares
    return diluted_shares(
        basic=capital.basic,
        price=price,
        options=_options(capital.options),
        warrants=_options(capital.warrants),
        rsus=capital.rsus,
        convertibles=(
            np.array([c.shares for c in capital.convertibles], dtype=np.float64),
            np.array([c.conversion_price for c in capital.convertibles], dtype=np.float64),
        ),
        convertible_principal=np.array(company.convertible_principal(), dtype=np.float64),
    )


def net_debt(company: CompanyModel, shares: DilutedShares) -> float:
    """Claims ahead of equity less cash, with converted notes out of debt (they are shares)."""
    b = company.bridge
    debt = b.debt - float(shares.converted_principal)
    return debt + b.lease_liabilities + b.minority_interest + b.preferred - b.cash - b.investments


def company_inputs(company: CompanyModel) -> CompanyInputs:
    op, coc, terminal, bridge = (
        company.operating,
        company.cost_of_capital,
        company.terminal,
        company.bridge,
    )
    cost = wacc(
        risk_free=coc.risk_free,
        beta=coc.unlevered_beta if coc.unlevered_beta is not None else coc.beta,
        beta_is_unlevered=coc.unlevered_beta is not None,
        equity_risk_premium=coc.equity_risk_premium,
        size_premium=coc.size_premium,
        country_premium=coc.country_premium,
        pre_tax_cost_of_debt=coc.pre_tax_cost_of_debt,
        tax_rate=op.tax_rate,
        debt_weight=coc.debt_weight,
    )
    shares = company_shares(company, company.share_price)
    dcf = DCFInputs(
        base_revenue=op.base_revenue,
        revenue_growth=np.array(op.revenue_growth),
        ebit_margin=np.array(op.ebit_margin),
        da_pct_revenue=np.array(op.da_pct_revenue),
        capex_pct_revenue=np.array(op.capex_pct_revenue),
        nwc_pct_revenue=op.nwc_pct_revenue,
        tax_rate=op.tax_rate,
        wacc=coc.wacc if coc.wacc is not None else float(cost.wacc),
        terminal_method=terminal.method,
        terminal_growth=terminal.growth if terminal.growth is not None else 0.0,
        exit_multiple=terminal.ev_ebitda if terminal.ev_ebitda is not None else 0.0,
        mid_year=company.mid_year,
        cash=bridge.cash,
        debt=bridge.debt - float(shares.converted_principal),
        lease_liabilities=bridge.lease_liabilities,
        minority_interest=bridge.minority_interest,
        preferred=bridge.preferred,
        investments=bridge.investments,
        diluted_shares=float(shares.total),
    )
    return CompanyInputs(
        cost_of_capital=cost,
        shares=shares,
        dcf=dcf,
        # Converted notes are shares, not debt: no interest on them either (if-converted EPS).
        interest_expense=dcf.debt * coc.pre_tax_cost_of_debt,
    )


def synergy_inputs(payload: AssumptionPayload) -> SynergyInputs:
    s = payload.synergies
    return SynergyInputs(
        run_rate_cost=s.run_rate_cost,
        run_rate_revenue=s.run_rate_revenue,
        revenue_synergy_margin=s.revenue_synergy_margin,
        phase_in=np.array(s.phase_in),
        costs_to_achieve=np.array(s.costs_to_achieve),
        tax_rate=s.tax_rate,
        discount_rate=s.discount_rate,
        terminal_growth=s.terminal_growth,
        mid_year=payload.target.mid_year,
    )
