"""Validated shapes of deals going in and out of the API."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Self

from pydantic import (
    AfterValidator,
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    UrlConstraints,
    field_validator,
    model_validator,
)

from app.deals.models import ConsiderationType, DealStatus, FactBasis, FactUnit
from app.types import NO_NUL, Text

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), NO_NUL
]
Key = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z][A-Za-z0-9_]{0,59}$"), NO_NUL
]
RESERVED_SLUGS = {"new"}


def _not_reserved(slug: str) -> str:
    if slug in RESERVED_SLUGS:
        raise ValueError(f"{slug!r} is reserved; choose another slug")
    return slug


Slug = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=120),
    NO_NUL,
    AfterValidator(_not_reserved),
]


class StrictModel(BaseModel):
    """Every text field refuses NUL (`NO_NUL`; tests/test_text_fields.py checks them all)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_strip_whitespace=True)


class CompanyIn(StrictModel):
    name: Name
    ticker: Annotated[str, StringConstraints(max_length=20), NO_NUL] | None = None
    exchange: Annotated[str, StringConstraints(max_length=40), NO_NUL] | None = None
    sector: Annotated[str, StringConstraints(max_length=80), NO_NUL] | None = None
    description: Text = ""


class SourceIn(StrictModel):
    key: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,20}$"), NO_NUL]
    title: Annotated[str, StringConstraints(min_length=1, max_length=300), NO_NUL]
    url: Annotated[AnyHttpUrl, UrlConstraints(max_length=1000)]  # the column's length


class FactIn(StrictModel):
    key: Key
    label: Annotated[str, StringConstraints(min_length=1, max_length=200), NO_NUL]
    value: float | None = None
    text: Text | None = None
    unit: FactUnit
    basis: FactBasis = FactBasis.PUBLISHED
    note: Text = ""
    sources: list[Text] = Field(default_factory=list)

    @model_validator(mode="after")
    def _value_matches_unit(self) -> Self:
        textual = self.unit in (FactUnit.TEXT, FactUnit.DATE)
        if textual and not self.text:
            raise ValueError(f"a {self.unit.value} fact needs `text`")
        if not textual and self.value is None:
            raise ValueError(f"a {self.unit.value} fact needs a numeric `value`")
        if self.unit is FactUnit.FRACTION and self.value is not None and abs(self.value) > 1:
            raise ValueError(
                f"value {self.value:g} looks like a percent; enter fractions (0.66 for 66%)"
            )
        return self


class DealCreate(StrictModel):
    """A new deal with its published facts; every fact's sources must be listed in `sources`."""

    slug: Slug | None = None
    name: Name
    acquirer: CompanyIn
    target: CompanyIn
    announced: date
    status: DealStatus = DealStatus.ANNOUNCED
    status_date: date | None = None
    consideration: Annotated[str, StringConstraints(min_length=1, max_length=300), NO_NUL]
    consideration_type: ConsiderationType | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), NO_NUL] = "USD"
    summary: Text = ""
    sources: list[SourceIn] = Field(default_factory=list)
    facts: list[FactIn] = Field(default_factory=list)

    @field_validator("facts", "sources")
    @classmethod
    def _unique_keys(cls, items: list[FactIn] | list[SourceIn]) -> list:
        keys = [item.key for item in items]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"duplicate keys: {', '.join(dupes)}")
        return items

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.acquirer.name.casefold() == self.target.name.casefold():
            raise ValueError("acquirer and target must be different companies")
        if self.status_date and self.status_date < self.announced:
            raise ValueError("status_date is before the announcement date")
        known = {s.key for s in self.sources}
        for fact in self.facts:
            missing = [k for k in fact.sources if k not in known]
            if missing:
                raise ValueError(
                    f"fact {fact.key!r} cites unknown source(s) {', '.join(missing)}; "
                    "list them under `sources`"
                )
        return self


class CompanyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    ticker: str | None
    exchange: str | None
    sector: str | None = None


class SourceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    title: str
    url: str


class FactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    key: str
    label: str
    value: float | None
    text: str | None
    unit: str
    basis: str
    note: str
    sources: list[str] = Field(validation_alias="source_keys")


class DealSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    name: str
    acquirer: CompanyOut
    target: CompanyOut
    announced: date
    status: str
    status_date: date | None
    consideration: str
    consideration_type: str | None = None
    currency: str
    equity_value: float | None = None
    revision: int


class DealOut(DealSummary):
    summary: str
    facts: list[FactOut]
    sources: list[SourceOut]
