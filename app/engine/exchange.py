"""Stock-for-stock offer terms: fixed ratio or fixed value, collars, ownership, inverse solvers.

Every function broadcasts over acquirer price paths of any shape. One collar implementation
serves both structures: the acquirer price is clipped into the band, and

- fixed ratio r:  ratio = r x clip(P) / P   (r inside; r x lower/P below; r x upper/P above)
- fixed value V:  ratio = V / clip(P)       (V/P inside; V/lower below; V/upper above)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from app.engine import checks
from app.engine.checks import Array
from app.engine.errors import EngineInputError

__all__ = [
    "STRUCTURES",
    "ExchangeResult",
    "exchange_offer",
    "ratio_for_ownership",
    "ratio_for_premium",
    "vwap",
]

STRUCTURES = ("fixed_ratio", "fixed_value")


@dataclass(frozen=True)
class ExchangeResult:
    effective_ratio: Array
    implied_price: Array
    premium: Array
    premium_to_vwap: Array | None
    equity_value: Array
    enterprise_value: Array
    new_shares: Array
    target_ownership: Array
    acquirer_ownership: Array
    below_walkaway: Array
    above_walkaway: Array


def _band(name: str, lower: float | None, upper: float | None) -> tuple[Array, Array] | None:
    if lower is None and upper is None:
        return None
    if lower is None or upper is None:
        raise EngineInputError(name, "needs both a lower and an upper price")
    lo = checks.positive(f"{name}_lower", lower)
    hi = checks.positive(f"{name}_upper", upper)
    if (lo >= hi).any():
        raise EngineInputError(f"{name}_lower", "must be below the upper bound")
    return lo, hi


def exchange_offer(
    structure: str,
    acquirer_price: ArrayLike,
    target_unaffected_price: ArrayLike,
    target_diluted_shares: ArrayLike,
    acquirer_diluted_shares: ArrayLike,
    exchange_ratio: ArrayLike | None = None,
    value_per_share: ArrayLike | None = None,
    cash_per_share: ArrayLike = 0.0,
    collar_lower: float | None = None,
    collar_upper: float | None = None,
    walkaway_lower: float | None = None,
    walkaway_upper: float | None = None,
    target_net_debt: ArrayLike = 0.0,
    vwap: ArrayLike | None = None,
) -> ExchangeResult:
    """What the target's holders receive at each acquirer price, and what they end up owning.

    >>> r = exchange_offer("fixed_ratio", 165.20, 12.30, 441.2e6, 382.5e6, exchange_ratio=0.1235)
    >>> round(float(r.implied_price), 2), round(float(r.premium), 4)
    (20.4, 0.6587)
    """
    if structure not in STRUCTURES:
        raise EngineInputError("structure", f"must be one of {', '.join(STRUCTURES)}")
    price = checks.positive("acquirer_price", acquirer_price)
    unaffected = checks.positive("target_unaffected_price", target_unaffected_price)
    target_shares = checks.positive("target_diluted_shares", target_diluted_shares)
    acquirer_shares = checks.positive("acquirer_diluted_shares", acquirer_diluted_shares)
    cash = checks.positive("cash_per_share", cash_per_share, allow_zero=True)
    net_debt = checks.finite("target_net_debt", target_net_debt)
    collar = _band("collar", collar_lower, collar_upper)
    clipped = np.clip(price, *collar) if collar else price
    if structure == "fixed_ratio":
        if exchange_ratio is None:
            raise EngineInputError("exchange_ratio", "is required for a fixed_ratio offer")
        ratio = checks.positive("exchange_ratio", exchange_ratio) * (clipped / price)
    else:
        if value_per_share is None:
            raise EngineInputError("value_per_share", "is required for a fixed_value offer")
        ratio = checks.positive("value_per_share", value_per_share) / clipped
    implied = cash + ratio * price
    new_shares = ratio * target_shares
    ownership = new_shares / (acquirer_shares + new_shares)
    walkaway = _band("walkaway", walkaway_lower, walkaway_upper)
    below = price < walkaway[0] if walkaway else np.zeros(np.shape(price), dtype=bool)
    above = price > walkaway[1] if walkaway else np.zeros(np.shape(price), dtype=bool)
    equity = implied * target_shares
    return ExchangeResult(
        effective_ratio=ratio,
        implied_price=implied,
        premium=implied / unaffected - 1.0,
        premium_to_vwap=None if vwap is None else implied / checks.positive("vwap", vwap) - 1.0,
        equity_value=equity,
        enterprise_value=equity + net_debt,
        new_shares=new_shares,
        target_ownership=ownership,
        acquirer_ownership=1.0 - ownership,
        below_walkaway=below,
        above_walkaway=above,
    )


def vwap(prices: ArrayLike, volumes: ArrayLike) -> Array:
    """Volume-weighted average price over the last axis (the trading days).

    >>> float(vwap([10.0, 12.0], [100.0, 300.0]))
    11.5
    """
    p = checks.positive("prices", prices)
    v = checks.positive("volumes", volumes, allow_zero=True)
    total = v.sum(axis=-1)
    if (total <= 0).any():
        raise EngineInputError("volumes", "sum to zero")
    return (p * v).sum(axis=-1) / total


def ratio_for_ownership(
    target_ownership: ArrayLike,
    target_diluted_shares: ArrayLike,
    acquirer_diluted_shares: ArrayLike,
) -> Array:
    """The ratio that gives target holders a wanted share: r = s A / ((1 - s) T).

    >>> round(float(ratio_for_ownership(0.094, 321341182.0, 382.5e6)), 4)
    0.1235
    """
    s = checks.rate("target_ownership", target_ownership, low=0.0)
    if ((s <= 0) | (s >= 1)).any():
        raise EngineInputError("target_ownership", "must be strictly between 0 and 1")
    return (
        s
        * checks.positive("acquirer_diluted_shares", acquirer_diluted_shares)
        / ((1.0 - s) * checks.positive("target_diluted_shares", target_diluted_shares))
    )


def ratio_for_premium(
    premium: ArrayLike,
    target_unaffected_price: ArrayLike,
    acquirer_price: ArrayLike,
    cash_per_share: ArrayLike = 0.0,
) -> Array:
    """The ratio that pays a wanted premium: r = ((1 + premium) U - cash) / P.

    >>> round(float(ratio_for_premium(0.1235 * 165.20 / 12.30 - 1, 12.30, 165.20)), 10)
    0.1235
    """
    target_price = (1.0 + checks.finite("premium", premium)) * checks.positive(
        "target_unaffected_price", target_unaffected_price
    )
    stock_part = target_price - checks.positive("cash_per_share", cash_per_share, allow_zero=True)
    if (stock_part <= 0).any():
        raise EngineInputError("cash_per_share", "already pays the whole offer; no stock needed")
    return stock_part / checks.positive("acquirer_price", acquirer_price)
