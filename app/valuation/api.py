"""JSON routes: the calculator (what-ifs on the engine) and deal valuations."""

from typing import Any

import numpy as np
from fastapi import APIRouter, status

from app import engine
from app.assumptions.models import AssumptionSet
from app.assumptions.service import current_version
from app.audit.service import record
from app.auth.access import Analyst, Viewer
from app.auth.principal import Principal
from app.db import SessionDep
from app.deals.service import get_deal
from app.errors import NotFoundError
from app.valuation import service
from app.valuation.models import ValuationRun
from app.valuation.schemas import (
    DCFRequest,
    DCFResponse,
    ExchangeRequest,
    ExchangeResponse,
    ValuationRunOut,
)

router = APIRouter(prefix="/api/v1", tags=["calculator"])

_422 = {422: {"description": "Invalid input; `detail` names each offending field and why"}}


def _plain(value: Any) -> Any:
    array = np.asarray(value, dtype=np.float64)
    return array.tolist() if array.ndim else float(array)


# Engine field names that the request spells differently.
_REQUEST_PATHS = {
    "terminal_growth": "terminal.growth",
    "exit_multiple": "terminal.ev_ebitda",
    "debt": "net_debt",
    "cash": "net_debt",
}


@router.post("/calc/dcf", response_model=DCFResponse, responses=_422)
def calc_dcf(body: DCFRequest, user: Viewer) -> DCFResponse:
    """Value one company by FCFF DCF. Rates are fractions (0.09 for 9%), money in units."""
    try:
        result = _dcf(body)
    except engine.EngineInputError as exc:
        raise engine.EngineInputError(_REQUEST_PATHS.get(exc.field, exc.field), exc.reason) from exc
    fields = DCFResponse.model_fields.keys() - {"years"}
    return DCFResponse(
        years=len(body.revenue_growth), **{name: _plain(getattr(result, name)) for name in fields}
    )


def _dcf(body: DCFRequest) -> engine.DCFResult:
    terminal = body.terminal
    return engine.dcf(
        engine.DCFInputs(
            base_revenue=body.base_revenue,
            revenue_growth=body.revenue_growth,
            ebit_margin=body.ebit_margin,
            da_pct_revenue=body.da_pct_revenue,
            capex_pct_revenue=body.capex_pct_revenue,
            nwc_pct_revenue=body.nwc_pct_revenue,
            tax_rate=body.tax_rate,
            wacc=body.wacc,
            diluted_shares=body.diluted_shares,
            terminal_method=terminal.method,
            terminal_growth=getattr(terminal, "growth", 0.0),
            exit_multiple=getattr(terminal, "ev_ebitda", 0.0),
            mid_year=body.mid_year,
            debt=max(body.net_debt, 0.0),
            cash=max(-body.net_debt, 0.0),
        )
    )


@router.post("/calc/exchange", response_model=ExchangeResponse, responses=_422)
def calc_exchange(body: ExchangeRequest, user: Viewer) -> ExchangeResponse:
    """Offer terms at one acquirer price or along a list of prices (collars applied)."""
    result = engine.exchange_offer(
        structure=body.structure.value,
        acquirer_price=body.acquirer_price,
        target_unaffected_price=body.target_unaffected_price,
        target_diluted_shares=body.target_diluted_shares,
        acquirer_diluted_shares=body.acquirer_diluted_shares,
        exchange_ratio=body.exchange_ratio,
        value_per_share=body.value_per_share,
        cash_per_share=body.cash_per_share,
        collar_lower=body.collar.lower if body.collar else None,
        collar_upper=body.collar.upper if body.collar else None,
    )
    return ExchangeResponse(
        **{name: _plain(getattr(result, name)) for name in ExchangeResponse.model_fields}
    )


def _run_out(run: ValuationRun, version_number: int) -> ValuationRunOut:
    return ValuationRunOut(
        id=run.id,
        assumption_version=version_number,
        engine_version=run.engine_version,
        seed=run.seed,
        duration_s=run.duration_s,
        created_at=run.created_at,
        results=run.results,
    )


def _version(session: SessionDep, slug: str, user: Principal) -> AssumptionSet:
    deal = get_deal(session, slug, viewer=user)
    version = current_version(session, deal.id)
    if version is None:
        raise NotFoundError(f"Deal {slug!r} has no saved assumptions to value.", field="slug")
    return version


@router.get(
    "/deals/{slug}/valuation",
    response_model=ValuationRunOut,
    tags=["valuations"],
    responses={404: {"description": "No such deal, or no run of its current version yet"}},
)
def latest_valuation(slug: str, session: SessionDep, user: Viewer) -> ValuationRunOut:
    """The latest stored run of the deal's current assumption version by this engine."""
    version = _version(session, slug, user)
    run = service.latest_run(session, version)
    if run is None:
        raise NotFoundError(
            f"The current assumptions of {slug!r} have not been valued by engine "
            f"{engine.ENGINE_VERSION} yet; POST to /api/v1/deals/{slug}/valuations.",
            field="slug",
        )
    return _run_out(run, version.version)


@router.post(
    "/deals/{slug}/valuations",
    response_model=ValuationRunOut,
    status_code=status.HTTP_201_CREATED,
    tags=["valuations"],
    responses={404: {"description": "No such deal"}, **_422},
)
def value_deal(
    slug: str, session: SessionDep, user: Analyst, seed: int | None = None
) -> ValuationRunOut:
    """Value the deal's current assumption version now and store the run."""
    version = _version(session, slug, user)
    run = service.run_valuation(session, version, seed=seed)
    record(
        session,
        user.actor,
        "valuation.run",
        deal_id=version.deal_id,
        version=version.version,
        summary=f"Valued v{version.version} with seed {run.seed}",
    )
    return _run_out(run, version.version)
