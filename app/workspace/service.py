"""The deal workspace's use cases: preview edits, save, restore, compare, list versions.

Pages parse the request and render; everything that reads or writes the database, or values
a payload, happens here, inside the request's one transaction.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select
from sqlalchemy.orm import Session, defer

from app.assumptions import diff
from app.assumptions import service as assumptions
from app.assumptions.models import AssumptionSet
from app.assumptions.schemas import AssumptionPayload, MonteCarlo, canonical
from app.audit.service import record
from app.auth.principal import Principal
from app.deals import service as deals
from app.deals.models import Deal
from app.engine import ENGINE_VERSION, EngineInputError
from app.errors import DomainError, NotFoundError
from app.valuation import service as valuation
from app.valuation.models import ValuationRun
from app.workspace import editor

PREVIEW_PATHS = 10_000
"""Monte Carlo paths in a live preview; saving values with the version's own setting."""
SYNCHRONOUS_PATHS = 200_000
"""A version with more Monte Carlo paths than this, and no stored run, is valued after the page
has loaded (with a progress indicator), not while the analyst waits for a blank page."""
WATERFALL_STEPS = 80
"""Most inputs a comparison values one at a time; beyond that the rest come as one step."""


def current(session: Session, slug: str, viewer: Principal) -> tuple[Deal, AssumptionSet]:
    """The deal (without its facts) and its current version: what an edit works on."""
    deal = deals.get_deal(session, slug, viewer=viewer, full=False)
    version = assumptions.current_version(session, deal.id)
    if version is None:
        raise NotFoundError(f"Deal {slug!r} has no assumptions to edit.", field="slug")
    return deal, version


def monte_carlo_paths(payload: dict[str, Any]) -> int:
    """The version's Monte Carlo size (read from the saved payload; it was validated on save)."""
    settings = payload.get("scenarios", {}).get("monte_carlo", {})
    return int(settings.get("scenarios", MonteCarlo.model_fields["scenarios"].default))


@functools.cache
def _page_lookup(team_only: bool) -> Select[tuple[Deal, AssumptionSet | None, ValuationRun | None]]:
    """The deal page's three lookups in one statement, built once: the deal with its
    companies, its current version (no payload) and that version's newest run by this engine
    (no results). Each statement costs a round trip and SQLAlchemy's set-up of its result,
    and the page is mostly these lookups once its markup is kept."""
    with_version = assumptions.outerjoin_current_version(deals.by_slug(team_only), Deal.id)
    return (
        with_version.add_columns(AssumptionSet, ValuationRun)
        .outerjoin(ValuationRun, ValuationRun.id == valuation.newest_run_id(AssumptionSet.id))
        .options(defer(AssumptionSet.payload), defer(ValuationRun.results))
    )


def deal_page(
    session: Session, slug: str, viewer: Principal, *, wait: bool = False
) -> dict[str, Any]:
    """Everything the deal page shows. A heavy version with no stored run is not valued here
    (unless `wait`): the page says so and fetches the valuation once it has loaded."""
    params = deals.viewer_params(viewer)
    found = session.execute(_page_lookup(bool(params)), {"slug": slug} | params).one_or_none()
    if found is None:
        raise deals.missing(slug)
    deal, version, run = found
    valuation_error, pending = None, False
    if version is not None:
        if run is None and (wait or monte_carlo_paths(version.payload) <= SYNCHRONOUS_PATHS):
            try:
                run = valuation.run_valuation(session, version)
            except EngineInputError as exc:
                valuation_error = str(exc)
        pending = run is None and valuation_error is None
    return {
        "deal": deal,
        "version": version,
        "run": run,
        "pending": pending,
        "valuation_error": valuation_error,
        "editor": editor.for_version(version).sections if version else None,
    }


def deal_facts(session: Session, deal: Deal) -> dict[str, Any]:
    """The deal's headline terms, other facts and sources: what the page shows below the
    header. Any edit of them bumps the deal's revision, so pages may keep their markup by it."""
    facts, sources = deals.facts_of(session, deal.id)
    headline, other = deals.split_facts(facts)
    return {"headline": headline, "other_facts": other, "sources": sources}


def saved_valuation(session: Session, slug: str, viewer: Principal) -> dict[str, Any]:
    """The current version's stored run, valuing it first if there is none."""
    deal, version = current(session, slug, viewer)
    try:
        run = valuation.current_run(session, version)
    except EngineInputError as exc:
        return {"deal": deal, "version": version, "run": None, "valuation_error": str(exc)}
    return {"deal": deal, "version": version, "run": run, "valuation_error": None}


def _edited(version: AssumptionSet, form: dict[str, str]) -> tuple[Any, dict[str, str]]:
    """The edited payload, validated, or the messages to show beside the fields."""
    names = editor.for_version(version).names
    edited, errors = editor.apply_edits(version.payload, form, names)
    if errors:
        return None, errors
    try:
        return AssumptionPayload.model_validate(edited), {}
    except ValidationError as exc:
        return None, editor.validation_messages(exc, names)


@dataclass
class Preview:
    """What the editor's live preview shows: the figures, or why there are none."""

    deal: Deal
    version: AssumptionSet
    names: dict[str, Any]
    errors: dict[str, str] = field(default_factory=dict)
    run: Any = None
    unsaved: bool = False


def preview(session: Session, slug: str, form: dict[str, str], viewer: Principal) -> Preview:
    """Value the editor's unsaved values (a quick Monte Carlo), or the saved run if the edits
    have been undone, so the figures shown always match exactly what the form holds."""
    deal, version = current(session, slug, viewer)
    result = Preview(deal, version, editor.for_version(version).names)
    payload, result.errors = _edited(version, form)
    if result.errors:
        return result
    if assumptions.content_hash(payload.model_dump(mode="json")) == version.content_hash:
        result.run = valuation.current_run(session, version)
        return result
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
        name = exc.field if exc.field in result.names else ""
        result.errors = {name: exc.reason if name else str(exc)}
        return result
    result.run = SimpleNamespace(
        results=results,
        engine_version=ENGINE_VERSION,
        seed=results["meta"]["seed"],
        duration_s=time.perf_counter() - started,
    )
    result.unsaved = True
    return result


def _parent(form: dict[str, str]) -> int:
    try:
        return int(form.get("parent_id", ""))
    except ValueError as exc:
        raise DomainError("The page lost track of its version; reload it.") from exc


def save(
    session: Session, slug: str, form: dict[str, str], user: Principal
) -> Preview | AssumptionSet:
    """Store the editor's values as a new version and value it; or the form's problems.

    A save based on an old version is refused with a conflict (never a lost update).
    """
    deal, version = current(session, slug, user)
    payload, errors = _edited(version, form)
    if errors:
        return Preview(deal, version, editor.for_version(version).names, errors)
    saved = assumptions.save_version(
        session,
        deal.id,
        payload,
        author=user.display,
        note=form.get("note", "").strip()[:2000],
        expected_parent_id=_parent(form),
    )
    valuation.run_valuation(session, saved)
    record(
        session,
        user.actor,
        "assumptions.save",
        deal_id=deal.id,
        version=saved.version,
        summary=f"Saved v{saved.version} from v{version.version}: {saved.note}",
        details={"content_hash": saved.content_hash},
    )
    return saved


def revert(
    session: Session, slug: str, number: int, form: dict[str, str], user: Principal
) -> AssumptionSet:
    """A new version copying an old one: history only grows, nothing is overwritten."""
    deal, _ = current(session, slug, user)
    target = next(
        (v for v in assumptions.list_versions(session, deal.id) if v.version == number), None
    )
    if target is None:
        raise NotFoundError(f"{deal.name} has no version {number}.", field="version")
    saved = assumptions.save_version(
        session,
        deal.id,
        AssumptionPayload.model_validate(target.payload),
        author=user.display,
        note=f"Revert to v{number}",
        expected_parent_id=_parent(form),
    )
    valuation.run_valuation(session, saved)
    record(
        session,
        user.actor,
        "assumptions.revert",
        deal_id=deal.id,
        version=saved.version,
        summary=f"Restored v{number} as v{saved.version}",
    )
    return saved


def history(session: Session, slug: str, viewer: Principal) -> dict[str, Any]:
    """Every version with its headline outputs (valued once per engine version, then stored)."""
    deal = deals.get_deal(session, slug, viewer=viewer)
    versions = assumptions.list_versions(session, deal.id)
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
    return {
        "deal": deal,
        "rows": rows,
        "current": assumptions.current_version(session, deal.id),
        "numbers": {v.id: v.version for v in versions},
    }


def _deltas(new: dict[str, float | None], old: dict[str, float | None]) -> dict[str, Any]:
    """Change in each figure; None where either side does not exist (accretion on a loss)."""
    return {k: None if new[k] is None or old[k] is None else new[k] - old[k] for k in new}


def compare(session: Session, slug: str, a: int, b: int, viewer: Principal) -> dict[str, Any]:
    """Field-by-field differences of two versions and a waterfall of their effect: inputs
    change one at a time in the order listed, so the steps add up to the total."""
    deal = deals.get_deal(session, slug, viewer=viewer)
    by_number = {v.version: v for v in assumptions.list_versions(session, deal.id)}
    missing = [n for n in (a, b) if n not in by_number]
    if missing:
        raise NotFoundError(f"{deal.name} has no version {missing[0]}.", field="version")
    old, new = canonical(by_number[a].payload), canonical(by_number[b].payload)
    items = diff.changes(old, new)
    start = previous = valuation.headline_figures(old)
    rows = []
    state = old
    for i, change in enumerate(items):
        if i == WATERFALL_STEPS:  # the long tail as one step, so the page stays quick
            change = diff.Change(f"{len(items) - i} more inputs", None, None)
            state = new
        else:
            state = diff.apply(state, change)
        try:
            figures = valuation.headline_figures(state)
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
