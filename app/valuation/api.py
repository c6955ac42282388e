"""JSON routes: the calculator (what-ifs on the engine) and deal valuations."""

from collections.abc import Iterable
from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Query, status
from fastapi.exceptions import RequestValidationError

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
    UNDEFINED_WHEN_ZERO,
    DCFRequest,
    DCFResponse,
    ExchangeRequest,
    ExchangeResponse,
    ValuationRunOut,
)
from app.web.api_errors import INVALID, TOO_LARGE, UNREADABLE, errors

router = APIRouter(prefix="/api/v1", tags=["calculator"])

_INPUT = errors({400: UNREADABLE, 413: TOO_LARGE, 422: INVALID})


def _outputs(result: Any, names: Iterable[str], undefined: frozenset[str] = frozenset()) -> dict:
    """The engine's outputs as JSON numbers.

    A ratio in `undefined` whose denominator is zero is null; any other number that is not
    finite means the inputs overflow float64 (a share count of 1e-300, say): a 422, never a
    null where the schema promises a number.
    """
    values: dict[str, Any] = {}
    overflow = []
    for name in names:
        array = np.asarray(getattr(result, name), dtype=np.float64)
        finite = bool(np.isfinite(array).all())
        if name in undefined and array.ndim == 0:
            values[name] = float(array) if finite else None
        elif finite:
            values[name] = array.tolist() if array.ndim else float(array)
        else:
            overflow.append(name)
    if overflow:
        message = (
            f"these inputs make {', '.join(overflow)} too large to compute "
            "(beyond 1.8e308); check their scale"
        )
        raise RequestValidationError([{"loc": ("body",), "msg": message, "type": "value_error"}])
    return values


# Engine field names that the request spells differently.
_REQUEST_PATHS = {
    "terminal_growth": "terminal.growth",
    "exit_multiple": "terminal.ev_ebitda",
    "debt": "net_debt",
    "cash": "net_debt",
}


@router.post("/calc/dcf", response_model=DCFResponse, responses=_INPUT)
def calc_dcf(body: DCFRequest, user: Viewer) -> DCFResponse:
    """Value one company by FCFF DCF. Rates are fractions (0.09 for 9%), money in units."""
    try:
        with np.errstate(all="ignore"):  # an overflow is answered by _outputs, not logged
            result = _dcf(body)
    except engine.EngineInputError as exc:
        raise engine.EngineInputError(_REQUEST_PATHS.get(exc.field, exc.field), exc.reason) from exc
    fields = DCFResponse.model_fields.keys() - {"years"}
    return DCFResponse(
        years=len(body.revenue_growth), **_outputs(result, fields, UNDEFINED_WHEN_ZERO)
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


@router.post("/calc/exchange", response_model=ExchangeResponse, responses=_INPUT)
def calc_exchange(body: ExchangeRequest, user: Viewer) -> ExchangeResponse:
    """Offer terms at one acquirer price or along a list of prices (collars applied)."""
    with np.errstate(all="ignore"):  # an overflow is answered by _outputs, not logged
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
    return ExchangeResponse(**_outputs(result, ExchangeResponse.model_fields))


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
    responses=errors({404: "No such deal, or no run of its current version yet", 422: INVALID}),
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
    responses=errors({404: "No such deal", 413: TOO_LARGE, 422: INVALID}),
)
def value_deal(
    slug: str,
    session: SessionDep,
    user: Analyst,
    seed: Annotated[int | None, Query(ge=0, lt=2**63, description="Monte Carlo seed")] = None,
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
