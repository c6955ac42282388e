"""Diluted share counts: treasury stock method and if-converted convertibles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from app.engine import checks
from app.engine.checks import Array

__all__ = ["DilutedShares", "diluted_shares", "treasury_stock_method"]

Instruments = tuple[ArrayLike, ArrayLike]
"""(counts, strikes): one entry per tranche."""


def treasury_stock_method(count: ArrayLike, strike: ArrayLike, price: ArrayLike) -> Array:
    """Net new shares from in-the-money options: exercise proceeds buy back shares at `price`.

    Each tranche adds count x (1 - strike / price) when price > strike, else nothing; tranches
    sit on the last axis and are summed. `price` may carry any scenario axes.

    >>> float(treasury_stock_method([100.0, 50.0], [10.0, 30.0], 20.0))
    50.0
    """
    counts = checks.positive("count", count, allow_zero=True)
    strikes = checks.positive("strike", strike, allow_zero=True)
    p = checks.positive("price", price)[..., np.newaxis]
    if counts.ndim == 0:
        counts, strikes = counts[np.newaxis], np.broadcast_to(strikes, (1,))
    added = counts * np.maximum(1.0 - strikes / p, 0.0)
    return added.sum(axis=-1)


@dataclass(frozen=True)
class DilutedShares:
    basic: Array
    options: Array
    warrants: Array
    rsus: Array
    convertibles: Array
    total: Array
    converted_principal: Array
    """Principal of the convertibles counted as shares: it leaves debt (if-converted), so a
    note is never counted both as debt and as shares."""


def diluted_shares(
    basic: ArrayLike,
    price: ArrayLike,
    *,
    options: Instruments = ((), ()),
    warrants: Instruments = ((), ()),
    rsus: ArrayLike = 0.0,
    convertibles: Instruments = ((), ()),
    convertible_principal: ArrayLike | None = None,
) -> DilutedShares:
    """Fully diluted shares at `price`.

    Options and warrants by the treasury stock method; RSUs in full (strike zero);
    convertibles (shares if converted, conversion price) added only when price is above the
    conversion price, since holders would otherwise take the cash redemption. Each
    convertible's principal (by default shares x conversion price) is reported when it
    converts, for the bridge to take out of debt.

    >>> d = diluted_shares(1000.0, 20.0, options=([100.0], [10.0]), rsus=10.0,
    ...                    convertibles=([200.0], [25.0]))
    >>> float(d.total), float(d.options), float(d.convertibles), float(d.converted_principal)
    (1060.0, 50.0, 0.0, 0.0)
    >>> float(diluted_shares(1000.0, 30.0, convertibles=([200.0], [25.0])).converted_principal)
    5000.0
    """
    base = checks.positive("basic", basic)
    p = checks.positive("price", price)
    opts = treasury_stock_method(*options, p) if len(options[0]) else np.zeros_like(p)
    warr = treasury_stock_method(*warrants, p) if len(warrants[0]) else np.zeros_like(p)
    units = checks.positive("rsus", rsus, allow_zero=True)
    if len(convertibles[0]):
        conv_shares = checks.positive("convertibles.shares", convertibles[0], allow_zero=True)
        conv_price = checks.positive("convertibles.conversion_price", convertibles[1])
        principal = (
            conv_shares * conv_price
            if convertible_principal is None
            else checks.positive("convertibles.principal", convertible_principal, allow_zero=True)
        )
        converts = p[..., np.newaxis] > conv_price
        conv = (conv_shares * converts).sum(axis=-1)
        converted = (principal * converts).sum(axis=-1)
    else:
        conv = converted = np.zeros_like(p)
    total = base + opts + warr + units + conv
    return DilutedShares(
        basic=base,
        options=opts,
        warrants=warr,
        rsus=units,
        convertibles=conv,
        total=total,
        converted_principal=converted,
    )
