"""Request and response shapes of the calculator API (/api/v1/calc)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
)

from app.assumptions.schemas import PriceBand, Rate, Structure, WideRate, needed_by_structure
from app.types import UtcDatetime

RateOrYears = Rate | list[Rate]
WideRateOrYears = WideRate | list[WideRate]
Number = float | list[float]


class CalcModel(BaseModel):
    """Strict: a JSON number where the schema says number (`true` is not 1, `"0.1"` not 0.1)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, strict=True)


class GordonTerminal(CalcModel):
    method: Literal["gordon"]
    growth: Rate


class ExitMultipleTerminal(CalcModel):
    method: Literal["exit_multiple"]
    ev_ebitda: Annotated[float, Field(gt=0, le=200)]


class DCFRequest(CalcModel):
    """One company's DCF; rates as fractions, money in currency units."""

    base_revenue: Annotated[float, Field(gt=0)]
    revenue_growth: Annotated[list[WideRate], Field(min_length=1, max_length=50)]
    ebit_margin: RateOrYears
    da_pct_revenue: WideRateOrYears
    capex_pct_revenue: WideRateOrYears
    tax_rate: Annotated[Rate, Field(ge=0, lt=1)]
    nwc_pct_revenue: Rate
    wacc: Annotated[Rate, Field(gt=0, lt=1)]
    terminal: Annotated[GordonTerminal | ExitMultipleTerminal, Field(discriminator="method")]
    mid_year: bool = False
    net_debt: float = 0.0
    diluted_shares: Annotated[float, Field(gt=0)]

    @field_validator("ebit_margin", "da_pct_revenue", "capex_pct_revenue")
    @classmethod
    def _one_per_year(cls, value: WideRateOrYears, info: ValidationInfo) -> WideRateOrYears:
        growth = info.data.get("revenue_growth")
        if isinstance(value, list) and growth is not None and len(value) != len(growth):
            raise ValueError(
                f"has {len(value)} values but revenue_growth has {len(growth)}: "
                "give one per year, or a single number for every year"
            )
        return value


Ratio = Annotated[float | None, Field(description="null when undefined (a zero denominator)")]
UNDEFINED_WHEN_ZERO = frozenset(
    {"tv_share_of_ev", "implied_exit_multiple", "implied_terminal_growth"}
)
"""Ratios that have no value when their denominator (EV, EBITDA, FCFF) is zero."""


class DCFResponse(BaseModel):
    years: int
    revenue: list[float]
    ebit: list[float]
    ebitda: list[float]
    fcff: list[float]
    discount_factors: list[float]
    pv_fcff: list[float]
    terminal_value: float
    pv_terminal_value: float
    enterprise_value: float
    equity_value: float
    value_per_share: float
    tv_share_of_ev: Ratio
    implied_exit_multiple: Ratio
    implied_terminal_growth: Ratio


class ExchangeRequest(CalcModel):
    """An offer's terms at one acquirer price or along a path of prices."""

    structure: Annotated[Structure, Strict(False)]  # its JSON string, not an enum instance
    exchange_ratio: Annotated[float, Field(gt=0)] | None = Field(None, validate_default=True)
    value_per_share: Annotated[float, Field(gt=0)] | None = Field(None, validate_default=True)
    cash_per_share: Annotated[float, Field(ge=0)] = 0.0
    acquirer_price: (
        Annotated[float, Field(gt=0)]
        | Annotated[list[Annotated[float, Field(gt=0)]], Field(min_length=1, max_length=100_000)]
    )
    target_unaffected_price: Annotated[float, Field(gt=0)]
    target_diluted_shares: Annotated[float, Field(gt=0)]
    acquirer_diluted_shares: Annotated[float, Field(gt=0)]
    collar: PriceBand | None = None

    _structure_inputs = field_validator("exchange_ratio", "value_per_share")(needed_by_structure)


class ExchangeResponse(BaseModel):
    effective_ratio: Number
    implied_price: Number
    premium: Number
    equity_value: Number
    new_shares: Number
    target_ownership: Number


class ValuationRunOut(BaseModel):
    """A stored run: same assumption version, engine version and seed give the same results."""

    id: int
    assumption_version: int
    engine_version: str
    seed: int
    duration_s: float
    created_at: UtcDatetime
    results: dict[str, Any]
