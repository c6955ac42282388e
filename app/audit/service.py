"""Recording writes in the audit log, in the same transaction as the write itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who is writing, and from where: a logged-in user, a token, or the command line."""

    name: str
    user_id: int | None = None
    address: str = ""


CLI = Actor("cli")


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    deal_id: int | None = None,
    version: int | None = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add the event to the caller's transaction: it commits, or rolls back, with the write."""
    event = AuditEvent(
        actor_id=actor.user_id,
        actor=actor.name[:120],
        action=action,
        deal_id=deal_id,
        version=version,
        summary=summary[:500],
        details=details or {},
        address=actor.address[:64],
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditQuery:
    actor: str = ""
    action: str = ""
    deal_id: int | None = None
    since: datetime | None = None
    page: int = 1
    per_page: int = 50


def events(session: Session, query: AuditQuery) -> tuple[list[AuditEvent], int]:
    """Newest first, filtered; and how many match."""
    stmt = select(AuditEvent)
    if query.actor:
        stmt = stmt.where(func.lower(AuditEvent.actor) == query.actor.lower())
    if query.action:
        stmt = stmt.where(AuditEvent.action == query.action)
    if query.deal_id is not None:
        stmt = stmt.where(AuditEvent.deal_id == query.deal_id)
    if query.since is not None:
        stmt = stmt.where(AuditEvent.at >= query.since)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(AuditEvent.id.desc())
        .offset((query.page - 1) * query.per_page)
        .limit(query.per_page)
    ).all()
    return list(rows), total


def actions(session: Session) -> list[str]:
    return sorted(session.scalars(select(AuditEvent.action).distinct()))
