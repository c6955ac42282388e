"""Tables for companies, deals, and each deal's sourced facts."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.types import JSONType, utcnow


class DealStatus(StrEnum):
    RUMOURED = "rumoured"
    ANNOUNCED = "announced"
    PENDING = "pending"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    WITHDRAWN = "withdrawn"


class ConsiderationType(StrEnum):
    STOCK = "stock"
    CASH = "cash"
    MIXED = "mixed"


class FactBasis(StrEnum):
    """Whether a figure was published, is arithmetic on published figures, or is assumed."""

    PUBLISHED = "published"
    DERIVED = "derived"
    ASSUMPTION = "assumption"


class FactUnit(StrEnum):
    USD = "usd"
    USD_PER_SHARE = "usd_per_share"
    RATIO = "ratio"
    FRACTION = "fraction"
    SHARES = "shares"
    MEGAWATTS = "mw"
    COUNT = "count"
    DATE = "date"
    TEXT = "text"


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    ticker: Mapped[str | None] = mapped_column(String(20))
    exchange: Mapped[str | None] = mapped_column(String(40))
    sector: Mapped[str | None] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Deal(Base):
    __tablename__ = "deals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    acquirer_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    target_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="RESTRICT"))
    announced: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=DealStatus.ANNOUNCED)
    status_date: Mapped[date | None] = mapped_column(Date)
    consideration: Mapped[str] = mapped_column(String(300))
    consideration_type: Mapped[str | None] = mapped_column(String(10))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012

    acquirer: Mapped[Company] = relationship(foreign_keys=[acquirer_id], lazy="raise")
    target: Mapped[Company] = relationship(foreign_keys=[target_id], lazy="raise")
    facts: Mapped[list[DealFact]] = relationship(
        back_populates="deal",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="DealFact.position",
    )
    sources: Mapped[list[DealSource]] = relationship(
        back_populates="deal",
        lazy="raise",
        cascade="all, delete-orphan",
        order_by="DealSource.position",
    )

    def fact(self, key: str) -> DealFact | None:
        return next((f for f in self.facts if f.key == key), None)

    @property
    def equity_value(self) -> float | None:
        """The headline equity value, as the deal's `equity_value` fact states it."""
        fact = self.fact("equity_value")
        return fact.value if fact else None


class DealSource(Base):
    """A document a figure was read from, keyed per deal (S1, S2, ...)."""

    __tablename__ = "deal_sources"
    __table_args__ = (UniqueConstraint("deal_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(1000))
    position: Mapped[int] = mapped_column(Integer, default=0)

    deal: Mapped[Deal] = relationship(back_populates="sources", lazy="raise")


class DealFact(Base):
    """One headline figure of a deal with its unit, basis and the sources it was read from."""

    __tablename__ = "deal_facts"
    __table_args__ = (UniqueConstraint("deal_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    label: Mapped[str] = mapped_column(String(200))
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(20), default=FactBasis.PUBLISHED)
    note: Mapped[str] = mapped_column(Text, default="")
    source_keys: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    deal: Mapped[Deal] = relationship(back_populates="facts", lazy="raise")
