"""Pro forma EPS accretion/dilution, contribution analysis and EV per MW."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from app.engine import checks
from app.engine.checks import Array
from app.engine.errors import EngineInputError

__all__ = [
    "AccretionResult",
    "ProFormaInputs",
    "accretion_dilution",
    "contribution",
    "ev_per_mw",
]


@dataclass(frozen=True)
class ProFormaInputs:
    """Per-year net incomes on the last axis; rates are pre-tax and taxed at `tax_rate`."""

    acquirer_net_income: ArrayLike
    target_net_income: ArrayLike
    acquirer_shares: ArrayLike
    new_shares: ArrayLike
    synergies_pre_tax: ArrayLike
    tax_rate: ArrayLike
    cash_used: ArrayLike = 0.0
    interest_rate_on_cash: ArrayLike = 0.0
    new_debt: ArrayLike = 0.0
    new_debt_rate: ArrayLike = 0.0
    intangibles_writeup: ArrayLike = 0.0
    amortisation_years: ArrayLike = 1.0


@dataclass(frozen=True)
class AccretionResult:
    standalone_eps: Array
    pro_forma_net_income: Array
    pro_forma_shares: Array
    pro_forma_eps: Array
    accretion: Array
    breakeven_synergies: Array


def accretion_dilution(inputs: ProFormaInputs) -> AccretionResult:
    """Pro forma EPS against the acquirer's standalone EPS, year by year.

    Pro forma net income = acquirer NI + target NI + synergies x (1 - t)
    - cash used x rate on cash x (1 - t) - new debt x rate x (1 - t)
    - straight-line amortisation of the intangibles write-up x (1 - t).
    Breakeven synergies are the pre-tax synergies that make accretion exactly zero.
    Accretion is NaN (not meaningful) in a year the acquirer's standalone EPS is not
    positive: a percentage change on a loss reads backwards ("+36%" as a loss shrinks).

    >>> r = accretion_dilution(ProFormaInputs(acquirer_net_income=[100.0],
    ...     target_net_income=[20.0], acquirer_shares=100.0, new_shares=25.0,
    ...     synergies_pre_tax=[20.0], tax_rate=0.25))
    >>> [round(float(x[0]), 9) for x in (r.pro_forma_eps, r.accretion, r.breakeven_synergies)]
    [1.08, 0.08, 6.666666667]
    >>> r = accretion_dilution(ProFormaInputs(acquirer_net_income=[-10.0],
    ...     target_net_income=[20.0], acquirer_shares=100.0, new_shares=25.0,
    ...     synergies_pre_tax=[0.0], tax_rate=0.25))
    >>> float(r.accretion[0]), round(float(r.pro_forma_eps[0]), 9)
    (nan, 0.08)
    """
    acquirer_ni = checks.finite("acquirer_net_income", inputs.acquirer_net_income)
    if acquirer_ni.ndim == 0:
        raise EngineInputError("acquirer_net_income", "needs one value per projection year")
    n = acquirer_ni.shape[-1]
    target_ni = checks.years(
        "target_net_income", checks.finite("target_net_income", inputs.target_net_income), n
    )
    synergies = checks.years(
        "synergies_pre_tax", checks.finite("synergies_pre_tax", inputs.synergies_pre_tax), n
    )
    tax = checks.rate("tax_rate", inputs.tax_rate, low=0.0)[..., np.newaxis]
    shares = checks.positive("acquirer_shares", inputs.acquirer_shares)[..., np.newaxis]
    new = checks.positive("new_shares", inputs.new_shares, allow_zero=True)[..., np.newaxis]
    cash = checks.positive("cash_used", inputs.cash_used, allow_zero=True)[..., np.newaxis]
    cash_rate = checks.rate("interest_rate_on_cash", inputs.interest_rate_on_cash)[..., np.newaxis]
    debt = checks.positive("new_debt", inputs.new_debt, allow_zero=True)[..., np.newaxis]
    debt_rate = checks.rate("new_debt_rate", inputs.new_debt_rate)[..., np.newaxis]
    writeup = checks.positive("intangibles_writeup", inputs.intangibles_writeup, allow_zero=True)
    life = checks.positive("amortisation_years", inputs.amortisation_years)
    # Fraction of each year still inside the amortisation life (the last may be partial).
    year_start = np.arange(n, dtype=np.float64)
    in_life = np.clip(life[..., np.newaxis] - year_start, 0.0, 1.0)
    amortisation = (writeup / life)[..., np.newaxis] * in_life

    keep = 1.0 - tax
    before_synergies = (
        acquirer_ni
        + target_ni
        - cash * cash_rate * keep
        - debt * debt_rate * keep
        - amortisation * keep
    )
    pro_forma_ni = before_synergies + synergies * keep
    pro_forma_shares = shares + new
    standalone = acquirer_ni / shares
    pro_forma = pro_forma_ni / pro_forma_shares
    return AccretionResult(
        standalone_eps=standalone,
        pro_forma_net_income=pro_forma_ni,
        pro_forma_shares=np.broadcast_to(pro_forma_shares, pro_forma.shape).copy(),
        pro_forma_eps=pro_forma,
        accretion=np.where(standalone > 0, (pro_forma - standalone) / np.abs(standalone), np.nan),
        breakeven_synergies=(standalone * pro_forma_shares - before_synergies) / keep,
    )


def contribution(
    acquirer: Mapping[str, ArrayLike], target: Mapping[str, ArrayLike]
) -> dict[str, Array]:
    """The target's share of each combined metric, to set against its ownership.

    A share is only meaningful when both companies' figures are non-negative; otherwise
    (a loss-making year, say) it is NaN rather than a misleading 70% or -300%.

    >>> contribution({"revenue": 300.0}, {"revenue": 100.0})
    {'revenue': array(0.25)}
    """
    missing = sorted(set(acquirer) ^ set(target))
    if missing:
        raise EngineInputError(missing[0], "must be given for both companies")
    shares = {}
    for name in acquirer:
        a = checks.finite(f"acquirer.{name}", acquirer[name])
        t = checks.finite(f"target.{name}", target[name])
        total = a + t
        meaningful = (a >= 0) & (t >= 0) & (total > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            shares[name] = np.where(meaningful, t / total, np.nan)
    return shares


def ev_per_mw(enterprise_value: ArrayLike, capacity_mw: ArrayLike) -> Array:
    """Enterprise value per megawatt of power capacity (how data-centre deals are compared).

    >>> float(ev_per_mw(13.0e9, 1300.0))
    10000000.0
    """
    return checks.finite("enterprise_value", enterprise_value) / checks.positive(
        "capacity_mw", capacity_mw
    )
