"""Up-front input checks shared by the engine's functions (cheap, vectorised)."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from app.engine.errors import EngineInputError

Array = NDArray[np.float64]
MIN_SPREAD = 0.005
"""Smallest WACC - g the engine accepts for a Gordon terminal value (0.5 percentage points)."""
SMALL = 64
"""Inputs up to this size (a scalar, a row of years) are spanned in Python: a valuation checks
a few hundred of them, and two NumPy reductions cost more than reading a handful of floats."""


def as_array(name: str, value: ArrayLike, dtype: type = np.float64) -> Array:
    """The input as a float array (no copy when it already is one)."""
    try:
        return np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise EngineInputError(name, "must be a number or an array of numbers") from exc


def finite(name: str, value: ArrayLike, dtype: type = np.float64) -> Array:
    """The input as a float array; NaN or infinity is refused with the field's name."""
    return _finite_span(name, value, dtype)[0]


def _finite_span(
    name: str, value: ArrayLike, dtype: type = np.float64
) -> tuple[Array, float, float]:
    """`finite`, and the smallest and largest value it found on the way (one span per input)."""
    array = as_array(name, value, dtype)
    low, high = _span(array)
    if not (math.isfinite(low) and math.isfinite(high)):
        raise EngineInputError(name, "contains NaN or infinity")
    return array, low, high


def _span(array: Array) -> tuple[float, float]:
    """Smallest and largest value in two passes with no temporaries; NaN propagates to both.

    >>> _span(np.array([0.1, -0.2, 0.3])), _span(np.array(2.5)), _span(np.array([1.0, np.nan]))
    ((-0.2, 0.3), (2.5, 2.5), (nan, nan))
    """
    if array.size == 0:
        return 0.0, 0.0
    if array.size <= SMALL:
        values = array.ravel().tolist()
        total = sum(values)  # NaN only with a NaN in (or inf and -inf): then look closer
        if total != total and any(v != v for v in values):
            return math.nan, math.nan  # as NumPy's reductions would; Python's min and max don't
        return float(min(values)), float(max(values))
    return float(array.min()), float(array.max())


def _worst(array: Array, bad: NDArray[np.bool_]) -> float:
    return float(array[bad].flat[0]) if array.ndim else float(array)


def rate(
    name: str,
    value: ArrayLike,
    *,
    low: float = -1.0,
    high: float = 1.0,
    percent_above: float = 1.0,
) -> Array:
    """A rate as a fraction. A value that looks like a percent is refused, never divided by 100.

    The check runs before anything else, so "25" for a tax rate never reaches the maths.
    `percent_above` is the largest magnitude the field can plausibly take as a fraction: 1
    for tax, WACC and margins; 3 for growth and capex or D&A as a share of revenue, which a
    company building out can exceed 100% of.

    >>> float(rate("wacc", 0.09))
    0.09
    >>> rate("tax_rate", 25)
    Traceback (most recent call last):
    ...
    app.engine.errors.EngineInputError: tax_rate: 25 looks like a percent; enter rates as ...
    """
    array, smallest, largest = _finite_span(name, value)
    if max(-smallest, largest) <= percent_above and low <= smallest and largest <= high:
        return array  # the usual case, decided from two reductions
    too_big = np.abs(array) > percent_above
    if too_big.any():
        x = _worst(array, too_big)
        raise EngineInputError(
            name, f"{x:g} looks like a percent; enter rates as fractions ({x / 100:g} for {x:g}%)"
        )
    out_of_range = (array < low) | (array > high)
    if out_of_range.any():
        raise EngineInputError(
            name, f"{_worst(array, out_of_range):g} is outside [{low:g}, {high:g}]"
        )
    return array


def positive(name: str, value: ArrayLike, *, allow_zero: bool = False) -> Array:
    array, smallest, _ = _finite_span(name, value)
    if smallest > 0 or (allow_zero and smallest == 0):
        return array
    bad = array < 0 if allow_zero else array <= 0
    if bad.any():
        word = "non-negative" if allow_zero else "positive"
        raise EngineInputError(name, f"must be {word}, got {_worst(array, bad):g}")
    return array


def years(name: str, array: Array, n: int) -> Array:
    """A per-year input: a scalar/per-scenario value, or one value per year on the last axis."""
    if array.ndim and array.shape[-1] not in (1, n):
        raise EngineInputError(
            name, f"has {array.shape[-1]} years on its last axis, expected {n} (one per year)"
        )
    return array if array.ndim else array[..., np.newaxis]


def scenario_shape(name: str, *arrays: Array) -> tuple[int, ...]:
    """The broadcast shape of the inputs' leading (scenario) axes."""
    try:
        return np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError as exc:
        raise EngineInputError(name, f"scenario axes do not broadcast: {exc}") from exc
