"""The deal page and its assumption editor.

It lives above deals, assumptions and valuation because it shows all of them.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.assumptions import diff
from app.assumptions import service as assumptions
from app.assumptions.models import AssumptionSet
from app.assumptions.schemas import AssumptionPayload, canonical
from app.assumptions.upload import UploadError, read_capped
from app.db import SessionDep
from app.deals import service as deals
from app.engine import ENGINE_VERSION, EngineInputError
from app.errors import ConflictError, DomainError, NotFoundError, UnprocessableError
from app.valuation import service as valuation
from app.valuation.charts import charts
from app.web.csrf import CsrfDep
from app.web.templating import is_htmx, templates
from app.workspace import editor, uploads

router = APIRouter(tags=["pages"], include_in_schema=False)

PREVIEW_PATHS = 10_000
"""Monte Carlo paths in a live preview; saving values with the version's own setting."""

HEADLINE_KEYS = (
    "exchange_ratio",
    "acquirer_reference_price",
    "implied_price",
    "unaffected_price",
    "premium",
    "equity_value",
    "target_ownership",
    "acquirer_ownership",
    "new_shares",
    "power_capacity_mw",
    "run_rate_synergies",
)


@router.get("/deals/{slug}", response_class=HTMLResponse)
def deal_page(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    deal = deals.get_deal(session, slug)
    headline = [f for key in HEADLINE_KEYS if (f := deal.fact(key)) is not None]
    other = [f for f in deal.facts if f.key not in HEADLINE_KEYS]
    version = assumptions.current_version(session, deal.id)
    run, valuation_error = None, None
    if version is not None:
        try:
            run = valuation.current_run(session, version)
        except EngineInputError as exc:
            valuation_error = str(exc)
    context = {
        "deal": deal,
        "headline": headline,
        "other_facts": other,
        "version": version,
        "run": run,
        "charts": charts(run.results) if run else None,
        "valuation_error": valuation_error,
        "editor": editor.sections(version.payload) if version else None,
    }
    return templates.TemplateResponse(request, "workspace/deal.html", context)


def _current(session: Session, slug: str) -> tuple[Any, AssumptionSet]:
    deal = deals.get_deal(session, slug)
    version = assumptions.current_version(session, deal.id)
    if version is None:
        raise NotFoundError(f"Deal {slug!r} has no assumptions to edit.", field="slug")
    return deal, version


def _edited(version: AssumptionSet, form: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The edited payload, validated, or the messages to show beside the fields."""
    edited, errors = editor.apply_edits(version.payload, form)
    if errors:
        return None, errors
    try:
        return AssumptionPayload.model_validate(edited), {}
    except ValidationError as exc:
        return None, editor.validation_messages(exc, editor.editable_names(version.payload))


def _preview_context(session: Session, slug: str, form: dict[str, str]) -> dict[str, Any]:
    deal, version = _current(session, slug)
    payload, errors = _edited(version, form)
    context: dict[str, Any] = {
        "deal": deal,
        "version": version,
        "names": editor.editable_names(version.payload),
        "errors": errors,
    }
    if errors:
        return context
    settings = payload.scenarios.monte_carlo
    quick = payload.model_copy(
        update={
            "scenarios": payload.scenarios.model_copy(
                update={
                    "monte_carlo": settings.model_copy(
                        update={"scenarios": min(PREVIEW_PATHS, settings.scenarios)}
                    )
                }
            )
        }
    )
    started = time.perf_counter()
    try:
        results = valuation.value_payload(quick)
    except EngineInputError as exc:
        field = exc.field if exc.field in context["names"] else ""
        context["errors"] = {field: exc.reason if field else str(exc)}
        return context
    run = SimpleNamespace(
        results=results,
        engine_version=ENGINE_VERSION,
        seed=results["meta"]["seed"],
        duration_s=time.perf_counter() - started,
    )
    context |= {"run": run, "charts": charts(results), "preview": True}
    return context


@router.post("/deals/{slug}/preview", response_class=HTMLResponse, dependencies=[CsrfDep])
async def preview(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Recompute every figure from the editor's unsaved values; swap only what changed."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    context = await run_in_threadpool(_preview_context, session, slug, form)
    status = 422 if context["errors"] else 200
    return templates.TemplateResponse(
        request, "workspace/_preview.html", context, status_code=status
    )


def _save(session: Session, slug: str, form: dict[str, str]) -> dict[str, Any]:
    deal, version = _current(session, slug)
    payload, errors = _edited(version, form)
    if errors:
        return {
            "deal": deal,
            "version": version,
            "errors": errors,
            "names": editor.editable_names(version.payload),
        }
    try:
        parent = int(form.get("parent_id", ""))
    except ValueError as exc:
        raise DomainError("The form lost track of its version; reload the page.") from exc
    saved = assumptions.save_version(
        session,
        deal.id,
        payload,
        author=(form.get("author") or "analyst").strip()[:120],
        note=form.get("note", "").strip()[:2000],
        expected_parent_id=parent,
    )
    valuation.run_valuation(session, saved)
    return {"deal": deal, "saved": saved}


@router.post("/deals/{slug}/versions", dependencies=[CsrfDep])
async def save_version(slug: str, request: Request, session: SessionDep) -> Response:
    """Store the editor's values as a new immutable version and value it."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    try:
        context = await run_in_threadpool(_save, session, slug, form)
    except ConflictError as exc:
        if not is_htmx(request):
            raise
        deal, version = _current(session, slug)
        context = {
            "deal": deal,
            "version": version,
            "errors": {"": exc.message},
            "names": editor.editable_names(version.payload),
        }
        return templates.TemplateResponse(
            request, "workspace/_preview.html", context, status_code=409
        )
    if "saved" not in context:
        if not is_htmx(request):
            message = "; ".join(f"{k or 'assumptions'}: {v}" for k, v in context["errors"].items())
            raise UnprocessableError(f"Nothing was saved. {message}")
        return templates.TemplateResponse(
            request, "workspace/_preview.html", context, status_code=422
        )
    if is_htmx(request):  # reload the page the editor is on, now showing the new version
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return RedirectResponse(f"/deals/{slug}", status_code=303)


def _history(session: Session, slug: str) -> dict[str, Any]:
    deal = deals.get_deal(session, slug)
    versions = assumptions.list_versions(session, deal.id)
    current = assumptions.current_version(session, deal.id)
    rows = []
    for version in versions:
        try:
            results = valuation.current_run(session, version).results
        except EngineInputError as exc:
            rows.append({"version": version, "error": str(exc)})
            continue
        rows.append(
            {
                "version": version,
                "acquirer_value": results["acquirer"]["dcf"]["value_per_share"],
                "target_value": results["target"]["dcf"]["value_per_share"],
                "premium": results["exchange"]["premium"],
                "ownership": results["exchange"]["target_ownership"],
                "accretion": results["accretion"]["accretion"][0],
            }
        )
    numbers = {v.id: v.version for v in versions}
    return {"deal": deal, "rows": rows, "current": current, "numbers": numbers}


@router.get("/deals/{slug}/versions", response_class=HTMLResponse)
def version_history(slug: str, request: Request, session: SessionDep) -> HTMLResponse:
    """Every saved version with its headline outputs; any old one can be restored."""
    return templates.TemplateResponse(request, "workspace/versions.html", _history(session, slug))


def _revert(session: Session, slug: str, number: int, form: dict[str, str]) -> None:
    deal, _ = _current(session, slug)
    target = next(
        (v for v in assumptions.list_versions(session, deal.id) if v.version == number), None
    )
    if target is None:
        raise NotFoundError(f"{deal.name} has no version {number}.", field="version")
    try:
        parent = int(form.get("parent_id", ""))
    except ValueError as exc:
        raise DomainError("The page lost track of the current version; reload it.") from exc
    saved = assumptions.save_version(
        session,
        deal.id,
        AssumptionPayload.model_validate(target.payload),
        author=(form.get("author") or "analyst").strip()[:120],
        note=f"Revert to v{number}",
        expected_parent_id=parent,
    )
    valuation.run_valuation(session, saved)


@router.post("/deals/{slug}/versions/{number}/revert", dependencies=[CsrfDep])
async def revert(slug: str, number: int, request: Request, session: SessionDep) -> Response:
    """A new version copying an old one: history only grows, nothing is overwritten."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    await run_in_threadpool(_revert, session, slug, number, form)
    return RedirectResponse(f"/deals/{slug}", status_code=303)


WATERFALL_STEPS = 80
"""Most inputs a comparison values one at a time; beyond that the rest come as one step."""


def _compare(session: Session, slug: str, a: int, b: int) -> dict[str, Any]:
    deal = deals.get_deal(session, slug)
    by_number = {v.version: v for v in assumptions.list_versions(session, deal.id)}
    missing = [n for n in (a, b) if n not in by_number]
    if missing:
        raise NotFoundError(f"{deal.name} has no version {missing[0]}.", field="version")
    old, new = canonical(by_number[a].payload), canonical(by_number[b].payload)
    items = diff.changes(old, new)
    start = previous = valuation.headline_figures(old)
    rows = []
    current = old
    for i, change in enumerate(items):
        if i == WATERFALL_STEPS:  # the long tail as one step, so the page stays quick
            change = diff.Change(f"{len(items) - i} more inputs", None, None)
            current = new
        else:
            current = diff.apply(current, change)
        try:
            figures = valuation.headline_figures(current)
        except (ValidationError, EngineInputError) as exc:
            rows.append({"change": change, "error": str(exc).splitlines()[0]})
            continue
        rows.append({"change": change, "delta": _deltas(figures, previous)})
        previous = figures
        if i == WATERFALL_STEPS:
            break
    end = valuation.headline_figures(new)
    return {
        "deal": deal,
        "a": by_number[a],
        "b": by_number[b],
        "rows": rows,
        "start": start,
        "end": end,
        "total": _deltas(end, start),
    }


def _deltas(new: dict[str, float | None], old: dict[str, float | None]) -> dict[str, Any]:
    """Change in each figure; None where either side does not exist (accretion on a loss)."""
    return {k: None if new[k] is None or old[k] is None else new[k] - old[k] for k in new}


@router.get("/deals/{slug}/versions/compare", response_class=HTMLResponse)
def compare_versions(
    slug: str, a: int, b: int, request: Request, session: SessionDep
) -> HTMLResponse:
    """Field-by-field differences of two versions, and a waterfall of what each one did to
    the values: the inputs change one at a time, in the order listed, so the steps add up."""
    context = _compare(session, slug, a, b)
    return templates.TemplateResponse(request, "workspace/compare.html", context)


@router.post("/deals/{slug}/upload", response_class=HTMLResponse, dependencies=[CsrfDep])
async def upload_preview(
    slug: str, request: Request, session: SessionDep, file: UploadFile = File(...)
) -> HTMLResponse:
    """Show what an uploaded file would change; nothing is stored until it is confirmed."""
    deal = deals.get_deal(session, slug)
    status = 200
    try:
        data = await read_capped(file, request.app.state.settings.max_upload_bytes)
        context = await run_in_threadpool(
            uploads.preview,
            session,
            deal,
            data,
            file.filename or "file",
            request.app.state.secret_key,
        )
    except UploadError as exc:
        context, status = {"deal": deal, "problems": exc.problems}, exc.status
    return templates.TemplateResponse(
        request, "workspace/_upload_preview.html", context, status_code=status
    )


@router.post("/deals/{slug}/upload/confirm", dependencies=[CsrfDep])
async def upload_confirm(slug: str, request: Request, session: SessionDep) -> Response:
    """Store the previewed file as a new version."""
    form = {k: str(v) for k, v in (await request.form()).items()}
    deal = deals.get_deal(session, slug)
    await run_in_threadpool(
        uploads.confirm,
        session,
        deal,
        form.get("token", ""),
        request.app.state.secret_key,
        form.get("author", ""),
        form.get("note", ""),
    )
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": f"/deals/{slug}"})
    return RedirectResponse(f"/deals/{slug}", status_code=303)
