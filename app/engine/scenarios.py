"""Sensitivity grids and Monte Carlo, both on the one DCF kernel.

A grid is one broadcast call: the two inputs are laid on perpendicular axes. Monte Carlo
draws in cache-sized blocks, each with its own seed spawned from the run's seed, so the
result is bit-identical whether one thread or several value the blocks. Draws that break a
rule (any check a single valuation would refuse: WACC <= 0, a tax rate outside [0, 1), WACC - g
below the guard, ...) are counted rule by rule and excluded, never silently kept.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike

from app.engine import checks
from app.engine.checks import MIN_SPREAD, Array
from app.engine.dcf import (
    PER_SCENARIO,
    PER_YEAR,
    REQUIRED,
    DCFInputs,
    Prepared,
    kernel,
    prepare,
    run,
)
from app.engine.errors import EngineInputError
from app.engine.exchange import ExchangeResult, exchange_offer

__all__ = [
    "PERCENTILES",
    "Distribution",
    "GridResult",
    "MonteCarloResult",
    "dcf_grid",
    "exchange_grid",
    "monte_carlo_dcf",
]

PERCENTILES = (5, 25, 50, 75, 95)
GRID_OUTPUTS = ("enterprise_value", "value_per_share")


@dataclass(frozen=True)
class GridResult:
    """Values on a (len(row_values), len(column_values)) grid; broken cells are NaN."""

    rows: str
    row_values: Array
    columns: str
    column_values: Array
    enterprise_value: Array
    value_per_share: Array
    invalid: Array

    @property
    def n_invalid(self) -> int:
        return int(self.invalid.sum())


def _rule_breaks(p: Prepared, values: Mapping[str, Array], guard: float) -> dict[str, Array]:
    """Each rule a scenario can break, with the mask of the scenarios that break it.

    The rules are the input checks a single valuation refuses with an error (so a drawn
    scenario never gets a value a typed-in one could not), plus the Gordon spread guard.
    """

    def v(name: str) -> Array:
        return np.asarray(values[name])

    def any_year(name: str, low: float, high: float = math.inf, at_low: bool = False) -> Array:
        """Scenarios with a year outside [low, high] (or at `low` too): (N, years) -> (N,),
        shared (years,) -> (). Decided from the span when no year is out, the usual case:
        a mask over every scenario-year, reduced along the short year axis, cost more."""
        x = v(name)
        smallest, largest = (float(x.min()), float(x.max())) if x.size else (low, low)
        if (smallest > low or (smallest == low and not at_low)) and largest <= high:
            return np.zeros(x.shape[:-1], dtype=bool)
        return ((x <= low if at_low else x < low) | (x > high)).any(axis=-1)

    rules = {
        "WACC at or below zero": v("wacc") <= 0,
        "tax rate outside [0, 1)": (v("tax_rate") < 0) | (v("tax_rate") >= 1),
        "revenue growth at or below -100%": any_year("revenue_growth", -1.0, at_low=True),
        "EBIT margin outside [-100%, 100%]": any_year("ebit_margin", -1.0, 1.0),
        "D&A or capex below zero": any_year("da_pct_revenue", 0.0)
        | any_year("capex_pct_revenue", 0.0),
        "NWC share of revenue outside [-100%, 100%]": np.abs(v("nwc_pct_revenue")) > 1.0,
        "base revenue at or below zero": v("base_revenue") <= 0,
        "diluted shares at or below zero": v("diluted_shares") <= 0,
    }
    if p.method == "gordon":
        rules[f"WACC - g below {guard:g}"] = v("wacc") - v("terminal_growth") < guard
    else:
        rules["exit multiple at or below zero"] = v("exit_multiple") <= 0
    return rules


def _any(rules: Mapping[str, Array], shape: tuple[int, ...]) -> Array:
    bad = np.zeros(shape, dtype=bool)
    for mask in rules.values():
        if np.ndim(mask):
            bad |= mask  # broadcasts in place
        elif mask:
            bad[...] = True
    return bad


def dcf_grid(inputs: DCFInputs, guard: float = MIN_SPREAD, **axes: ArrayLike) -> GridResult:
    """Value a DCF over two inputs at once, e.g. ``dcf_grid(base, wacc=w, terminal_growth=g)``.

    >>> base = DCFInputs(base_revenue=100.0, revenue_growth=[0.05] * 5, ebit_margin=0.2,
    ...     da_pct_revenue=0.03, capex_pct_revenue=0.04, nwc_pct_revenue=0.1, tax_rate=0.25,
    ...     wacc=0.09, diluted_shares=10.0, terminal_growth=0.02)
    >>> grid = dcf_grid(base, wacc=[0.02, 0.09], terminal_growth=[0.0, 0.02])
    >>> grid.value_per_share.shape, grid.n_invalid
    ((2, 2), 1)
    """
    if len(axes) != 2:
        raise EngineInputError("axes", "give exactly two inputs to vary")
    (rows, row_values), (columns, column_values) = axes.items()
    for name in (rows, columns):
        if name not in PER_SCENARIO:
            raise EngineInputError(name, "cannot be varied on a grid (not a per-scenario input)")
    r = checks.finite(rows, row_values).reshape(-1)
    c = checks.finite(columns, column_values).reshape(-1)
    varied = replace(inputs, **{rows: r[:, np.newaxis], columns: c[np.newaxis, :]})
    # Unflattened: an axis the years do not depend on (terminal growth, exit multiple, the
    # bridge) only widens the tail, so a WACC x g grid runs its year loop once per WACC.
    p = prepare(varied, guard=False, flatten=False)
    bad = _any(_rule_breaks(p, p.values, guard), p.shape)
    with np.errstate(all="ignore"):  # broken cells may divide by zero; they become NaN
        out = run(p, per_year=False, outputs=GRID_OUTPUTS)
    ev = np.where(bad, np.nan, out["enterprise_value"])
    per_share = np.where(bad, np.nan, out["value_per_share"])
    return GridResult(
        rows=rows,
        row_values=r,
        columns=columns,
        column_values=c,
        enterprise_value=ev,
        value_per_share=per_share,
        invalid=bad,
    )


def exchange_grid(
    exchange_ratio: ArrayLike, acquirer_price: ArrayLike, **terms: object
) -> ExchangeResult:
    """Offer terms over exchange ratio (rows) x acquirer price (columns), one broadcast call."""
    ratios = checks.finite("exchange_ratio", exchange_ratio).reshape(-1, 1)
    prices = checks.finite("acquirer_price", acquirer_price).reshape(1, -1)
    return exchange_offer(
        "fixed_ratio",
        acquirer_price=prices,
        exchange_ratio=ratios,
        **terms,  # type: ignore[arg-type]
    )


_MANTISSA = {
    np.dtype(np.float32): (np.uint32, 9, 0x3F80_0000),
    np.dtype(np.float64): (np.uint64, 12, 0x3FF0_0000_0000_0000),
}
"""Per float type: the integer of its width, the bits to drop, and the pattern of 1.0."""


def _one_to_two(rng: np.random.Generator, count: int, dtype: type) -> Array:
    """`count` uniforms on [1, 2), made from the bit generator's raw words.

    Random bits under the exponent of 1.0 are a float in [1, 2) after two integer passes;
    `Generator.random` converts value by value instead, which takes as long here as all the
    rest of the Box-Muller transform. Resolution: 2^-23 (float32) or 2^-52 (float64).
    """
    kind, shift, one = _MANTISSA[np.dtype(dtype)]
    itemsize = np.dtype(kind).itemsize
    bits = rng.bit_generator.random_raw(-(-count * itemsize // 8)).view(kind)[:count]
    np.right_shift(bits, kind(shift), out=bits)
    np.bitwise_or(bits, kind(one), out=bits)
    return bits.view(dtype)


def standard_normals(rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> Array:
    """Standard normal draws by the Box-Muller transform, from pairs of uniforms.

    NumPy's `standard_normal` is a ziggurat, which branches draw by draw; the transform is a
    few vectorised passes (log, sqrt, cos, sin, products). Drawn as the Monte Carlo draws (a
    generator per block, two threads), it took 0.09-0.11 s for 62 blocks of 327,680 float32
    normals, against 0.16-0.17 s. Exact in distribution; 1 - u1 >= 2^-23 in float32 bounds
    |z| at sqrt(2 ln 2^23) = 5.65, a tail of 1.6e-8. Values come in pairs: the first half of
    the output holds r cos(theta), the second r sin(theta), so an odd count drops the last sine.

    >>> z = standard_normals(np.random.Generator(np.random.SFC64(1)), (200_000,), np.float64)
    >>> bool(abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01), z.dtype.name
    (True, 'float64')
    """
    size = math.prod(shape)
    half = (size + 1) // 2
    radius, angle = _one_to_two(rng, 2 * half, dtype).reshape(2, half)
    np.subtract(dtype(2.0), radius, out=radius)  # (0, 1]: the log is finite
    np.log(radius, out=radius)
    radius *= dtype(-2.0)
    np.sqrt(radius, out=radius)
    angle *= dtype(2.0 * math.pi)  # [2 pi, 4 pi): a whole turn, as good as [0, 2 pi)
    z = np.empty(2 * half, dtype=dtype)
    first, second = z[:half], z[half:]
    np.cos(angle, out=first)
    first *= radius
    np.sin(angle, out=second)
    second *= radius
    return z[:size].reshape(shape)


@dataclass(frozen=True)
class Distribution:
    """A random input. Parameters by kind:

    - normal: `mean`, `sd`
    - lognormal: `mean`, `sd` of the variable itself (not of its log)
    - triangular: `low`, `mode`, `high`
    - uniform: `low`, `high`

    `apply` says how a draw meets the base input: "add" (a shock around it, the default),
    "multiply" (a factor on it) or "replace".
    """

    kind: str
    mean: float = 0.0
    sd: float = 0.0
    low: float = 0.0
    mode: float = 0.0
    high: float = 0.0
    apply: str = "add"

    def check(self, field: str) -> None:
        if self.kind not in ("normal", "lognormal", "triangular", "uniform"):
            raise EngineInputError(f"{field}.kind", f"unknown distribution {self.kind!r}")
        if self.apply not in ("add", "multiply", "replace"):
            raise EngineInputError(f"{field}.apply", "must be add, multiply or replace")
        for name in ("mean", "sd", "low", "mode", "high"):
            checks.finite(f"{field}.{name}", getattr(self, name))
        if self.kind in ("normal", "lognormal") and self.sd <= 0:
            raise EngineInputError(f"{field}.sd", "must be positive")
        if self.kind == "lognormal" and self.mean <= 0:
            raise EngineInputError(f"{field}.mean", "a lognormal variable has a positive mean")
        if self.kind in ("triangular", "uniform") and not self.low < self.high:
            raise EngineInputError(f"{field}.low", "must be below high")
        if self.kind == "triangular" and not self.low <= self.mode <= self.high:
            raise EngineInputError(f"{field}.mode", "must lie between low and high")

    def sample(self, rng: np.random.Generator, shape: tuple[int, ...], dtype: type) -> Array:
        if self.kind == "normal":
            z = standard_normals(rng, shape, dtype)
            z *= dtype(self.sd)
            z += dtype(self.mean)
            return z
        if self.kind == "lognormal":
            sigma2 = math.log1p((self.sd / self.mean) ** 2)
            z = standard_normals(rng, shape, dtype)
            z *= dtype(math.sqrt(sigma2))
            z += dtype(math.log(self.mean) - sigma2 / 2)
            return np.exp(z, out=z)
        u = rng.random(shape, dtype=dtype)
        if self.kind == "uniform":
            u *= dtype(self.high - self.low)
            u += dtype(self.low)
            return u
        # Triangular by its inverse CDF, so it works in float32 too.
        lo, mode, hi = self.low, self.mode, self.high
        cut = (mode - lo) / (hi - lo)
        left = lo + np.sqrt(u * ((hi - lo) * (mode - lo)))
        right = hi - np.sqrt((1 - u) * ((hi - lo) * (hi - mode)))
        return np.where(u < cut, left, right).astype(dtype, copy=False)


@dataclass(frozen=True)
class MonteCarloResult:
    n_requested: int
    n_valid: int
    n_rejected: int
    rejected_by_rule: dict[str, int]
    """How many draws broke each rule (a draw can break several)."""
    seed: int
    percentiles: dict[int, float]
    mean: float
    std: float
    prob_above_offer: float | None
    histogram_counts: tuple[int, ...]
    histogram_edges: tuple[float, ...]


def sorted_percentiles(ordered: Array, q: tuple[float, ...]) -> list[float]:
    """`np.percentile(x, q)` (linear, Hyndman-Fan 7) of sorted `x`, with the same arithmetic.

    np.percentile selects its order statistics with a partition over all the values, which
    costs more than the sort the histogram needs anyway; on sorted values they are just read.

    >>> sorted_percentiles(np.array([1.0, 2.0, 4.0, 8.0]), (0, 50, 90, 100))
    [1.0, 3.0, 6.800000000000001, 8.0]
    """
    last = ordered.size - 1
    virtual = last * (np.asarray(q, dtype=np.float64) / 100)
    previous = np.minimum(np.floor(virtual), last)
    after = np.minimum(previous + 1, last)
    gamma = virtual - previous
    a, b = ordered[previous.astype(np.intp)], ordered[after.astype(np.intp)]
    diff = b - a
    # np.percentile's interpolation, from the nearer neighbour, bit for bit.
    values = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return values.tolist()


def sorted_histogram(ordered: Array, bins: int, range: tuple[float, float]) -> tuple[Array, Array]:
    """`np.histogram(x, bins, range)` of sorted `x`: NumPy's edges, and the counts by binary
    search instead of a pass over every value. Bins are [e_i, e_i+1), the last one closed.

    >>> sorted_histogram(np.array([0.0, 0.5, 1.0, 1.0, 2.0, 3.0]), 2, (0.0, 2.0))
    (array([2, 3]), array([0., 1., 2.]))
    """
    edges = np.histogram_bin_edges(ordered, bins=bins, range=range)
    cuts = np.searchsorted(ordered, edges, side="left")
    cuts[-1] = np.searchsorted(ordered, edges[-1], side="right")
    return np.diff(cuts), edges


def sorted_share_above(ordered: Array, value: float) -> float:
    """`float((x > value).mean())` of sorted `x`, by one binary search.

    >>> sorted_share_above(np.array([1.0, 2.0, 2.0, 4.0]), 2.0)
    0.25
    """
    return (ordered.size - int(np.searchsorted(ordered, value, side="right"))) / ordered.size


def _apply(base: Array, draw: Array, how: str) -> Array:
    if how == "add":
        return base + draw
    if how == "multiply":
        return base * draw
    return draw.astype(np.float64)


def draw_block(
    distributions: Mapping[str, Distribution],
    rng: np.random.Generator,
    years: int,
    size: int,
    per_year: frozenset[str] | set[str],
    dtype: type,
) -> dict[str, Array]:
    """One block's draws, field by field: (size, years) for a per-year input, else (size,).

    Sorted, so the draws do not depend on how a mapping (or a JSONB column) orders keys. A
    per-year input is drawn year by year, (years, size), and handed on as its transpose:
    each year the kernel reads is then one contiguous row.
    """
    draws = {}
    for field, spec in sorted(distributions.items()):
        if field in per_year and field in PER_YEAR:
            draws[field] = spec.sample(rng, (years, size), dtype).T
        else:
            draw = spec.sample(rng, (size,), dtype)
            draws[field] = draw[:, np.newaxis] if field in PER_YEAR else draw
    return draws


def monte_carlo_dcf(
    base: DCFInputs,
    distributions: Mapping[str, Distribution],
    n: int,
    seed: int,
    *,
    offer_price: float | None = None,
    per_year: frozenset[str] | set[str] = frozenset(PER_YEAR),
    guard: float = MIN_SPREAD,
    dtype: type = np.float32,
    block_size: int = 32_768,
    threads: int = 1,
    bins: int = 40,
) -> MonteCarloResult:
    """Value per share over `n` random scenarios of one company's DCF.

    Fields in `per_year` are drawn per scenario and year (a growth or margin path); others
    once per scenario (WACC). The histogram spans P0.5 to P99.5 in `bins` equal bins. Draws
    may be float32 (sampling noise dwarfs its 1e-7 rounding); the valuation is float64.

    >>> base = DCFInputs(base_revenue=100.0, revenue_growth=[0.05] * 5, ebit_margin=0.2,
    ...     da_pct_revenue=0.03, capex_pct_revenue=0.04, nwc_pct_revenue=0.1, tax_rate=0.25,
    ...     wacc=0.09, diluted_shares=10.0, terminal_growth=0.02)
    >>> r = monte_carlo_dcf(base, {"wacc": Distribution("normal", sd=0.01)}, 10_000, seed=7)
    >>> r.n_valid + r.n_rejected == 10_000
    True
    """
    if n <= 0:
        raise EngineInputError("n", "must be a positive number of scenarios")
    for field, spec in distributions.items():
        if field not in PER_YEAR and field not in PER_SCENARIO:
            raise EngineInputError(field, "is not a DCF input that can be drawn")
        spec.check(field)
    p = prepare(base)
    if p.shape != ():
        raise EngineInputError("base", "must be a single scenario; the draws make the others")
    blocks = math.ceil(n / block_size)
    seeds = np.random.SeedSequence(seed).spawn(blocks)
    per_share = np.empty(n)
    rejected = np.zeros(blocks, dtype=np.int64)
    by_rule: list[dict[str, int]] = [{} for _ in range(blocks)]

    def value_block(i: int) -> None:
        lo, hi = i * block_size, min((i + 1) * block_size, n)
        size = hi - lo
        rng = np.random.Generator(np.random.SFC64(seeds[i]))
        values = dict(p.values)
        for field, draw in draw_block(distributions, rng, p.years, size, per_year, dtype).items():
            values[field] = _apply(p.values[field], draw, distributions[field].apply)
        block = Prepared((size,), p.years, values, p.method, p.mid_year)
        rules = _rule_breaks(block, values, guard)
        by_rule[i] = {name: int(np.broadcast_to(m, (size,)).sum()) for name, m in rules.items()}
        bad = _any(rules, (size,))
        scratch = {name: np.empty(size) for name in REQUIRED}
        scratch["value_per_share"] = per_share[lo:hi]
        with np.errstate(all="ignore"):  # rejected draws may divide by zero; they are dropped
            kernel(block, scratch, 0, size, per_year=False)
        bad |= ~np.isfinite(per_share[lo:hi])
        per_share[lo:hi][bad] = np.nan
        rejected[i] = int(bad.sum())

    if threads > 1:
        with ThreadPoolExecutor(max_workers=min(threads, os.cpu_count() or 1)) as pool:
            list(pool.map(value_block, range(blocks)))
    else:
        for i in range(blocks):
            value_block(i)
    valid = ~np.isnan(per_share)
    good = per_share[valid]
    n_valid = int(good.size)
    if n_valid == 0:
        raise EngineInputError("distributions", "every draw broke a rule; no valid scenario")
    mean, std = float(good.mean()), float(good.std())
    good.sort()  # one sort gives every percentile, the histogram's counts and P(> offer)
    lowest, *q, highest = sorted_percentiles(good, (0.5, *PERCENTILES, 99.5))
    counts, edges = sorted_histogram(good, bins, (lowest, highest))
    return MonteCarloResult(
        n_requested=n,
        n_valid=n_valid,
        n_rejected=int(rejected.sum()),
        rejected_by_rule={
            name: total for name in by_rule[0] if (total := sum(counts[name] for counts in by_rule))
        },
        seed=seed,
        percentiles={k: float(v) for k, v in zip(PERCENTILES, q, strict=True)},
        mean=mean,
        std=std,
        prob_above_offer=None if offer_price is None else sorted_share_above(good, offer_price),
        histogram_counts=tuple(int(c) for c in counts),
        histogram_edges=tuple(float(e) for e in edges),
    )
