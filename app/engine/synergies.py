"""Synergy value: phased run-rate synergies less one-off costs, taxed and discounted.

Synergies are in the same currency units as everything else; nothing is rescaled.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from app.engine import checks
from app.engine.checks import MIN_SPREAD, Array
from app.engine.errors import EngineInputError

__all__ = [
    "SynergyInputs",
    "SynergyResult",
    "SynergySplit",
    "breakeven_synergies",
    "synergy_split",
    "synergy_value",
]


@dataclass(frozen=True)
class SynergyInputs:
    run_rate_cost: ArrayLike
    phase_in: ArrayLike
    costs_to_achieve: ArrayLike
    tax_rate: ArrayLike
    discount_rate: ArrayLike
    run_rate_revenue: ArrayLike = 0.0
    revenue_synergy_margin: ArrayLike = 0.0
    terminal_growth: ArrayLike = 0.0
    mid_year: bool = False


@dataclass(frozen=True)
class SynergyResult:
    run_rate: Array
    pre_tax: Array
    after_tax: Array
    discount_factors: Array
    pv: Array
    terminal_value: Array
    pv_terminal_value: Array
    npv: Array


def synergy_value(inputs: SynergyInputs) -> SynergyResult:
    """NPV of synergies: explicit years plus a Gordon tail on the final run-rate.

    Pre-tax synergies in year t = phase_in_t x (cost + revenue x margin) - costs_to_achieve_t.
    The tail grows the final year's after-tax run-rate (without one-off costs) at g.

    >>> r = synergy_value(SynergyInputs(run_rate_cost=100.0, phase_in=[0.5, 1.0],
    ...     costs_to_achieve=[50.0, 0.0], tax_rate=0.25, discount_rate=0.1))
    >>> r.after_tax.tolist(), round(float(r.npv), 6)
    ([0.0, 75.0], 681.818182)
    """
    phase = checks.rate("phase_in", inputs.phase_in, low=0.0)
    if phase.ndim == 0:
        raise EngineInputError("phase_in", "needs one value per projection year")
    n = phase.shape[-1]
    costs = checks.years(
        "costs_to_achieve",
        checks.positive("costs_to_achieve", inputs.costs_to_achieve, allow_zero=True),
        n,
    )
    cost = checks.positive("run_rate_cost", inputs.run_rate_cost, allow_zero=True)
    revenue = checks.positive("run_rate_revenue", inputs.run_rate_revenue, allow_zero=True)
    margin = checks.rate("revenue_synergy_margin", inputs.revenue_synergy_margin)
    tax = checks.rate("tax_rate", inputs.tax_rate, low=0.0)
    rate = checks.rate("discount_rate", inputs.discount_rate, low=0.0)
    growth = checks.rate("terminal_growth", inputs.terminal_growth)
    if ((rate - growth) < MIN_SPREAD).any():
        raise EngineInputError(
            "terminal_growth",
            f"the discount rate minus terminal growth is below the {MIN_SPREAD:g} minimum",
        )
    run_rate = (cost + revenue * margin)[..., np.newaxis]
    pre_tax = phase * run_rate - costs
    after_tax = pre_tax * (1.0 - tax)[..., np.newaxis]
    # Not a hot path: one power per year is clearer than the DCF kernel's recurrence.
    t = np.arange(1, n + 1, dtype=np.float64)
    growth_factor = (1.0 + rate)[..., np.newaxis]
    factors = growth_factor ** -(t - 0.5 if inputs.mid_year else t)
    pv = after_tax * factors
    tail = (phase[..., -1] * run_rate[..., 0]) * (1.0 - tax) * (1.0 + growth) / (rate - growth)
    pv_tail = tail * factors[..., -1]  # discounted like the DCF's Gordon tail
    return SynergyResult(
        run_rate=run_rate[..., 0],
        pre_tax=pre_tax,
        after_tax=after_tax,
        discount_factors=factors,
        pv=pv,
        terminal_value=tail,
        pv_terminal_value=pv_tail,
        npv=pv.sum(axis=-1) + pv_tail,
    )


def breakeven_synergies(premium_paid: ArrayLike, inputs: SynergyInputs) -> Array:
    """Run-rate pre-tax cost synergies whose NPV equals the premium paid.

    NPV is linear in the run-rate cost synergies, so two valuations give the answer exactly.
    """
    premium = checks.finite("premium_paid", premium_paid)
    without = synergy_value(replace(inputs, run_rate_cost=0.0)).npv
    per_unit = synergy_value(
        replace(inputs, run_rate_cost=1.0, run_rate_revenue=0.0, costs_to_achieve=0.0)
    ).npv
    return (premium - without) / per_unit


@dataclass(frozen=True)
class SynergySplit:
    acquirer: Array
    target: Array


def synergy_split(
    synergy_npv: ArrayLike, target_ownership: ArrayLike, premium_paid: ArrayLike
) -> SynergySplit:
    """Who keeps the synergies in a stock deal.

    Target holders receive the premium and, through their stake s in the combined company,
    s x (synergies - premium); acquirer holders keep (1 - s) x (synergies - premium).

    >>> s = synergy_split(100.0, 0.25, 40.0)
    >>> float(s.target), float(s.acquirer)
    (55.0, 45.0)
    """
    npv = checks.finite("synergy_npv", synergy_npv)
    share = checks.rate("target_ownership", target_ownership, low=0.0)
    premium = checks.finite("premium_paid", premium_paid)
    net = npv - premium
    return SynergySplit(acquirer=(1.0 - share) * net, target=premium + share * net)
