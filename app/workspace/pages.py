"""The deal page and its assumption editor.

It lives above deals, assumptions and valuation because it shows all of them.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from threading import Lock
from types import SimpleNamespace
from typing import Any

from cachetools import LRUCache
from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.assumptions.models import AssumptionSet
from app.assumptions.upload import UploadError, read_capped
from app.auth.access import Analyst, Viewer
from app.db import SessionDep
from app.deals import service as deals
from app.errors import ConflictError, UnprocessableError
from app.types import RowNumber
from app.valuation.charts import charts
from app.web.csrf import CsrfDep
from app.web.templating import FormValues, is_htmx, templates
from app.workspace import editor, service, uploads

router = APIRouter(tags=["pages"], include_in_schema=False)

PARTS = (
    "label",
    "kpis",
    "terms",
    "standalone",
    "synergies",
    "sensitivities",
    "pro_forma",
    "capacity",
    "monte_carlo",
    "football_field",
)
"""The valuation's sections, each a partial the page includes and a preview can swap alone."""


def _figures(run: Any, version: AssumptionSet, preview: bool = False) -> dict[str, Any]:
    """What the valuation partials render from."""
    results = run.results
    return {
        "run": run,
        "r": results,
        "years": results["meta"]["years"],
        "charts": charts(results),
        "version": version,
        "preview": preview,
    }


def _parts(request: Request | None, figures: dict[str, Any]) -> dict[str, str]:
    """Each section rendered as its out-of-band swap."""
    context = {"request": request, "oob": True, **figures}
    return {
        name: templates.get_template(f"valuation/_{name}.html").render(context) for name in PARTS
    }


def _digests(request: Request | None, parts: dict[str, str]) -> dict[str, str]:
    """A digest of each section as shown, leaving out this response's CSP nonce (it differs
    every time while the figures may not)."""
    nonce = getattr(request.state, "csp_nonce", "") if request is not None else ""
    return {
        name: hashlib.blake2b(
            (html.replace(nonce, "") if nonce else html).encode(), digest_size=8
        ).hexdigest()
        for name, html in parts.items()
    }


@dataclass(frozen=True)
class Rendered:
    """A stored run's valuation section as the page shows it, and each part's digest."""

    html: str
    shown: dict[str, str]


_LOCK = Lock()


def saved_sections(request: Request, run: Any, version: AssumptionSet) -> Rendered:
    """A stored run never changes, so its rendering is kept, per app, by the run.

    Rendered without a request, so nothing per-response (a nonce, a token) is in it: the
    parts are out-of-band ones with an empty nonce, which digest exactly as a live preview's
    do once their nonce is left out.
    """
    state = request.app.state
    with _LOCK:
        if not hasattr(state, "rendered"):
            state.rendered = LRUCache(maxsize=128)
        cache: LRUCache[tuple[int, str], Rendered] = state.rendered
        key = (run.id, str(run.created_at))
        found = cache.get(key)
    if found is not None:
        return found
    figures = _figures(run, version)
    html = templates.get_template("valuation/_results.html").render(figures)
    found = Rendered(html, _digests(None, _parts(None, figures)))
    with _LOCK:
        cache[key] = found
    return found


CSRF_MARK, NONCE_MARK, SHOWN_MARK = (
    "DEALBOOK-CSRF-MARK",
    "DEALBOOK-NONCE-MARK",
    "<!--editor-shown-->",
)
MARKED = SimpleNamespace(state=SimpleNamespace(csrf_token=CSRF_MARK, csp_nonce=NONCE_MARK))
"""A stand-in request whose token and nonce are placeholders, filled in per response."""


def kept(
    request: Request,
    name: str,
    key: Any,
    template: str,
    context: dict[str, Any] | Callable[[], dict[str, Any]],
) -> str:
    """Markup that is the same for every response but for the CSRF token and CSP nonce,
    rendered once per key and kept (per app, in the LRU `name`), then filled in. A callable
    `context` is only called to render, so a kept key costs no query."""
    state = request.app.state
    with _LOCK:
        if not hasattr(state, name):
            setattr(state, name, LRUCache(maxsize=64))
        cache: LRUCache[Any, str] = getattr(state, name)
        html = cache.get(key)
    if html is None:
        values = context() if callable(context) else context
        html = templates.get_template(template).render({**values, "request": MARKED})
        with _LOCK:
            cache[key] = html
    return html.replace(CSRF_MARK, request.state.csrf_token).replace(
        NONCE_MARK, request.state.csp_nonce
    )


def editor_html(request: Request, context: dict[str, Any]) -> str:
    """The editor form of a saved version, rendered once per version and kept (per app).

    A form has hundreds of fields; only the CSRF token, the CSP nonce and the digests of
    what the page shows differ between two requests, so they are put in at the end.
    """
    version = context["version"]
    key = (version.id, version.content_hash, context["deal"].slug)
    html = kept(
        request, "editors", key, "workspace/_editor.html", {**context, "shown_marker": True}
    )
    shown = templates.get_template("workspace/_shown.html").render(
        {"request": request, "shown": context.get("shown")}
    )
    return html.replace(SHOWN_MARK, shown)


def cleared_errors(request: Request, result: service.Preview) -> str:
    """Every field's error slot, empty: a valid preview clears them all. A version's fields
    never change, so the hundred-odd slots are rendered once per version."""
    return kept(
        request,
        "cleared_errors",
        result.version.content_hash,
        "workspace/_field_errors.html",
        {"names": result.names, "errors": {}},
    )


@router.get("/deals/{slug}", response_class=HTMLResponse)
def deal_page(
    slug: str, request: Request, session: SessionDep, user: Viewer, wait: bool = False
) -> HTMLResponse:
    context = service.deal_page(session, slug, user, wait=wait)
    deal = context["deal"]
    facts = functools.cache(lambda: service.deal_facts(session, deal))
    key = (deal.id, deal.revision)  # a shared company's name or ticker is not in these
    context["headline_html"] = kept(request, "headlines", key, "deals/_headline.html", facts)
    context["facts_html"] = kept(request, "deal_facts", key, "workspace/_deal_facts.html", facts)
    if context["run"] is not None:
        rendered = saved_sections(request, context["run"], context["version"])
        context |= {"valuation_html": rendered.html, "shown": rendered.shown}
    if context["version"] is not None and context["editor"] is not None:
        context["editor_html"] = editor_html(request, context)
    return templates.TemplateResponse(request, "workspace/deal.html", context)


@router.get("/deals/{slug}/valuation", response_class=HTMLResponse)
def valuation_section(
    slug: str, request: Request, session: SessionDep, user: Viewer
) -> HTMLResponse:
    """The current version's valuation section, valued now if it has no stored run; the deal
    page fetches it after loading when that would take a while."""
    context = service.saved_valuation(session, slug, user)
    status = 200
    if context["run"] is not None:
        rendered = saved_sections(request, context["run"], context["version"])
        context |= {"valuation_html": rendered.html, "shown": rendered.shown, "shown_oob": True}
    else:
        status = 422
    return templates.TemplateResponse(
        request, "workspace/_valuation.html", context, status_code=status
    )


@router.post("/deals/{slug}/preview", response_class=HTMLResponse, dependencies=[CsrfDep])
def preview(
    slug: str, request: Request, session: SessionDep, user: Analyst, form: FormValues
) -> HTMLResponse:
    """Recompute every figure from the editor's unsaved values and swap only the sections
    whose figures changed: the form says what it shows (a digest per section)."""
    result = service.preview(session, slug, form, user)
    context: dict[str, Any] = {"result": result, "errors": result.errors, "names": result.names}
    if not result.errors:
        figures = _figures(result.run, result.version, preview=result.unsaved)
        parts = _parts(request, figures)
        shown = _digests(request, parts)
        context |= {
            "run": result.run,
            "changed": [html for k, html in parts.items() if form.get(f"shown.{k}") != shown[k]],
            "shown": shown,
            "shown_oob": True,
            "field_errors_html": cleared_errors(request, result),
        }
    status = 422 if result.errors else 200
    return templates.TemplateResponse(
        request, "workspace/_preview.html", context, status_code=status
    )


@router.post("/deals/{slug}/versions", dependencies=[CsrfDep])
def save_version(
    slug: str, request: Request, session: SessionDep, user: Analyst, form: FormValues
) -> Response:
    """Store the editor's values as a new immutable version and value it."""
    try:
        outcome = service.save(session, slug, form, user)
    except ConflictError as exc:
        if not is_htmx(request):
            raise
        _, version = service.current(session, slug, user)
        context = {
            "errors": {"": exc.message},
            "names": editor.for_version(version).names,
            "conflict": exc,
            "slug": slug,
        }
        return templates.TemplateResponse(
            request, "workspace/_preview.html", context, status_code=409
        )
    if isinstance(outcome, service.Preview):
        if not is_htmx(request):
            message = "; ".join(f"{k or 'assumptions'}: {v}" for k, v in outcome.errors.items())
            raise UnprocessableError(f"Nothing was saved. {message}")
        context = {"errors": outcome.errors, "names": outcome.names}
        return templates.TemplateResponse(
            request, "workspace/_preview.html", context, status_code=422
        )
    if is_htmx(request):  # reload the page the editor is on, now showing the new version
        return Response(status_code=200, headers={"HX-Refresh": "true"})
    return RedirectResponse(f"/deals/{slug}", status_code=303)


@router.get("/deals/{slug}/versions", response_class=HTMLResponse)
def version_history(slug: str, request: Request, session: SessionDep, user: Viewer) -> HTMLResponse:
    """Every saved version with its headline outputs; any old one can be restored."""
    return templates.TemplateResponse(
        request, "workspace/versions.html", service.history(session, slug, user) | {"user": user}
    )


@router.post("/deals/{slug}/versions/{number}/revert", dependencies=[CsrfDep])
def revert(
    slug: str, number: RowNumber, session: SessionDep, user: Analyst, form: FormValues
) -> Response:
    """A new version copying an old one: history only grows, nothing is overwritten."""
    service.revert(session, slug, number, form, user)
    return RedirectResponse(f"/deals/{slug}", status_code=303)


@router.get("/deals/{slug}/versions/compare", response_class=HTMLResponse)
def compare_versions(
    slug: str, a: RowNumber, b: RowNumber, request: Request, session: SessionDep, user: Viewer
) -> HTMLResponse:
    """Field-by-field differences of two versions, and a waterfall of what each one did to
    the values: the inputs change one at a time, in the order listed, so the steps add up."""
    context = service.compare(session, slug, a, b, user)
    return templates.TemplateResponse(request, "workspace/compare.html", context)


@router.post("/deals/{slug}/upload", response_class=HTMLResponse, dependencies=[CsrfDep])
def upload_preview(
    slug: str,
    request: Request,
    session: SessionDep,
    user: Analyst,
    file: UploadFile = File(...),
) -> HTMLResponse:
    """Show what an uploaded file would change; nothing is stored until it is confirmed."""
    deal = deals.get_deal(session, slug, viewer=user)
    status = 200
    try:
        data = read_capped(file, request.app.state.settings.max_upload_bytes)
        context = uploads.preview(
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
def upload_confirm(
    slug: str, request: Request, session: SessionDep, user: Analyst, form: FormValues
) -> Response:
    """Store the previewed file as a new version."""
    deal = deals.get_deal(session, slug, viewer=user)
    uploads.confirm(
        session,
        deal,
        form.get("token", ""),
        request.app.state.secret_key,
        user.actor,
        form.get("note", ""),
    )
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": f"/deals/{slug}"})
    return RedirectResponse(f"/deals/{slug}", status_code=303)
