"""Value a deal from one assumption version, and store the run.

One call values everything (both standalone DCFs, exchange terms, ownership, synergies,
accretion/dilution, sensitivities, a seeded Monte Carlo). The same version, engine version and
seed give the same numbers to the last bit, so a stored run is reused rather than recomputed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, ScalarSelect, bindparam, func, select
from sqlalchemy.orm import Session, aliased, defer

from app import engine
from app.assumptions.models import AssumptionSet
from app.assumptions.schemas import AssumptionPayload
from app.valuation.inputs import company_inputs, company_shares, net_debt, synergy_inputs
from app.valuation.models import ValuationRun
from app.web.observe import add_engine_time

PERCENTILES = (5, 25, 50, 75, 95)


def _json(value: Any) -> Any:
    """Arrays to lists, non-finite numbers to None (JSON, and PostgreSQL's JSONB, have no NaN).

    An array converts in one `tolist()`, one with a NaN or an infinity by way of an object
    array with None in their places (a live preview converts thousands of numbers, and a
    sensitivity grid has broken cells).

    >>> _json({"grid": np.array([[1.5, np.nan], [np.inf, 2.0]]), "n": np.int64(3)})
    {'grid': [[1.5, None], [None, 2.0]], 'n': 3}
    """
    if isinstance(value, np.ndarray):
        if not value.ndim:
            return _json(value.item())
        if value.dtype.kind == "f":
            finite = np.isfinite(value)
            if not finite.all():
                holes = value.astype(object)
                holes[~finite] = None
                return holes.tolist()
            return value.tolist()
        if value.dtype.kind in "iub":
            return value.tolist()
        return [_json(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (np.floating, float)):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def _scalar(value: Any) -> float:
    return float(np.asarray(value).reshape(-1)[0])


# Where each engine input of a company lives in the assumption payload.
COMPANY_PATHS = {
    "revenue_growth": "operating.revenue_growth",
    "ebit_margin": "operating.ebit_margin",
    "da_pct_revenue": "operating.da_pct_revenue",
    "capex_pct_revenue": "operating.capex_pct_revenue",
    "nwc_pct_revenue": "operating.nwc_pct_revenue",
    "tax_rate": "operating.tax_rate",
    "base_revenue": "operating.base_revenue",
    "terminal_growth": "terminal.growth",
    "exit_multiple": "terminal.ev_ebitda",
    "wacc": "cost_of_capital",
    "diluted_shares": "shares",
}


@contextmanager
def _named(prefix: str, paths: dict[str, str] = COMPANY_PATHS) -> Iterator[None]:
    """Re-raise an engine input error with the field's path in the assumption payload."""
    try:
        yield
    except engine.EngineInputError as exc:
        field = paths.get(exc.field, exc.field)
        raise engine.EngineInputError(f"{prefix}.{field}", exc.reason) from exc


def _company_results(
    name: str, share_price: float, inputs: Any, result: Any, net_income: np.ndarray
) -> dict:
    return {
        "name": name,
        "share_price": share_price,
        "wacc": {
            "cost_of_equity": inputs.cost_of_capital.cost_of_equity,
            "after_tax_cost_of_debt": inputs.cost_of_capital.after_tax_cost_of_debt,
            "levered_beta": inputs.cost_of_capital.levered_beta,
            "wacc": inputs.dcf.wacc,
            "capm_wacc": inputs.cost_of_capital.wacc,
        },
        "diluted_shares": inputs.shares.total,
        "mid_year": inputs.dcf.mid_year,
        "bridge": {
            **{
                name: getattr(inputs.dcf, name)
                for name in (
                    "cash",
                    "investments",
                    "debt",
                    "lease_liabilities",
                    "minority_interest",
                    "preferred",
                )
            },
            "converted_debt": inputs.shares.converted_principal,
        },
        "net_income": net_income,
        "dcf": {
            field: getattr(result, field)
            for field in (
                "revenue",
                "ebit",
                "nopat",
                "da",
                "capex",
                "delta_nwc",
                "ebitda",
                "fcff",
                "discount_factors",
                "pv_fcff",
                "terminal_value",
                "pv_terminal_value",
                "enterprise_value",
                "equity_value",
                "value_per_share",
                "tv_share_of_ev",
                "implied_exit_multiple",
                "implied_terminal_growth",
            )
        },
    }


def _net_income(result: Any, interest_expense: float, tax_rate: float) -> np.ndarray:
    """Net income from the DCF's EBIT less interest on today's debt, taxed."""
    return (np.asarray(result.ebit) - interest_expense) * (1.0 - tax_rate)


def value_payload(payload: AssumptionPayload, *, seed: int | None = None) -> dict[str, Any]:
    """Every figure of the deal valuation, JSON-ready, from one assumption payload."""
    started = time.perf_counter()
    try:
        return _value_payload(payload, seed=seed)
    finally:
        add_engine_time(time.perf_counter() - started)


def _value_payload(payload: AssumptionPayload, *, seed: int | None = None) -> dict[str, Any]:
    terms = payload.deal_terms
    with _named("acquirer"):
        acq_in = company_inputs(payload.acquirer)
        acq_dcf = engine.dcf(acq_in.dcf)
    with _named("target"):
        tgt_in = company_inputs(payload.target)
        tgt_dcf = engine.dcf(tgt_in.dcf)

    # Target dilution is counted at the offer price, which does not depend on share counts.
    price = terms.acquirer_reference_price
    offer_args = {
        "structure": terms.structure.value,
        "exchange_ratio": terms.exchange_ratio,
        "value_per_share": terms.value_per_share,
        "cash_per_share": terms.cash_per_share,
        "collar_lower": terms.collar.lower if terms.collar else None,
        "collar_upper": terms.collar.upper if terms.collar else None,
        "walkaway_lower": terms.walkaway.lower if terms.walkaway else None,
        "walkaway_upper": terms.walkaway.upper if terms.walkaway else None,
        "target_unaffected_price": terms.target_unaffected_price,
    }
    first = engine.exchange_offer(
        acquirer_price=price,
        target_diluted_shares=1.0,
        acquirer_diluted_shares=1.0,
        **offer_args,
    )
    target_dilution = company_shares(payload.target, _scalar(first.implied_price))
    target_shares = target_dilution.total
    acquirer_shares = company_shares(payload.acquirer, price).total
    target_net_debt = net_debt(payload.target, target_dilution)
    history = terms.target_price_history
    target_vwap = (
        _scalar(engine.vwap(history.prices, history.volumes)) if history else terms.target_vwap
    )
    offer = engine.exchange_offer(
        acquirer_price=price,
        target_diluted_shares=target_shares,
        acquirer_diluted_shares=acquirer_shares,
        target_net_debt=target_net_debt,
        vwap=target_vwap,
        **offer_args,
    )
    ownership = _scalar(offer.target_ownership)
    # Shares issued at closing for the basic target shares alone: the proxy's ownership basis.
    basic = engine.exchange_offer(
        acquirer_price=price,
        target_diluted_shares=payload.target.shares.basic,
        acquirer_diluted_shares=payload.acquirer.shares.basic,
        **offer_args,
    )
    # The payoff across acquirer prices (one broadcast call): what a collar, or its absence, does.
    kinks = [b for band in (terms.collar, terms.walkaway) if band for b in (band.lower, band.upper)]
    path = np.unique(np.concatenate([price * np.linspace(0.4, 1.6, 61), kinks]))
    payoff = engine.exchange_offer(
        acquirer_price=path,
        target_diluted_shares=target_shares,
        acquirer_diluted_shares=acquirer_shares,
        **offer_args,
    )

    syn_in = synergy_inputs(payload)
    with _named("synergies", {}):
        synergies = engine.synergy_value(syn_in)
    premium_paid = _scalar(offer.equity_value) - terms.target_unaffected_price * target_shares
    breakeven_run_rate = engine.breakeven_synergies(premium_paid, syn_in)
    split = engine.synergy_split(_scalar(synergies.npv), ownership, premium_paid)

    acq_ni = _net_income(acq_dcf, acq_in.interest_expense, payload.acquirer.operating.tax_rate)
    tgt_ni = _net_income(tgt_dcf, tgt_in.interest_expense, payload.target.operating.tax_rate)
    run_rate = syn_in.run_rate_cost + syn_in.run_rate_revenue * syn_in.revenue_synergy_margin
    fin = payload.financing
    accretion = engine.accretion_dilution(
        engine.ProFormaInputs(
            acquirer_net_income=acq_ni,
            target_net_income=tgt_ni,
            acquirer_shares=acquirer_shares,
            new_shares=_scalar(offer.new_shares),
            synergies_pre_tax=np.asarray(syn_in.phase_in) * run_rate,
            tax_rate=payload.synergies.tax_rate,
            cash_used=fin.cash_used,
            interest_rate_on_cash=fin.interest_rate_on_cash,
            new_debt=fin.new_debt,
            new_debt_rate=fin.new_debt_rate,
            intangibles_writeup=fin.intangibles_writeup,
            amortisation_years=fin.amortisation_years,
        )
    )
    contribution = engine.contribution(
        {"revenue": acq_dcf.revenue, "ebitda": acq_dcf.ebitda, "net_income": acq_ni},
        {"revenue": tgt_dcf.revenue, "ebitda": tgt_dcf.ebitda, "net_income": tgt_ni},
    )
    capacity = payload.target.power_capacity_mw
    ev_per_mw = engine.ev_per_mw(offer.enterprise_value, capacity) if capacity else None

    mc_settings = payload.scenarios.monte_carlo
    mc_seed = mc_settings.seed if seed is None else seed
    with _named("scenarios.monte_carlo.distributions", {}):
        monte_carlo = engine.monte_carlo_dcf(
            tgt_in.dcf,
            {
                name: engine.Distribution(**spec.model_dump(exclude_none=True))
                for name, spec in mc_settings.distributions.items()
            },
            mc_settings.scenarios,
            mc_seed,
            offer_price=_scalar(offer.implied_price),
        )

    years = list(
        range(
            payload.first_projection_year, payload.first_projection_year + payload.projection_years
        )
    )
    results = {
        "meta": {
            "engine_version": engine.ENGINE_VERSION,
            "seed": mc_seed,
            "currency": payload.currency,
            "years": years,
        },
        "acquirer": _company_results(
            payload.acquirer.name, payload.acquirer.share_price, acq_in, acq_dcf, acq_ni
        ),
        "target": _company_results(
            payload.target.name, payload.target.share_price, tgt_in, tgt_dcf, tgt_ni
        ),
        "exchange": {
            "structure": terms.structure.value,
            "acquirer_price": price,
            "target_unaffected_price": terms.target_unaffected_price,
            "effective_ratio": offer.effective_ratio,
            "implied_price": offer.implied_price,
            "premium": offer.premium,
            "target_vwap": target_vwap,
            "target_vwap_days": len(history.prices) if history else None,
            "premium_to_vwap": offer.premium_to_vwap,
            "target_52_week": (
                [terms.target_52_week.lower, terms.target_52_week.upper]
                if terms.target_52_week
                else None
            ),
            "equity_value": offer.equity_value,
            "enterprise_value": offer.enterprise_value,
            "new_shares": offer.new_shares,
            "target_ownership": offer.target_ownership,
            "acquirer_ownership": offer.acquirer_ownership,
            "basic": {
                "new_shares": basic.new_shares,
                "equity_value": basic.equity_value,
                "target_ownership": basic.target_ownership,
                "target_shares": payload.target.shares.basic,
                "acquirer_shares": payload.acquirer.shares.basic,
            },
            "target_diluted_shares": target_shares,
            "acquirer_diluted_shares": acquirer_shares,
            "below_walkaway": offer.below_walkaway,
            "above_walkaway": offer.above_walkaway,
            "collar": [terms.collar.lower, terms.collar.upper] if terms.collar else None,
            "walkaway": [terms.walkaway.lower, terms.walkaway.upper] if terms.walkaway else None,
            "payoff": {
                "acquirer_price": path,
                "implied_price": payoff.implied_price,
                "target_ownership": payoff.target_ownership,
            },
        },
        "synergies": {
            "cost": np.asarray(syn_in.phase_in) * syn_in.run_rate_cost,
            "revenue": np.asarray(syn_in.phase_in)
            * syn_in.run_rate_revenue
            * syn_in.revenue_synergy_margin,
            "costs_to_achieve": syn_in.costs_to_achieve,
            "discount_factors": synergies.discount_factors,
            "pv": synergies.pv,
            "terminal_value": synergies.terminal_value,
            "pv_terminal_value": synergies.pv_terminal_value,
            "run_rate": run_rate,
            "tax_rate": payload.synergies.tax_rate,
            "discount_rate": payload.synergies.discount_rate,
            "pre_tax": synergies.pre_tax,
            "after_tax": synergies.after_tax,
            "npv": synergies.npv,
            "premium_paid": premium_paid,
            "breakeven_run_rate": breakeven_run_rate,
            "split": {"acquirer": split.acquirer, "target": split.target},
        },
        "accretion": {
            "standalone_eps": accretion.standalone_eps,
            "pro_forma_eps": accretion.pro_forma_eps,
            "accretion": accretion.accretion,
            "breakeven_synergies": accretion.breakeven_synergies,
        },
        "contribution": contribution,
        "ev_per_mw": ev_per_mw,
        "capacity_mw": capacity,
        "sensitivity": {
            "target": _sensitivity(payload, tgt_in.dcf, _scalar(tgt_dcf.implied_exit_multiple)),
            "exchange": _exchange_sensitivity(payload, offer_args, target_shares, acquirer_shares),
        },
        "monte_carlo": {
            "n_requested": monte_carlo.n_requested,
            "n_valid": monte_carlo.n_valid,
            "n_rejected": monte_carlo.n_rejected,
            "rejected_by_rule": monte_carlo.rejected_by_rule,
            "percentiles": monte_carlo.percentiles,
            "mean": monte_carlo.mean,
            "std": monte_carlo.std,
            "prob_above_offer": monte_carlo.prob_above_offer,
            "histogram": {
                "counts": monte_carlo.histogram_counts,
                "edges": monte_carlo.histogram_edges,
            },
            "drawn": sorted(mc_settings.distributions),
        },
    }
    return _json(results)


def _grid(
    inputs: engine.DCFInputs, rows: np.ndarray, column: str, columns: np.ndarray, steps: int
) -> dict[str, Any]:
    grid = engine.dcf_grid(inputs, **{"wacc": rows, column: columns})
    return {
        "rows": "wacc",
        "row_values": rows,
        "columns": column,
        "column_values": columns,
        "value_per_share": grid.value_per_share,
        "n_invalid": grid.n_invalid,
        "base": [steps, steps],
    }


def _sensitivity(
    payload: AssumptionPayload, inputs: engine.DCFInputs, implied_multiple: float
) -> dict[str, Any]:
    """Target value per share on WACC x terminal growth and on WACC x exit multiple.

    The grid for the method in use is centred on its input; the other one on the equivalent
    figure (the Gordon value's implied multiple, or the multiple's implied growth), so the two
    read as alternatives around the same valuation.
    """
    sens = payload.scenarios.sensitivity
    steps = np.arange(-sens.steps, sens.steps + 1)
    wacc_axis = float(inputs.wacc) + steps * sens.wacc_step
    gordon = inputs if inputs.terminal_method == "gordon" else None
    base_multiple = (
        float(inputs.exit_multiple)
        if inputs.terminal_method == "exit_multiple"
        else round(implied_multiple * 2) / 2
    )
    multiple = replace(inputs, terminal_method="exit_multiple", exit_multiple=base_multiple)
    grids = {
        "multiple": _grid(
            multiple, wacc_axis, "exit_multiple", base_multiple + steps * 1.0, sens.steps
        )
    }
    if gordon is not None:
        growth_axis = float(inputs.terminal_growth) + steps * sens.growth_step
        grids["growth"] = _grid(gordon, wacc_axis, "terminal_growth", growth_axis, sens.steps)
    grids["primary"] = "growth" if gordon is not None else "multiple"
    return grids


def _exchange_sensitivity(
    payload: AssumptionPayload,
    offer_args: dict[str, Any],
    target_shares: float,
    acquirer_shares: float,
) -> dict[str, Any] | None:
    """Premium and ownership on exchange ratio x acquirer price (fixed-ratio deals)."""
    terms = payload.deal_terms
    if terms.exchange_ratio is None or terms.structure.value != "fixed_ratio":
        return None
    ratios = terms.exchange_ratio * np.array([0.8, 0.9, 1.0, 1.1, 1.2])
    prices = terms.acquirer_reference_price * np.array([0.7, 0.85, 1.0, 1.15, 1.3])
    grid = engine.exchange_grid(
        ratios,
        prices,
        target_unaffected_price=terms.target_unaffected_price,
        target_diluted_shares=target_shares,
        acquirer_diluted_shares=acquirer_shares,
        cash_per_share=terms.cash_per_share,
        collar_lower=offer_args["collar_lower"],
        collar_upper=offer_args["collar_upper"],
    )
    return {
        "ratios": ratios,
        "prices": prices,
        "implied_price": grid.implied_price,
        "premium": grid.premium,
        "target_ownership": grid.target_ownership,
        "base": [2, 2],
    }


def headline_figures(payload: dict[str, Any]) -> dict[str, float | None]:
    """The figures comparisons and upload previews show, valued without the Monte Carlo.

    Accretion is None in a year the acquirer has no positive standalone EPS (not meaningful).
    """
    model = AssumptionPayload.model_validate(payload)
    settings = model.scenarios.monte_carlo
    quick = model.model_copy(
        update={
            "scenarios": model.scenarios.model_copy(
                update={"monte_carlo": settings.model_copy(update={"scenarios": 100})}
            )
        }
    )
    r = value_payload(quick)
    return {
        "target": r["target"]["dcf"]["value_per_share"],
        "acquirer": r["acquirer"]["dcf"]["value_per_share"],
        "premium": r["exchange"]["premium"],
        "ownership": r["exchange"]["target_ownership"],
        "accretion": r["accretion"]["accretion"][0],
    }


def newest_run_id(version_id: ColumnElement[int]) -> ScalarSelect[int]:
    """The id of a version's newest stored run by the current engine (None if there is none),
    as a subquery: `latest_run` reads by it, and a page may read the run in its own statement."""
    other = aliased(ValuationRun)
    return (
        select(func.max(other.id))
        .where(
            other.assumption_set_id == version_id,
            other.engine_version == engine.ENGINE_VERSION,
        )
        .scalar_subquery()
    )


_LATEST_RUN = (
    select(ValuationRun)
    .options(defer(ValuationRun.results))
    .where(ValuationRun.id == newest_run_id(bindparam("version")))
)


def latest_run(session: Session, version: AssumptionSet) -> ValuationRun | None:
    """The newest stored run of this version by the current engine, if any.

    Its results (the large JSON) load when first read: a page whose sections are already
    rendered for this run never reads them.
    """
    return session.scalars(_LATEST_RUN, {"version": version.id}).one_or_none()


def run_valuation(
    session: Session, version: AssumptionSet, *, seed: int | None = None
) -> ValuationRun:
    """Value a saved version and store the run (flushes; the caller's transaction commits)."""
    payload = AssumptionPayload.model_validate(version.payload)
    started = time.perf_counter()
    results = value_payload(payload, seed=seed)
    run = ValuationRun(
        assumption_set_id=version.id,
        engine_version=engine.ENGINE_VERSION,
        seed=results["meta"]["seed"],
        results=results,
        duration_s=time.perf_counter() - started,
    )
    session.add(run)
    session.flush()
    return run


def current_run(session: Session, version: AssumptionSet) -> ValuationRun:
    """The stored run for this version and engine, valuing it first if there is none."""
    return latest_run(session, version) or run_valuation(session, version)
