"""The assumption-set format: one saved version of everything a deal valuation needs.

Units are stated once and hold everywhere: money in the deal currency (whole units, not
millions), share counts in shares, rates and percentages as fractions (0.08 for 8%). A rate
that looks like a percent (25 for a tax rate) is rejected with the field's name, never
divided by 100. `provenance` labels where each number came from, so published facts and
analyst assumptions are never confused.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.types import Text

SCHEMA_VERSION = 1


class Unit(str):
    """The unit of a number, carried in its type so files, templates and docs all state it.

    "currency" stands for the payload's own currency (USD), "currency/share" for a price.
    """


FRACTION, CURRENCY, PRICE, SHARES, MULTIPLE, YEARS = (
    Unit("fraction"),
    Unit("currency"),
    Unit("currency/share"),
    Unit("shares"),
    Unit("x"),
    Unit("years"),
)


def _fraction(limit: float) -> AfterValidator:
    """A fraction within ±limit; a bigger number is refused as a percent typed by mistake.

    The JSON schema states the bounds too (as `minimum`/`maximum`), so API clients and
    schema-driven tests know them; the check itself stays here for its clearer message.
    """

    def check(value: float) -> float:
        if abs(value) > limit:
            raise ValueError(
                f"{value:g} looks like a percent; enter rates as fractions (e.g. 0.25 for 25%)"
            )
        return value

    return AfterValidator(check)


def _stated(limit: float) -> Any:
    """The JSON schema's statement of `_fraction(limit)`'s bounds."""
    return Field(json_schema_extra={"minimum": -limit, "maximum": limit})


Rate = Annotated[float, _fraction(1.0), _stated(1.0), FRACTION]
"""A rate or percentage as a fraction in [-1, 1]."""
WideRate = Annotated[float, _fraction(3.0), _stated(3.0), FRACTION]
"""Growth, or capex and D&A as a share of revenue: a build-out can pass 100%, not 300%."""
Money = Annotated[float, Field(ge=0), CURRENCY]
Price = Annotated[float, Field(gt=0), PRICE]
Shares = Annotated[float, Field(gt=0), SHARES]
PerYear = list[Rate]
WidePerYear = list[WideRate]


class Model(BaseModel):
    """Every text field is `Text` (no NUL; tests/assumptions/test_schemas.py checks them all)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class Basis(StrEnum):
    PUBLISHED = "published"
    DERIVED = "derived"
    ASSUMPTION = "assumption"


class Provenance(Model):
    basis: Basis
    note: Text = ""
    sources: list[Text] = Field(default_factory=list)


class Structure(StrEnum):
    FIXED_RATIO = "fixed_ratio"
    FIXED_VALUE = "fixed_value"


class PriceBand(Model):
    lower: Price
    upper: Price

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.lower >= self.upper:
            raise ValueError("lower must be below upper")
        return self


def needed_by_structure(value: float | None, info: ValidationInfo) -> float | None:
    """A fixed-ratio deal needs its ratio, a fixed-value deal its value: named on that field."""
    structure = info.data.get("structure")
    wanted = {Structure.FIXED_RATIO: "exchange_ratio", Structure.FIXED_VALUE: "value_per_share"}
    if value is None and structure is not None and wanted[structure] == info.field_name:
        raise ValueError(f"a {structure.value} deal needs {info.field_name}")
    return value


class PriceHistory(Model):
    """Daily closes and volumes before the approach (oldest first), for a VWAP premium."""

    prices: Annotated[list[Price], Field(min_length=1, max_length=2000)]
    volumes: Annotated[list[Annotated[float, Field(ge=0), SHARES]], Field(max_length=2000)]

    @model_validator(mode="after")
    def _aligned(self) -> Self:
        if len(self.volumes) != len(self.prices):
            raise ValueError(
                f"volumes has {len(self.volumes)} values and prices {len(self.prices)}: "
                "give one volume per trading day"
            )
        if sum(self.volumes) <= 0:
            raise ValueError("volumes sum to zero; a VWAP needs traded volume")
        return self


class DealTerms(Model):
    structure: Structure = Structure.FIXED_RATIO
    exchange_ratio: (
        Annotated[float, Field(gt=0), Unit("acquirer shares per target share")] | None
    ) = Field(None, validate_default=True)
    value_per_share: Price | None = Field(None, validate_default=True)
    cash_per_share: Money = 0.0
    acquirer_reference_price: Price
    target_unaffected_price: Price
    collar: PriceBand | None = None
    walkaway: PriceBand | None = None
    target_vwap: Price | None = None
    """The target's VWAP before the approach (e.g. 30 days), for a second premium."""
    target_price_history: PriceHistory | None = None
    """Or the trading days it is computed from (then leave target_vwap blank)."""
    target_52_week: PriceBand | None = None
    """The target's 52-week trading range, shown on the football field."""

    _structure_inputs = field_validator("exchange_ratio", "value_per_share")(needed_by_structure)

    @model_validator(mode="after")
    def _one_vwap(self) -> Self:
        if self.target_vwap is not None and self.target_price_history is not None:
            raise ValueError("give target_vwap or target_price_history, not both")
        return self


class Option(Model):
    """Options, warrants or RSUs (strike 0): counted by the treasury stock method."""

    count: Annotated[float, Field(ge=0), SHARES]
    strike: Money = 0.0


class Convertible(Model):
    """Counted if-converted when the share price is above the conversion price.

    Its principal is part of `bridge.debt`; when it converts it leaves debt, so a note is
    never counted both as debt and as shares. Blank principal: shares x conversion price.
    """

    shares: Annotated[float, Field(ge=0), SHARES]
    conversion_price: Price
    principal: Money | None = None


class ShareCapital(Model):
    basic: Shares
    options: list[Option] = Field(default_factory=list)
    warrants: list[Option] = Field(default_factory=list)
    rsus: Annotated[float, Field(ge=0), SHARES] = 0.0
    convertibles: list[Convertible] = Field(default_factory=list)


class Operating(Model):
    base_revenue: Annotated[float, Field(gt=0), CURRENCY]
    revenue_growth: WidePerYear
    ebit_margin: PerYear
    da_pct_revenue: WidePerYear
    capex_pct_revenue: WidePerYear
    nwc_pct_revenue: Rate
    tax_rate: Annotated[Rate, Field(ge=0, lt=1)]


class CostOfCapital(Model):
    risk_free: Rate
    beta: Annotated[float, Field(gt=0, le=5), Unit("levered beta")]
    """The company's own levered beta (e.g. regressed), used as it is..."""
    unlevered_beta: Annotated[float, Field(gt=0, le=5), Unit("asset beta")] | None = None
    """...unless an asset beta (say, the peer median) is given: it is relevered (Hamada) at
    the target debt weight, and `beta` is then ignored."""
    equity_risk_premium: Rate
    size_premium: Rate = 0.0
    country_premium: Rate = 0.0
    pre_tax_cost_of_debt: Rate
    debt_weight: Annotated[Rate, Field(ge=0, lt=1)]
    wacc: Annotated[Rate, Field(gt=0, lt=1)] | None = None
    """An analyst's WACC, used instead of the CAPM build-up above when given."""


class Terminal(Model):
    method: Literal["gordon", "exit_multiple"] = "gordon"
    growth: Rate | None = None
    ev_ebitda: Annotated[float, Field(gt=0, le=200), MULTIPLE] | None = None

    @model_validator(mode="after")
    def _method_inputs(self) -> Self:
        if self.method == "gordon" and self.growth is None:
            raise ValueError("the gordon method needs growth")
        if self.method == "exit_multiple" and self.ev_ebitda is None:
            raise ValueError("the exit_multiple method needs ev_ebitda")
        return self


class Bridge(Model):
    """EV to equity: what sits between the firm's value and its shareholders'."""

    cash: Money = 0.0
    investments: Money = 0.0
    debt: Money = 0.0
    lease_liabilities: Money = 0.0
    minority_interest: Money = 0.0
    preferred: Money = 0.0


class CompanyModel(Model):
    name: Text
    ticker: Text | None = None
    share_price: Price
    shares: ShareCapital
    operating: Operating
    cost_of_capital: CostOfCapital
    terminal: Terminal
    bridge: Bridge = Bridge()
    mid_year: bool = False
    power_capacity_mw: Annotated[float, Field(gt=0), Unit("MW")] | None = None

    def convertible_principal(self) -> list[float]:
        return [
            c.principal if c.principal is not None else c.shares * c.conversion_price
            for c in self.shares.convertibles
        ]

    @model_validator(mode="after")
    def _convertibles_in_debt(self) -> Self:
        principal = sum(self.convertible_principal())
        if principal > self.bridge.debt * (1 + 1e-12):
            raise ValueError(
                f"bridge.debt ({self.bridge.debt:,.0f}) must include the convertibles' "
                f"principal ({principal:,.0f}); they leave debt only when they convert"
            )
        return self


class Synergies(Model):
    run_rate_cost: Money = 0.0
    run_rate_revenue: Money = 0.0
    revenue_synergy_margin: Rate = 0.0
    phase_in: list[Annotated[float, Field(ge=0, le=1), FRACTION]]
    costs_to_achieve: list[Money]
    tax_rate: Annotated[Rate, Field(ge=0)]
    discount_rate: Annotated[Rate, Field(gt=0)]
    terminal_growth: Rate = 0.0


class Financing(Model):
    cash_used: Money = 0.0
    interest_rate_on_cash: Rate = 0.0
    new_debt: Money = 0.0
    new_debt_rate: Rate = 0.0
    intangibles_writeup: Money = 0.0
    amortisation_years: Annotated[float, Field(gt=0), YEARS] = 10.0


class DistributionKind(StrEnum):
    NORMAL = "normal"
    LOGNORMAL = "lognormal"
    TRIANGULAR = "triangular"
    UNIFORM = "uniform"


class DistributionSpec(Model):
    """A random input of the target's DCF; by default each draw is added to the base value.

    normal: mean, sd; lognormal: mean and sd of the variable itself; triangular: low, mode,
    high; uniform: low, high. `apply` is "add" (a shock around the base), "multiply" (a factor)
    or "replace".
    """

    kind: DistributionKind
    apply: Literal["add", "multiply", "replace"] = "add"
    mean: float | None = None
    sd: Annotated[float, Field(gt=0)] | None = None
    low: float | None = None
    mode: float | None = None
    high: float | None = None

    @model_validator(mode="after")
    def _params(self) -> Self:
        needs = {
            DistributionKind.NORMAL: ("mean", "sd"),
            DistributionKind.LOGNORMAL: ("mean", "sd"),
            DistributionKind.TRIANGULAR: ("low", "mode", "high"),
            DistributionKind.UNIFORM: ("low", "high"),
        }[self.kind]
        missing = [name for name in needs if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.kind.value} distribution needs {', '.join(missing)}")
        return self


DrawnInput = Literal[
    "base_revenue",
    "revenue_growth",
    "ebit_margin",
    "da_pct_revenue",
    "capex_pct_revenue",
    "nwc_pct_revenue",
    "tax_rate",
    "wacc",
    "terminal_growth",
    "exit_multiple",
    "cash",
    "debt",
    "lease_liabilities",
    "investments",
    "diluted_shares",
]
"""Any input of the target's DCF can be drawn (the engine's DCFInputs names)."""


class MonteCarlo(Model):
    """Monte Carlo on the target's standalone value per share against the offer."""

    scenarios: Annotated[int, Field(ge=100, le=2_000_000), Unit("paths")] = 100_000
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 20250707
    distributions: dict[DrawnInput, DistributionSpec] = Field(default_factory=dict)


class Sensitivity(Model):
    wacc_step: Annotated[Rate, Field(gt=0)] = 0.005
    growth_step: Annotated[Rate, Field(gt=0)] = 0.005
    steps: Annotated[int, Field(ge=1, le=10), Unit("steps either side")] = 2


class ScenarioSettings(Model):
    sensitivity: Sensitivity = Sensitivity()
    monte_carlo: MonteCarlo = MonteCarlo()


class AssumptionPayload(Model):
    """One version of a deal's assumptions, as saved, uploaded or valued from the CLI."""

    schema_version: Literal[1] = SCHEMA_VERSION
    currency: Text = "USD"
    projection_years: Annotated[int, Field(ge=1, le=30), YEARS]
    first_projection_year: Annotated[int, Field(ge=1900, le=2200)]
    deal_terms: DealTerms
    acquirer: CompanyModel
    target: CompanyModel
    synergies: Synergies
    financing: Financing = Financing()
    scenarios: ScenarioSettings = ScenarioSettings()
    provenance: dict[Text, Provenance] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _year_lengths(self) -> Self:
        n = self.projection_years
        problems = []
        for path in PER_YEAR:
            node: Any = self
            for part in path.split("."):
                node = getattr(node, part)
            values = node
            if len(values) != n:
                problems.append(f"{path} has {len(values)} values, expected {n} (one per year)")
        if problems:
            raise ValueError("; ".join(problems))
        unknown = sorted(set(self.provenance) - set(leaf_paths(self)))
        if unknown:
            raise ValueError(f"provenance names inputs that do not exist: {', '.join(unknown)}")
        return self


PER_YEAR = (
    *(
        f"{side}.operating.{name}"
        for side in ("acquirer", "target")
        for name in ("revenue_growth", "ebit_margin", "da_pct_revenue", "capex_pct_revenue")
    ),
    "synergies.phase_in",
    "synergies.costs_to_achieve",
)
"""Inputs with one value per projection year, the first for `first_projection_year`."""


def leaf_paths(payload: AssumptionPayload) -> list[str]:
    """Dotted paths of every number in a payload (lists count as one input), for provenance."""
    out: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else key)
        elif isinstance(value, (int, float, list)) and not isinstance(value, bool):
            if isinstance(value, list) and not value:
                return
            if isinstance(value, list) and isinstance(value[0], dict):
                for i, item in enumerate(value):
                    walk(item, f"{path}[{i}]")
            else:
                out.append(path)

    data = payload.model_dump(exclude={"provenance", "scenarios", "schema_version"})
    walk(data, "")
    return out


def canonical(payload: dict[str, Any]) -> dict[str, Any]:
    """A payload in one fixed key order: the schema's, with free-form maps sorted.

    PostgreSQL's JSONB stores object keys in its own order, so anything that walks a stored
    payload in order (a comparison's waterfall) goes through this first.
    """
    data = AssumptionPayload.model_validate(payload).model_dump(mode="json")
    data["provenance"] = dict(sorted(data["provenance"].items()))
    draws = data["scenarios"]["monte_carlo"]
    draws["distributions"] = dict(sorted(draws["distributions"].items()))
    return data
