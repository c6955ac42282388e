"""Free-cash-flow-to-firm DCF, vectorised over any number of scenarios.

Leading axes are scenarios and the last axis of a per-year input is the projection year, so
one call values one company or a million scenarios. The maths lives in one blocked kernel:
scenarios are valued in cache-sized blocks with a short loop over years, growth and
discounting by repeated multiplication (no np.power or np.cumprod inside the year loop).
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from app.engine import checks
from app.engine.checks import MIN_SPREAD, Array
from app.engine.errors import EngineInputError

__all__ = ["DCFInputs", "DCFResult", "dcf"]

BLOCK = 32_768
PER_YEAR = ("revenue_growth", "ebit_margin", "da_pct_revenue", "capex_pct_revenue")
PER_SCENARIO = (
    "base_revenue",
    "nwc_pct_revenue",
    "tax_rate",
    "wacc",
    "terminal_growth",
    "exit_multiple",
    "cash",
    "debt",
    "lease_liabilities",
    "minority_interest",
    "preferred",
    "investments",
    "diluted_shares",
)
METHODS = ("gordon", "exit_multiple")
WIDE = 3.0
"""Growth, capex and D&A can pass 100% of revenue in a build-out; beyond 300% reads as a percent."""


@dataclass(frozen=True)
class DCFInputs:
    """One company's DCF assumptions; any field may carry leading scenario axes.

    Per-year fields (growth, margin, D&A, capex) are a number, or an array whose last axis has
    one value per projection year. Rates are fractions. Money is in currency units.
    """

    base_revenue: ArrayLike
    revenue_growth: ArrayLike
    ebit_margin: ArrayLike
    da_pct_revenue: ArrayLike
    capex_pct_revenue: ArrayLike
    nwc_pct_revenue: ArrayLike
    tax_rate: ArrayLike
    wacc: ArrayLike
    diluted_shares: ArrayLike
    terminal_method: str = "gordon"
    terminal_growth: ArrayLike = 0.0
    exit_multiple: ArrayLike = 0.0
    mid_year: bool = False
    cash: ArrayLike = 0.0
    debt: ArrayLike = 0.0
    lease_liabilities: ArrayLike = 0.0
    minority_interest: ArrayLike = 0.0
    preferred: ArrayLike = 0.0
    investments: ArrayLike = 0.0


@dataclass(frozen=True)
class DCFResult:
    """Per-year arrays have shape (*scenarios, years); they are None with per_year=False."""

    enterprise_value: Array
    equity_value: Array
    value_per_share: Array
    terminal_value: Array
    pv_terminal_value: Array
    tv_share_of_ev: Array
    implied_exit_multiple: Array
    implied_terminal_growth: Array
    revenue: Array | None = None
    ebit: Array | None = None
    ebitda: Array | None = None
    da: Array | None = None
    capex: Array | None = None
    delta_nwc: Array | None = None
    nopat: Array | None = None
    fcff: Array | None = None
    discount_factors: Array | None = None
    pv_fcff: Array | None = None


@dataclass(frozen=True)
class Prepared:
    """Inputs flattened to (N,) or (N, years); a size-1 input stays a scalar.

    `deferred` lists the large arrays whose checks run block by block inside `run`, while
    the block is in cache, instead of in extra passes over memory up front. With `flat`
    false the inputs keep their own shapes, which broadcast to `shape` (a grid's axes).
    """

    shape: tuple[int, ...]
    years: int
    values: dict[str, Array]
    method: str
    mid_year: bool
    deferred: tuple[str, ...] = ()
    guard: bool = False
    flat: bool = True


DEFER_ABOVE = 65_536
"""Arrays with more elements than this are checked block by block."""


def _wide(name: str, value: ArrayLike) -> Array:
    return checks.rate(name, value, high=WIDE, percent_above=WIDE)


def _rate(name: str, value: ArrayLike) -> Array:
    return checks.rate(name, value)


def _non_negative_rate(name: str, value: ArrayLike) -> Array:
    return checks.rate(name, value, low=0.0)


def _wacc(name: str, value: ArrayLike) -> Array:
    array = checks.rate(name, value, low=0.0)
    if array.size and float(array.min()) <= 0:
        raise EngineInputError(name, "must be positive")
    return array


def _positive(name: str, value: ArrayLike) -> Array:
    return checks.positive(name, value)


def _amount(name: str, value: ArrayLike) -> Array:
    return checks.positive(name, value, allow_zero=True)


RULES = {
    "revenue_growth": _wide,
    "ebit_margin": _rate,
    "da_pct_revenue": _wide,
    "capex_pct_revenue": _wide,
    "base_revenue": _positive,
    "nwc_pct_revenue": _rate,
    "tax_rate": _non_negative_rate,
    "wacc": _wacc,
    "terminal_growth": _rate,
    "exit_multiple": _amount,
    "diluted_shares": _positive,
    "cash": _amount,
    "debt": _amount,
    "lease_liabilities": _amount,
    "minority_interest": _amount,
    "preferred": _amount,
    "investments": _amount,
}


def _check_spread(wacc: Array, growth: Array) -> None:
    spread = wacc - growth
    if spread.size and float(np.min(spread)) < MIN_SPREAD:
        bad = spread < MIN_SPREAD
        w = float(np.broadcast_to(wacc, spread.shape)[bad].flat[0])
        g = float(np.broadcast_to(growth, spread.shape)[bad].flat[0])
        raise EngineInputError(
            "terminal_growth",
            f"WACC {w:.4g} minus terminal growth {g:.4g} is below the "
            f"{MIN_SPREAD:g} minimum; a Gordon terminal value needs WACC > g",
        )


def prepare(inputs: DCFInputs, *, guard: bool = True, flatten: bool = True) -> Prepared:
    """Check every field (large arrays block by block, later) and flatten it for the kernel.

    `flatten=False` keeps each input in its own shape, so the kernel's arithmetic broadcasts
    them: on a grid of WACC x terminal growth the years are then valued once per WACC.
    """
    if inputs.terminal_method not in METHODS:
        raise EngineInputError("terminal_method", f"must be one of {', '.join(METHODS)}")
    raw: dict[str, Array] = {}
    deferred = []
    for name, rule in RULES.items():
        value = checks.as_array(name, getattr(inputs, name))
        if flatten and value.size > DEFER_ABOVE:
            deferred.append(name)
            raw[name] = value
        else:
            raw[name] = rule(name, value)
    if inputs.terminal_method == "exit_multiple" and "exit_multiple" not in deferred:
        raw["exit_multiple"] = _positive("exit_multiple", raw["exit_multiple"])
    if raw["revenue_growth"].ndim == 0:
        raise EngineInputError("revenue_growth", "needs one value per projection year")
    n = raw["revenue_growth"].shape[-1]
    for name in PER_YEAR[1:]:
        raw[name] = checks.years(name, raw[name], n)
    check_spread = guard and inputs.terminal_method == "gordon"
    if check_spread and not {"wacc", "terminal_growth"} & set(deferred):
        _check_spread(raw["wacc"], raw["terminal_growth"])
        check_spread = False
    shape = checks.scenario_shape(
        "inputs",
        *(raw[k] for k in PER_SCENARIO),
        *(raw[k][..., 0] for k in PER_YEAR),
    )
    size = math.prod(shape)
    values = {}
    for name, array in raw.items():
        per_year = name in PER_YEAR
        lead = array.shape[:-1] if per_year else array.shape
        if not flatten:
            values[name] = array
        elif math.prod(lead) == 1:
            # Same for every scenario: keep it small, the kernel broadcasts it for free.
            values[name] = array.reshape(array.shape[-1]) if per_year else array.reshape(())
        else:
            full = shape + ((array.shape[-1],) if per_year else ())
            flat = (size, array.shape[-1]) if per_year else (size,)
            values[name] = np.ascontiguousarray(np.broadcast_to(array, full)).reshape(flat)
        if per_year and values[name].shape[-1] == 1 and n > 1:
            values[name] = np.broadcast_to(values[name], (*values[name].shape[:-1], n))
    return Prepared(
        shape,
        n,
        values,
        inputs.terminal_method,
        bool(inputs.mid_year),
        deferred=tuple(deferred),
        guard=check_spread,
        flat=flatten,
    )


def _check_block(p: Prepared, lo: int, hi: int) -> None:
    """The deferred checks of large inputs, on one block while it is in cache."""
    for name in p.deferred:
        RULES[name](name, _block(p.values, name, lo, hi))
        if name == "exit_multiple" and p.method == "exit_multiple":
            _positive(name, _block(p.values, name, lo, hi))
    if p.guard:
        _check_spread(_block(p.values, "wacc", lo, hi), _block(p.values, "terminal_growth", lo, hi))


def _block(values: dict[str, Array], name: str, lo: int, hi: int) -> Array:
    array = values[name]
    if name in PER_YEAR:
        return array[lo:hi] if array.ndim == 2 else array
    return array[lo:hi] if array.ndim == 1 else array


def kernel(p: Prepared, out: dict[str, Array], lo: int, hi: int, per_year: bool) -> None:
    """Value scenarios [lo, hi) into `out`; the only place the DCF arithmetic is written.

    The loop carries discounted revenue D_t = revenue_t x (1 + WACC)^-t, because then
    PV(FCFF_t) = D_t x k_t + nwc x v x D_t-1, with k_t = margin_t (1 - tax) + D&A_t - capex_t
    - nwc and v = 1 / (1 + WACC): every year costs a handful of multiply-adds and the sums
    over years collapse into three accumulators (see docs/methodology.md).

    The loop runs on the broadcast shape of the inputs it reads, the tail on the full one:
    inputs that only the tail reads (terminal growth, exit multiple, the bridge, shares) never
    make the year loop longer. With unflattened inputs (a grid), `out` holds whole arrays and
    `lo`, `hi` are not used.
    """
    if p.flat:
        v = {name: _block(p.values, name, lo, hi) for name in p.values}
        rows: Any = slice(lo, hi)
    else:
        v, rows = p.values, Ellipsis
    n = p.years
    wacc = v["wacc"]
    step = 1.0 / (1.0 + wacc)
    keep = 1.0 - v["tax_rate"]
    nwc = v["nwc_pct_revenue"]
    growth, margin, da, capex = (_years_first(v[name]) for name in PER_YEAR)
    cash_items = da - capex  # D&A less capex, per unit of revenue
    flat_items = cash_items.ndim == 1 and bool((cash_items == cash_items[0]).all())
    base = v["base_revenue"]
    shape = np.broadcast_shapes(
        np.shape(base),
        np.shape(step),
        np.shape(keep),
        np.shape(nwc),
        *(np.shape(x)[1:] for x in (growth, margin, cash_items)),
    )
    d = np.empty(shape)
    d[...] = base
    total = np.zeros(shape)  # sum of D_t
    weighted_margin = np.zeros(shape)  # sum of D_t x margin_t
    weighted_items = np.zeros(shape)  # sum of D_t x (D&A_t - capex_t), unless flat
    factor = np.empty(shape)
    tmp = np.empty(shape)
    previous = np.empty(shape)
    disc = np.ones(shape) if per_year else None
    for t in range(n):
        if t == n - 1:
            previous[...] = d
        np.add(growth[t], 1.0, out=factor)
        factor *= step
        d *= factor
        total += d
        np.multiply(d, margin[t], out=tmp)
        weighted_margin += tmp
        if not flat_items:
            np.multiply(d, cash_items[t], out=tmp)
            weighted_items += tmp
        if per_year:
            disc *= step
            revenue = d / disc
            prior = out["revenue"][rows, t - 1] if t else base
            ebit = revenue * margin[t]
            depreciation = revenue * da[t]
            fcff = ebit * keep + depreciation - revenue * capex[t] - nwc * (revenue - prior)
            out["revenue"][rows, t] = revenue
            out["ebit"][rows, t] = ebit
            out["nopat"][rows, t] = ebit * keep
            out["da"][rows, t] = depreciation
            out["ebitda"][rows, t] = ebit + depreciation
            out["capex"][rows, t] = revenue * capex[t]
            out["delta_nwc"][rows, t] = nwc * (revenue - prior)
            out["fcff"][rows, t] = fcff
            half_t = np.sqrt(1.0 + wacc) if p.mid_year else 1.0
            out["discount_factors"][rows, t] = disc * half_t
            out["pv_fcff"][rows, t] = fcff * disc * half_t
    # Sum of D_t-1 over t = 1..n is D_0 + (sum of D_t) - D_n, so
    # PV(FCFF) = (1 - t) x sum(D margin) + sum(D (D&A - capex)) - nwc x sum(D) + nwc v x that.
    carry = nwc * step
    pv = keep * weighted_margin
    if flat_items:
        pv += (cash_items[0] - nwc) * total
    else:
        pv += weighted_items
        pv -= nwc * total
    np.add(total, base, out=tmp)
    tmp -= d
    tmp *= carry
    pv += tmp
    # The final year's flows, discounted to today (the n-year factor cancels in every ratio).
    fcff_n = d * (margin[n - 1] * keep + cash_items[n - 1] - nwc)
    np.multiply(previous, carry, out=tmp)
    fcff_n += tmp
    ebitda_n = d * (margin[n - 1] + da[n - 1])
    ev, pv_tv = out["enterprise_value"][rows], out["pv_terminal_value"][rows]
    if p.method == "gordon":
        g = v["terminal_growth"]
        tv_disc = fcff_n * ((1.0 + g) / (wacc - g))
    else:
        tv_disc = ebitda_n * v["exit_multiple"]
    if p.mid_year:
        half = np.sqrt(1.0 + wacc)  # (1+w)^0.5 moves flows to mid-year
        pv *= half
        # A Gordon tail continues the mid-year flows; an exit multiple prices the end of year n.
        np.multiply(tv_disc, half if p.method == "gordon" else 1.0, out=pv_tv)
    else:
        pv_tv[...] = tv_disc
    np.add(pv, pv_tv, out=ev)
    bridge = (
        v["cash"]
        + v["investments"]
        - v["debt"]
        - v["lease_liabilities"]
        - v["minority_interest"]
        - v["preferred"]
    )
    equity = out["equity_value"][rows]
    np.add(ev, bridge, out=equity)
    np.divide(equity, v["diluted_shares"], out=out["value_per_share"][rows])
    if "terminal_value" in out:
        np.multiply(tv_disc, _power(1.0 + wacc, n), out=out["terminal_value"][rows])
    # A zero EV, EBITDA or FCFF leaves its ratio undefined: NaN, quietly (callers show "n/a").
    with np.errstate(divide="ignore", invalid="ignore"):
        if "tv_share_of_ev" in out:
            np.divide(pv_tv, ev, out=out["tv_share_of_ev"][rows])
        if "implied_exit_multiple" in out:
            np.divide(tv_disc, ebitda_n, out=out["implied_exit_multiple"][rows])
        if "implied_terminal_growth" in out:
            # The growth a Gordon formula would need to give this terminal value.
            gap = tv_disc * wacc - fcff_n
            np.divide(gap, fcff_n + tv_disc, out=out["implied_terminal_growth"][rows])


TILE = 4096
"""Scenarios per tile of the year-first copy: a tile's rows stay in cache while it is turned."""


def _years_first(array: Array) -> Array:
    """A per-year input with the year first, so each year the loop reads is one contiguous row.

    A (scenarios, years) block read one year at a time strides 8 x years bytes and touches a
    new cache line per value; where the block outgrows L2 that costs about three times a copy
    turned in cache-sized tiles (measured on a Sapphire Rapids machine, docs/benchmarks.md).
    Inputs already laid out year by year (the Monte Carlo draws, a shared path, a grid's
    broadcast axes) are only viewed that way.

    >>> turned = _years_first(np.arange(6.0).reshape(3, 2))
    >>> turned.tolist(), turned.flags.c_contiguous
    ([[0.0, 2.0, 4.0], [1.0, 3.0, 5.0]], True)
    """
    view = np.moveaxis(array, -1, 0)
    if view.ndim != 2 or view.strides[1] in (0, view.itemsize):
        return view
    turned = np.empty(view.shape, dtype=view.dtype)
    for lo in range(0, view.shape[1], TILE):
        turned[:, lo : lo + TILE] = view[:, lo : lo + TILE]
    return turned


def _power(base: Array, exponent: int) -> Array:
    """base ** exponent by repeated squaring: a few multiplies instead of a slow np.power.

    >>> bool(np.isclose(_power(np.float64(1.1), 10), 1.1**10, rtol=1e-15, atol=0))
    True
    """
    result, square = None, base
    while exponent:
        if exponent & 1:
            result = square if result is None else result * square
        exponent >>= 1
        if exponent:
            square = square * square
    return np.ones_like(base) if result is None else result


SUMMARY = (
    "enterprise_value",
    "equity_value",
    "value_per_share",
    "terminal_value",
    "pv_terminal_value",
    "tv_share_of_ev",
    "implied_exit_multiple",
    "implied_terminal_growth",
)
REQUIRED = ("enterprise_value", "pv_terminal_value", "equity_value", "value_per_share")
"""The summary results the kernel always fills; the others only when `out` holds them."""
DETAIL = (
    "revenue",
    "ebit",
    "nopat",
    "da",
    "ebitda",
    "capex",
    "delta_nwc",
    "fcff",
    "discount_factors",
    "pv_fcff",
)


def run(
    p: Prepared,
    *,
    per_year: bool,
    block: int = BLOCK,
    threads: int = 1,
    outputs: tuple[str, ...] = SUMMARY,
) -> dict[str, Array]:
    """Run the kernel over all scenarios of prepared inputs, block by block.

    Blocks write disjoint slices and share nothing, so any thread count gives the same bits.
    Summary results not in `outputs` (nor REQUIRED) are not computed.
    """
    names = tuple(dict.fromkeys((*REQUIRED, *outputs)))
    if not p.flat:  # one broadcast call over the inputs' own shapes (a grid)
        whole = {name: np.empty(p.shape) for name in names}
        if per_year:
            whole |= {name: np.empty((*p.shape, p.years)) for name in DETAIL}
        kernel(p, whole, 0, 0, per_year)
        return whole
    size = math.prod(p.shape)
    out = {name: np.empty(size) for name in names}
    if per_year:
        out |= {name: np.empty((size, p.years)) for name in DETAIL}

    def value(lo: int) -> None:
        hi = min(lo + block, size)
        _check_block(p, lo, hi)
        kernel(p, out, lo, hi, per_year)

    starts = range(0, size, block)
    if threads > 1 and len(starts) > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            list(pool.map(value, starts))
    else:
        for lo in starts:
            value(lo)
    return out


def dcf(
    inputs: DCFInputs, *, per_year: bool = True, block: int = BLOCK, threads: int = 1
) -> DCFResult:
    """Value a company (or many scenarios of it) by discounting free cash flow to the firm.

    >>> r = dcf(DCFInputs(base_revenue=100.0, revenue_growth=[0.1, 0.1, 0.1],
    ...     ebit_margin=0.2, da_pct_revenue=0.05, capex_pct_revenue=0.05, nwc_pct_revenue=0.1,
    ...     tax_rate=0.25, wacc=0.1, diluted_shares=10.0, terminal_growth=0.02))
    >>> r.fcff.round(6).tolist()
    [15.5, 17.05, 18.755]
    >>> round(float(r.enterprise_value), 6)
    221.931818
    """
    p = prepare(inputs)
    out = run(p, per_year=per_year, block=block, threads=threads)
    shape = p.shape
    result = {name: out[name].reshape(shape) for name in SUMMARY}
    if per_year:
        result |= {name: out[name].reshape((*shape, p.years)) for name in DETAIL}
    return DCFResult(**result)
