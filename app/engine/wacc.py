"""Cost of capital: CAPM, Hamada beta unlevering/relevering, and WACC at target weights."""

from __future__ import annotations

from dataclasses import dataclass

from numpy.typing import ArrayLike

from app.engine import checks
from app.engine.checks import Array

__all__ = [
    "WaccResult",
    "after_tax_cost_of_debt",
    "capm_cost_of_equity",
    "relever_beta",
    "unlever_beta",
    "wacc",
]


def capm_cost_of_equity(
    risk_free: ArrayLike,
    beta: ArrayLike,
    equity_risk_premium: ArrayLike,
    size_premium: ArrayLike = 0.0,
    country_premium: ArrayLike = 0.0,
) -> Array:
    """Ke = rf + beta x ERP + size premium + country premium.

    >>> float(capm_cost_of_equity(0.04, 1.2, 0.05, 0.01))
    0.11
    """
    return (
        checks.rate("risk_free", risk_free)
        + checks.positive("beta", beta) * checks.rate("equity_risk_premium", equity_risk_premium)
        + checks.rate("size_premium", size_premium)
        + checks.rate("country_premium", country_premium)
    )


def unlever_beta(levered_beta: ArrayLike, debt_to_equity: ArrayLike, tax_rate: ArrayLike) -> Array:
    """Hamada: bU = bL / (1 + (1 - t) D/E).

    >>> round(float(unlever_beta(1.3, 0.5, 0.25)), 10)
    0.9454545455
    """
    return checks.positive("levered_beta", levered_beta) / (
        1.0
        + (1.0 - checks.rate("tax_rate", tax_rate, low=0.0))
        * checks.positive("debt_to_equity", debt_to_equity, allow_zero=True)
    )


def relever_beta(
    unlevered_beta: ArrayLike, debt_to_equity: ArrayLike, tax_rate: ArrayLike
) -> Array:
    """Hamada: bL = bU x (1 + (1 - t) D/E).

    >>> float(relever_beta(1.0, 0.5, 0.2))
    1.4
    """
    return checks.positive("unlevered_beta", unlevered_beta) * (
        1.0
        + (1.0 - checks.rate("tax_rate", tax_rate, low=0.0))
        * checks.positive("debt_to_equity", debt_to_equity, allow_zero=True)
    )


def after_tax_cost_of_debt(pre_tax_cost_of_debt: ArrayLike, tax_rate: ArrayLike) -> Array:
    return checks.rate("pre_tax_cost_of_debt", pre_tax_cost_of_debt) * (
        1.0 - checks.rate("tax_rate", tax_rate, low=0.0)
    )


@dataclass(frozen=True)
class WaccResult:
    cost_of_equity: Array
    after_tax_cost_of_debt: Array
    levered_beta: Array
    debt_weight: Array
    wacc: Array


def wacc(
    *,
    risk_free: ArrayLike,
    beta: ArrayLike,
    equity_risk_premium: ArrayLike,
    pre_tax_cost_of_debt: ArrayLike,
    tax_rate: ArrayLike,
    debt_weight: ArrayLike,
    size_premium: ArrayLike = 0.0,
    country_premium: ArrayLike = 0.0,
    beta_is_unlevered: bool = False,
) -> WaccResult:
    """WACC = E/V x Ke + D/V x Kd x (1 - t), at target weights D/V = `debt_weight`.

    An unlevered beta is relevered at the target D/E = w / (1 - w) first.

    >>> r = wacc(risk_free=0.04, beta=1.2, equity_risk_premium=0.05, pre_tax_cost_of_debt=0.06,
    ...          tax_rate=0.25, debt_weight=0.3)
    >>> round(float(r.wacc), 10)
    0.0835
    """
    weight = checks.rate("debt_weight", debt_weight, low=0.0, high=0.99)
    beta_levered = (
        relever_beta(beta, weight / (1.0 - weight), tax_rate)
        if beta_is_unlevered
        else checks.positive("beta", beta)
    )
    ke = capm_cost_of_equity(
        risk_free, beta_levered, equity_risk_premium, size_premium, country_premium
    )
    kd = after_tax_cost_of_debt(pre_tax_cost_of_debt, tax_rate)
    return WaccResult(
        cost_of_equity=ke,
        after_tax_cost_of_debt=kd,
        levered_beta=beta_levered,
        debt_weight=weight,
        wacc=(1.0 - weight) * ke + weight * kd,
    )
