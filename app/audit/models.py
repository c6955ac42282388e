"""One row per write; never updated or deleted (the ORM refuses, and so does the database)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.types import JSONType, utcnow


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    actor: Mapped[str] = mapped_column(String(120))
    """Who, by name as it was then (a user, or `cli` / `seed` for the command line)."""
    action: Mapped[str] = mapped_column(String(60), index=True)
    deal_id: Mapped[int | None] = mapped_column(ForeignKey("deals.id"), index=True)
    version: Mapped[int | None] = mapped_column(Integer)
    """The assumption version the write made or acted on, where there is one."""
    summary: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    address: Mapped[str] = mapped_column(String(64), default="")
    """The client's address (behind a proxy, the forwarded one the server trusts)."""


class AuditLogIsAppendOnly(RuntimeError):
    pass


@event.listens_for(AuditEvent, "before_update")
def _no_update(*_: object) -> None:
    raise AuditLogIsAppendOnly("audit events cannot be changed")


@event.listens_for(AuditEvent, "before_delete")
def _no_delete(*_: object) -> None:
    raise AuditLogIsAppendOnly("audit events cannot be deleted")
