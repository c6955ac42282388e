"""HTML routes for browsing deals."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.auth.access import Analyst, Viewer
from app.db import SessionDep
from app.deals import service
from app.deals.forms import (
    FACT_ROWS,
    SOURCE_ROWS,
    deal_to_form,
    error_messages,
    error_summary,
    form_to_data,
)
from app.deals.models import ConsiderationType, Deal, DealStatus, FactBasis, FactUnit
from app.deals.schemas import DealCreate
from app.errors import ConflictError
from app.web.csrf import CsrfDep
from app.web.templating import FormValues, is_htmx, templates

router = APIRouter(tags=["pages"], include_in_schema=False)

UNIT_LABELS = {
    "usd": "USD",
    "usd_per_share": "USD per share",
    "ratio": "Ratio",
    "fraction": "Fraction (%)",
    "shares": "Shares",
    "mw": "MW",
    "count": "Count",
    "date": "Date",
    "text": "Text",
}


@router.get("/", response_class=HTMLResponse)
def deal_list(
    request: Request,
    session: SessionDep,
    user: Viewer,
    q: Annotated[str, Query(max_length=100)] = "",
    status: DealStatus | Literal[""] = "",
    sector: Annotated[str, Query(max_length=80)] = "",
    consideration: ConsiderationType | Literal[""] = "",
    sort: service.SortKey = "announced",
    direction: Annotated[Literal["asc", "desc"], Query(alias="dir")] = "desc",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    """The deal list; the URL holds the search, filter, order and page, so it can be shared."""
    query = service.DealQuery(
        q=q.strip(),
        status=status or None,
        sector=sector or None,
        consideration_type=consideration or None,
        sort=sort,
        descending=direction == "desc",
        page=page,
    )
    context = {
        "result": service.list_deals(session, query, viewer=user),
        "statuses": [s.value for s in DealStatus],
        "sectors": service.sectors(session, viewer=user),
        "consideration_types": [c.value for c in ConsiderationType],
    }
    # A live search or filter swaps only the results; a plain visit gets the whole page.
    template = "deals/_results.html" if is_htmx(request) else "deals/list.html"
    return templates.TemplateResponse(request, template, context)


def _form_page(
    request: Request,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    deal: Deal | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = {
        "values": values,
        "errors": errors or {},
        "problems": error_summary(errors or {}),
        "deal": deal,
        "statuses": [s.value for s in DealStatus],
        "consideration_types": [c.value for c in ConsiderationType],
        "source_rows": max(SOURCE_ROWS, len(deal.sources) + 2 if deal else 0),
        "fact_rows": (len(deal.facts) if deal else 0) + FACT_ROWS,
        "units": [u.value for u in FactUnit],
        "unit_labels": UNIT_LABELS,
        "bases": [b.value for b in FactBasis],
    }
    return templates.TemplateResponse(request, "deals/form.html", context, status_code=status_code)


def _done(request: Request, location: str) -> Response:
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def _fields(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k != "csrf_token"}


@router.get("/deals/new", response_class=HTMLResponse)
def new_deal_form(request: Request, user: Analyst) -> HTMLResponse:
    return _form_page(request, {"status": "announced", "currency": "USD"})


@router.post("/deals", response_class=HTMLResponse, dependencies=[CsrfDep])
def create_deal(request: Request, session: SessionDep, user: Analyst, form: FormValues) -> Response:
    values = _fields(form)
    try:
        data = DealCreate.model_validate(form_to_data(values))
        deal = service.create_deal(session, data, creator=user, actor=user.actor)
    except ValidationError as exc:
        return _form_page(request, values, error_messages(exc), status_code=422)
    except ConflictError as exc:
        errors = {exc.field or "": exc.message}
        return _form_page(request, values, errors, status_code=409)
    return _done(request, f"/deals/{deal.slug}")


@router.get("/deals/{slug}/edit", response_class=HTMLResponse)
def edit_deal_form(slug: str, request: Request, session: SessionDep, user: Analyst) -> HTMLResponse:
    deal = service.get_deal(session, slug, viewer=user)
    return _form_page(request, deal_to_form(deal), deal=deal)


@router.post("/deals/{slug}/edit", response_class=HTMLResponse, dependencies=[CsrfDep])
def update_deal(
    slug: str, request: Request, session: SessionDep, user: Analyst, form: FormValues
) -> Response:
    deal = service.get_deal(session, slug, viewer=user)
    values = _fields(form)
    try:
        data = DealCreate.model_validate(form_to_data(values))
        revision = int(values.get("revision", "0"))
        deal = service.update_deal(session, slug, data, revision, viewer=user, actor=user.actor)
    except ValidationError as exc:
        errors = error_messages(exc)
        return _form_page(request, values, errors, deal=deal, status_code=422)
    except ConflictError as exc:
        errors = {"" if exc.field == "revision" else exc.field or "": exc.message}
        return _form_page(request, values, errors, deal=deal, status_code=409)
    return _done(request, f"/deals/{deal.slug}")


@router.post("/deals/{slug}/delete", dependencies=[CsrfDep])
def delete_deal(
    slug: str, request: Request, session: SessionDep, user: Analyst, form: FormValues
) -> Response:
    """Soft delete: the deal leaves the list; its versions and valuation runs are kept."""
    revision = int(form["revision"]) if form.get("revision", "").isdigit() else None
    service.delete_deal(session, slug, revision, viewer=user, actor=user.actor)
    return _done(request, "/")
