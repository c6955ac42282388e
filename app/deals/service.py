"""Use cases for companies and deals. Services flush; the caller's transaction commits."""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from slugify import slugify
from sqlalchemy import Select, bindparam, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, selectinload
from sqlalchemy.orm.exc import StaleDataError

from app.audit.service import Actor, record
from app.auth.models import DealMember
from app.auth.principal import Principal
from app.deals.models import Company, Deal, DealFact, DealSource
from app.deals.schemas import CompanyIn, DealCreate
from app.errors import ConflictError, NotFoundError
from app.types import utcnow

_FULL = (
    joinedload(Deal.acquirer),  # one row each: in the deal's own query
    joinedload(Deal.target),
    selectinload(Deal.facts),
    selectinload(Deal.sources),
)
_LISTED = _FULL[:3]
"""What a row of the deal list shows: the companies and the facts (its equity value)."""


SortKey = Literal[
    "name", "acquirer", "target", "announced", "status", "consideration", "equity_value"
]
"""Columns the deal list can be ordered by."""


@dataclass(frozen=True)
class DealQuery:
    """What the deal list is asked for: search text, a status, an order and a page."""

    q: str = ""
    status: str | None = None
    sector: str | None = None
    consideration_type: str | None = None
    sort: SortKey = "announced"
    descending: bool = True
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class DealPage:
    deals: list[Deal]
    total: int
    query: DealQuery

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.per_page))


_ON_TEAM = exists().where(DealMember.deal_id == Deal.id, DealMember.user_id == bindparam("viewer"))


def viewer_params(viewer: Principal | None) -> dict[str, int]:
    """The parameters `visible` binds: the viewer, unless they see every deal (admins; None
    is the system)."""
    return {} if viewer is None or viewer.is_admin else {"viewer": viewer.user_id}


def visible(stmt: Any, viewer: Principal | None) -> Any:
    """Only the deals `viewer` may know exist: their teams'.

    The viewer is a bound parameter (`viewer_params`), so a prebuilt statement serves all."""
    return stmt.where(_ON_TEAM) if viewer_params(viewer) else stmt


def list_deals(
    session: Session, query: DealQuery | None = None, *, viewer: Principal | None
) -> DealPage:
    """Deals matching a search (deal name, either company's name or ticker) and a status,
    among those the viewer may see."""
    query = query or DealQuery(per_page=10_000)
    acquirer, target = aliased(Company), aliased(Company)
    stmt = (
        select(Deal)
        .join(acquirer, Deal.acquirer_id == acquirer.id)
        .join(target, Deal.target_id == target.id)
        .where(Deal.deleted_at.is_(None))
    )
    stmt = visible(stmt, viewer)
    if query.q:
        pattern = f"%{query.q.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Deal.name).like(pattern),
                func.lower(acquirer.name).like(pattern),
                func.lower(target.name).like(pattern),
                func.lower(acquirer.ticker).like(pattern),
                func.lower(target.ticker).like(pattern),
            )
        )
    if query.status:
        stmt = stmt.where(Deal.status == query.status)
    if query.sector:
        stmt = stmt.where(or_(acquirer.sector == query.sector, target.sector == query.sector))
    if query.consideration_type:
        stmt = stmt.where(Deal.consideration_type == query.consideration_type)
    params = viewer_params(viewer)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()), params) or 0
    if query.sort == "equity_value":
        equity = aliased(DealFact)
        stmt = stmt.outerjoin(equity, (equity.deal_id == Deal.id) & (equity.key == "equity_value"))
    columns = {
        "name": func.lower(Deal.name),
        "acquirer": func.lower(acquirer.name),
        "target": func.lower(target.name),
        "announced": Deal.announced,
        "status": Deal.status,
        "consideration": Deal.consideration_type,
        "equity_value": equity.value if query.sort == "equity_value" else None,
    }
    column = columns[query.sort]
    # Deals without the figure (no equity value yet) go last whichever way the list is sorted.
    order = column.desc().nulls_last() if query.descending else column.asc().nulls_last()
    stmt = (
        stmt.options(*_LISTED)
        .order_by(order, Deal.name, Deal.id)
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    )
    return DealPage(list(session.scalars(stmt, params)), total, query)


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
"""The published terms a deal page (and its report) lead with, in this order."""


def split_facts(facts: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """A deal's headline terms, and its other facts (DealFact objects or `facts_of` rows)."""
    by_key = {f.key: f for f in facts}
    headline = [by_key[key] for key in HEADLINE_KEYS if key in by_key]
    return headline, [f for f in facts if f.key not in HEADLINE_KEYS]


_FACTS = DealFact.__table__
_SOURCES = DealSource.__table__


_FACTS_OF = select(_FACTS).where(_FACTS.c.deal_id == bindparam("deal")).order_by(_FACTS.c.position)
_SOURCES_OF = (
    select(_SOURCES).where(_SOURCES.c.deal_id == bindparam("deal")).order_by(_SOURCES.c.position)
)


def facts_of(session: Session, deal_id: int) -> tuple[list[Any], list[Any]]:
    """A deal's facts and sources, in order, as read-only rows for pages to show (the deal
    page reads them on every view; loading them as ORM objects took twice as long)."""
    facts = session.execute(_FACTS_OF, {"deal": deal_id}).all()
    sources = session.execute(_SOURCES_OF, {"deal": deal_id}).all()
    return list(facts), list(sources)


@cache
def _by_slug(full: bool, team_only: bool) -> Select[tuple[Deal]]:
    """The deal lookup of every page, built once: a statement made per request cost more
    than the query (SQLAlchemy caches its SQL, but builds and keys the expression each time)."""
    stmt = select(Deal).options(*(_FULL if full else _FULL[:2]))
    stmt = stmt.where(Deal.slug == bindparam("slug"), Deal.deleted_at.is_(None))
    return stmt.where(_ON_TEAM) if team_only else stmt


def get_deal(session: Session, slug: str, *, viewer: Principal | None, full: bool = True) -> Deal:
    """The deal, if the viewer may see it; otherwise the same 404 as for no deal at all.

    `full=False` loads its companies but not its facts and sources (a recompute needs none).
    """
    params = viewer_params(viewer)
    deal = session.scalars(_by_slug(full, bool(params)), {"slug": slug} | params).one_or_none()
    if deal is None:
        raise missing(slug)
    return deal


def by_slug(team_only: bool) -> Select[tuple[Deal]]:
    """`get_deal`'s statement (companies loaded, no facts), for a use case that reads more
    beside the deal in one statement. Its parameters: the slug and `viewer_params`, which
    are empty exactly when `team_only` is false."""
    return _by_slug(False, team_only)


def missing(slug: str) -> NotFoundError:
    """The one answer for a deal that does not exist or that the viewer may not see."""
    return NotFoundError(f"No deal called {slug!r}.", field="slug")


def sectors(session: Session, *, viewer: Principal | None) -> list[str]:
    """Every sector of a deal the viewer can see, for the list's filter."""
    names: set[str] = set()
    for side in (Deal.acquirer_id, Deal.target_id):
        stmt = (
            select(Company.sector)
            .join(Deal, side == Company.id)
            .where(Company.sector.is_not(None), Deal.deleted_at.is_(None))
        )
        names.update(session.scalars(visible(stmt, viewer), viewer_params(viewer)).all())
    return sorted(names)


def _check_revision(deal: Deal, expected: int | None) -> None:
    if expected is not None and deal.revision != expected:
        raise ConflictError(
            f"{deal.name} was changed by someone else since you opened it "
            f"(revision {deal.revision}, yours {expected}). Reload, then re-apply your edits.",
            field="revision",
        )


def update_deal(
    session: Session,
    slug: str,
    data: DealCreate,
    expected_revision: int,
    *,
    viewer: Principal | None,
    actor: Actor,
) -> Deal:
    """Replace a deal's details, companies, sources and facts; refused if someone saved first."""
    deal = get_deal(session, slug, viewer=viewer)
    _check_revision(deal, expected_revision)
    new_slug = data.slug or deal.slug
    if new_slug != deal.slug and session.scalar(
        select(func.count()).select_from(Deal).where(Deal.slug == new_slug)
    ):
        raise ConflictError(f"A deal with slug {new_slug!r} already exists.", field="slug")
    try:
        # One savepoint: a concurrent edit undoes this attempt whole, never half of it.
        with session.begin_nested():
            deal.slug = new_slug
            # Old rows go first: the new facts and sources reuse their (deal, key) pairs.
            deal.facts.clear()
            deal.sources.clear()
            session.flush()
            _fill(session, deal, data)
            session.flush()
    except (StaleDataError, IntegrityError) as exc:
        raise ConflictError(
            f"{deal.name} was changed by someone else at the same moment. Reload.",
            field="revision",
        ) from exc
    record(session, actor, "deal.update", deal_id=deal.id, summary=f"Edited {deal.name}")
    return get_deal(session, new_slug, viewer=viewer)


def delete_deal(
    session: Session,
    slug: str,
    expected_revision: int | None = None,
    *,
    viewer: Principal | None,
    actor: Actor,
) -> Deal:
    """Hide a deal (soft delete): its versions and runs stay, nothing is destroyed."""
    deal = get_deal(session, slug, viewer=viewer)
    _check_revision(deal, expected_revision)
    deal.deleted_at = utcnow()
    session.flush()
    record(session, actor, "deal.delete", deal_id=deal.id, summary=f"Deleted {deal.name}")
    return deal


def count_deals(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Deal)) or 0


def _company(session: Session, data: CompanyIn) -> Company:
    """Reuse a company by name (case-insensitive), so two deals share one acquirer row."""
    existing = session.scalars(
        select(Company).where(func.lower(Company.name) == data.name.lower())
    ).one_or_none()
    if existing is not None:
        # Fill in what the shared company row lacks; never overwrite what another deal set.
        for attribute in ("ticker", "exchange", "sector"):
            if getattr(existing, attribute) is None and getattr(data, attribute):
                setattr(existing, attribute, getattr(data, attribute))
        return existing
    company = Company(
        name=data.name,
        ticker=data.ticker,
        exchange=data.exchange,
        sector=data.sector,
        description=data.description,
    )
    session.add(company)
    return company


def _fill(session: Session, deal: Deal, data: DealCreate) -> None:
    deal.name = data.name
    deal.acquirer = _company(session, data.acquirer)
    deal.target = _company(session, data.target)
    deal.announced = data.announced
    deal.status = data.status.value
    deal.status_date = data.status_date
    deal.consideration = data.consideration
    deal.consideration_type = data.consideration_type.value if data.consideration_type else None
    deal.currency = data.currency
    deal.summary = data.summary
    deal.sources = [
        DealSource(key=s.key, title=s.title, url=str(s.url), position=i)
        for i, s in enumerate(data.sources)
    ]
    deal.facts = [
        DealFact(
            key=f.key,
            label=f.label,
            value=f.value,
            text=f.text,
            unit=f.unit.value,
            basis=f.basis.value,
            note=f.note,
            source_keys=list(f.sources),
            position=i,
        )
        for i, f in enumerate(data.facts)
    ]


def create_deal(
    session: Session, data: DealCreate, *, creator: Principal | None, actor: Actor
) -> Deal:
    """A new deal; its creator joins its team (else only admins could see it)."""
    slug = data.slug or slugify(data.name, max_length=120)
    if session.scalar(select(func.count()).select_from(Deal).where(Deal.slug == slug)):
        raise ConflictError(f"A deal with slug {slug!r} already exists.", field="slug")
    try:
        with session.begin_nested():
            deal = Deal(slug=slug, sources=[], facts=[])
            _fill(session, deal, data)
            session.add(deal)
            session.flush()
    except IntegrityError as exc:  # the same deal or company created at the same moment
        raise ConflictError(
            f"Another save created deal {slug!r} or one of its companies at the same moment; "
            "reload and check before trying again.",
            field="slug",
        ) from exc
    if creator is not None:
        session.add(DealMember(deal_id=deal.id, user_id=creator.user_id))
        session.flush()
    record(session, actor, "deal.create", deal_id=deal.id, summary=f"Created {deal.name}")
    return get_deal(session, slug, viewer=None)
