"""The Excel model of one valuation run: every input, and the maths as live formulas.

An analyst who receives the workbook should be able to audit every figure and change any
input: so the DCFs, the cost of capital, dilution and the offer are formulas on the `Inputs`
sheet's defined names (`tgt_revenue_growth`, `deal_exchange_ratio`, ...), written to follow
docs/methodology.md term by term. Only what a spreadsheet cannot redo cheaply (the
sensitivity grids and the seeded Monte Carlo) is pasted as values, labelled with the run and
seed they come from. Structural choices are inputs too (terminal method, structure, mid-year,
an optional collar, WACC override or asset beta), so switching them in Excel re-values.

Cached values: none are written. openpyxl cannot store a formula's result, and computing
results here would need a second spreadsheet engine at export time whose answers could drift
from the formulas'. Excel and LibreOffice calculate on load (`fullCalcOnLoad`); the `Checks`
sheet shows the run's headline figures as values beside the formulas; the test suite
recalculates every formula with an independent engine. A reader that only takes cached values
(pandas, python-calamine, openpyxl with data_only=True) sees formula cells empty.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from app.assumptions.formats.rows import neutralise
from app.assumptions.schemas import AssumptionPayload, CompanyModel
from app.auth.principal import Principal
from app.reports.service import ReportSource, report_source

__all__ = ["MEDIA_TYPE", "build_workbook", "download", "filename"]

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_TEXT = 32_767
"""Excel's limit on the characters of one cell."""
EXACT_INTEGERS = 10**15
"""Excel keeps 15 significant digits: larger integers (a seed) are written as text."""

NAVY, GREY, INPUT_BLUE, INPUT_FILL, MUTED = "1F3864", "D9E1F2", "0000FF", "FFF2CC", "595959"
FONT = "Calibri"


def _font(**style: Any) -> Font:
    """One typeface everywhere: a Font without a name renders in the reader's default."""
    return Font(name=FONT, size=style.pop("size", 11), **style)


BOLD = _font(bold=True)
RIGHT, LEFT = Alignment(horizontal="right"), Alignment(horizontal="left")
NOTE = Alignment(horizontal="left", indent=1)
THIN = Side(style="thin", color="7F7F7F")
SIDES = {"acquirer": "acq", "target": "tgt"}
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥"}

# Inputs sheet columns: label, unit, defined name, scalar value, then one column per year.
LABEL, UNIT, NAME, VALUE, FIRST_YEAR = 1, 2, 3, 4, 5
# Model sheets: label, unit, then a block's single value (or a DCF's base year), then years.
BASE = 3


# --- Cells, names and styles --------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    label: str
    fmt: str


def _units(currency: str) -> dict[str, Unit]:
    """How each kind of number reads: negatives in parentheses, units in their own column."""
    symbol = SYMBOLS.get(currency, "")
    price = f'"{symbol}"#,##0.00;("{symbol}"#,##0.00)' if symbol else "#,##0.00;(#,##0.00)"
    return {
        "money": Unit(currency, "#,##0;(#,##0)"),
        "price": Unit(f"{currency}/share", price),
        "pct": Unit("%", "0.0%;(0.0%)"),
        "rate": Unit("%", "0.00%;(0.00%)"),
        "shares": Unit("shares", "#,##0"),
        "multiple": Unit("x", '0.0"x"'),
        "ratio": Unit("shares/share", "0.0000"),
        "beta": Unit("beta", "0.00"),
        "factor": Unit("factor", "0.0000"),
        "years": Unit("years", "0.0"),
        "year": Unit("year", "0"),
        "count": Unit("count", "#,##0"),
        "number": Unit("", "General"),
        "seed": Unit("seed", "0"),
        "text": Unit("text", "@"),  # typed-in text stays text, even "=..."
        "choice": Unit("text", "General"),
        "flag": Unit("TRUE/FALSE", "General"),
        "mw": Unit("MW", "#,##0"),
    }


@dataclass(frozen=True)
class Formula:
    """A formula written on purpose: the only kind of cell allowed to start with "="."""

    text: str


def _f(text: str) -> Formula:
    return Formula(text if text.startswith("=") else "=" + text)


def _text(value: str) -> str:
    """User text as inert text: never run as a formula, storable, within Excel's cell limit."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(value))[:MAX_TEXT]


def _cell_value(value: Any) -> Any:
    if isinstance(value, Formula):
        return value.text
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= EXACT_INTEGERS:
        value = str(value)
    return _text(value) if isinstance(value, str) else value


def _ref(col: int, row: int) -> str:
    return f"${get_column_letter(col)}${row}"


def _lookup(obj: Any, path: str) -> Any:
    """The value at a dotted path like `shares.warrants[0].count`; None past a missing node."""
    for part in re.findall(r"[^.\[\]]+", path):
        if obj is None:
            return None
        obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
    return obj


@dataclass
class Book:
    """The workbook being written: its number formats and the names it defines."""

    wb: Workbook
    units: dict[str, Unit]
    names: dict[str, str] = field(default_factory=dict)

    def define(self, name: str, ws: Worksheet, ref: str) -> None:
        if name in self.names:
            raise ValueError(f"defined name {name} used twice")
        self.names[name] = f"{quote_sheetname(ws.title)}!{ref}"
        self.wb.defined_names[name] = DefinedName(name, attr_text=self.names[name])


@dataclass(frozen=True)
class Line:
    """One labelled figure of a model block; `formula` refers to earlier lines as {key}."""

    key: str
    label: str
    unit: str
    formula: str
    name: str = ""
    total: bool = False
    note: str = ""


class Sheet:
    """A worksheet written top to bottom: a title, section bands, labelled lines."""

    def __init__(
        self, book: Book, ws: Worksheet, widths: Sequence[float], tab: str, fit: bool = True
    ) -> None:
        self.book, self.ws, self.row = book, ws, 1
        for i, width in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(i)].width = width
        ws.sheet_properties.tabColor = tab
        ws.sheet_view.showGridLines = False
        ws.page_setup.orientation = "landscape"
        if fit:  # one page wide when printed
            ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
            ws.sheet_properties.pageSetUpPr.fitToPage = True

    def put(self, col: int, value: Any, unit: str | None = None, *, row: int = 0) -> Cell:
        cell = self.ws.cell(row or self.row, col, _cell_value(value))
        cell.font = _font()
        if unit:
            cell.number_format = self.book.units[unit].fmt
        return cell

    def title(self, text: str, *notes: str) -> None:
        self.put(1, text).font = _font(bold=True, size=14, color=NAVY)
        for note in notes:
            self.row += 1
            self.put(1, note).font = _font(italic=True, color=MUTED)
        self.row += 2

    def band(self, text: str, span: int) -> None:
        """A section heading across the table."""
        self.put(1, text)
        for col in range(1, span + 1):
            cell = self.ws.cell(self.row, col)
            cell.fill = PatternFill("solid", fgColor=NAVY)
            cell.font = _font(bold=True, color="FFFFFF")
        self.row += 1

    def header(
        self, labels: Sequence[Any], year_format: str = "0", left: Sequence[int] = (1, 2)
    ) -> None:
        """Column headings: text columns aligned left, figures' columns right."""
        for col, label in enumerate(labels, start=1):
            cell = self.put(col, label)
            cell.font, cell.fill = BOLD, PatternFill("solid", fgColor=GREY)
            cell.border = Border(bottom=THIN)
            cell.alignment = LEFT if col in left else RIGHT
            if isinstance(label, int):
                cell.number_format = year_format
        self.row += 1

    def line(
        self,
        label: str,
        unit: str,
        value: Any,
        *,
        name: str = "",
        total: bool = False,
        note: str = "",
    ) -> str:
        """One labelled figure; returns its absolute reference for later formulas."""
        self.put(1, label)
        self.put(2, self.book.units[unit].label)
        cell = self.put(BASE, value, unit)
        cell.alignment = RIGHT  # text results ("none", "n/a") line up with the figures
        if note:
            note_cell = self.put(BASE + 1, note)
            note_cell.font, note_cell.alignment = _font(italic=True, color=MUTED), NOTE
        if total:
            self.ws.cell(self.row, 1).font = cell.font = BOLD
            cell.border = Border(top=THIN)
        ref = _ref(BASE, self.row)
        if name:
            self.book.define(name, self.ws, ref)
        self.row += 1
        return ref

    def block(self, lines: Sequence[Line], refs: dict[str, str]) -> dict[str, str]:
        """Write model lines; each {key} in a formula becomes that line's (or refs') cell."""
        for item in lines:
            if item.key in refs:
                raise ValueError(f"line key {item.key} used twice")
            refs[item.key] = self.line(
                item.label,
                item.unit,
                _f(item.formula.format_map(refs)),
                name=item.name.format_map(refs),
                total=item.total,
                note=item.note,
            )
        return refs

    def skip(self, rows: int = 1) -> None:
        self.row += rows


# --- Inputs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spec:
    """One input: where it sits in the payload, how it is labelled, its unit and name."""

    path: str
    label: str
    unit: str
    name: str
    choices: tuple[str, ...] = ()


CHOICES = {"structure": ("fixed_ratio", "fixed_value"), "method": ("gordon", "exit_multiple")}
"""Text inputs that take one of a few values (a drop-down in Excel), by payload field."""


def _table(text: str, under: str = "") -> tuple[Spec, ...]:
    """Specs from `path | label | unit [| name]` lines, one input a line.

    The name defaults to the path's last part; `under` prefixes every path.
    """
    specs = []
    for row in text.strip().splitlines():
        path, label, unit, *rest = (cell.strip() for cell in row.split("|"))
        leaf = path.rsplit(".", 1)[-1]
        name = rest[0] if rest else leaf
        specs.append(Spec(under + path, label, unit, name, CHOICES.get(leaf, ())))
    return tuple(specs)


GENERAL = _table("""
currency              | Currency              | text
projection_years      | Projection years      | count
first_projection_year | First projection year | year
""")
DEAL_TERMS = _table("""
structure                | Structure                       | text  | deal_structure
exchange_ratio           | Exchange ratio (fixed ratio)    | ratio | deal_exchange_ratio
value_per_share          | Value per share (fixed value)   | price | deal_value_per_share
cash_per_share           | Cash per target share           | price | deal_cash_per_share
acquirer_reference_price | Acquirer reference price        | price | deal_acquirer_price
target_unaffected_price  | Target unaffected price         | price | deal_unaffected_price
collar.lower             | Collar: lower acquirer price    | price | deal_collar_lower
collar.upper             | Collar: upper acquirer price    | price | deal_collar_upper
walkaway.lower           | Walk-away: lower acquirer price | price | deal_walkaway_lower
walkaway.upper           | Walk-away: upper acquirer price | price | deal_walkaway_upper
target_vwap              | Target VWAP before the approach | price | deal_target_vwap
target_52_week.lower     | Target 52-week low              | price | deal_52w_low
target_52_week.upper     | Target 52-week high             | price | deal_52w_high
""")
COMPANY_SHARES = _table("""
name         | Company                           | text
ticker       | Ticker                            | text
share_price  | Share price                       | price
shares.basic | Basic shares outstanding          | shares | shares_basic
shares.rsus  | RSUs and awards (counted in full) | shares
""")
COMPANY_MODEL = (
    *_table("""
base_revenue      | Revenue, base year                | money
revenue_growth    | Revenue growth                    | pct
ebit_margin       | EBIT margin                       | pct
da_pct_revenue    | D&A, % of revenue                 | pct
capex_pct_revenue | Capex, % of revenue               | pct
nwc_pct_revenue   | Net working capital, % of revenue | pct   | nwc_pct
tax_rate          | Tax rate                          | pct
""", "operating."),
    *_table("""
risk_free            | Risk-free rate                    | rate
beta                 | Levered beta (own)                | beta
unlevered_beta       | Asset beta (relevered when given) | beta
equity_risk_premium  | Equity risk premium               | rate | erp
size_premium         | Size premium                      | rate
country_premium      | Country premium                   | rate
pre_tax_cost_of_debt | Pre-tax cost of debt              | rate | cost_of_debt
debt_weight          | Target debt weight D/(D+E)        | pct
wacc                 | Analyst's WACC (overrides CAPM)   | rate | wacc_override
""", "cost_of_capital."),
    *_table("""
method    | Terminal value method    | text     | terminal_method
growth    | Terminal growth (Gordon) | rate     | terminal_growth
ev_ebitda | Exit multiple, EV/EBITDA | multiple | exit_multiple
""", "terminal."),
    *_table("""
cash              | Cash                                 | money
investments       | Investments                          | money
debt              | Debt (incl. convertibles' principal) | money
lease_liabilities | Lease liabilities                    | money | leases
minority_interest | Minority interest                    | money
preferred         | Preferred equity                     | money
""", "bridge."),
    *_table("""
mid_year          | Mid-year discounting | flag
power_capacity_mw | Power capacity       | mw
"""),
)  # fmt: skip
SYNERGIES = _table("""
run_rate_cost          | Run-rate cost synergies     | money | syn_run_rate_cost
run_rate_revenue       | Run-rate revenue synergies  | money | syn_run_rate_revenue
revenue_synergy_margin | Margin on revenue synergies | pct   | syn_revenue_margin
phase_in               | Phase-in of the run-rate    | pct   | syn_phase_in
costs_to_achieve       | Costs to achieve            | money | syn_costs_to_achieve
tax_rate               | Tax rate on synergies       | pct   | syn_tax_rate
discount_rate          | Synergy discount rate       | rate  | syn_discount_rate
terminal_growth        | Synergy terminal growth     | rate  | syn_terminal_growth
""")
FINANCING = _table("""
cash_used             | Cash used             | money | fin_cash_used
interest_rate_on_cash | Interest rate on cash | rate  | fin_rate_on_cash
new_debt              | New debt              | money | fin_new_debt
new_debt_rate         | Rate on new debt      | rate  | fin_new_debt_rate
intangibles_writeup   | Intangibles write-up  | money | fin_intangibles_writeup
amortisation_years    | Amortisation life     | years | fin_amortisation_years
""")
SCENARIOS = _table("""
sensitivity.wacc_step   | Sensitivity: WACC step         | rate   | sens_wacc_step
sensitivity.growth_step | Sensitivity: growth step       | rate   | sens_growth_step
sensitivity.steps       | Sensitivity: steps either side | count  | sens_steps
monte_carlo.scenarios   | Monte Carlo: paths             | count  | mc_scenarios
monte_carlo.seed        | Monte Carlo: seed              | seed   | mc_seed
""")
OPTION_FIELDS = (("count", "count", "shares", "count"), ("strike", "strike", "price", "strike"))
TRANCHES = {
    "options": ("Options", "option", OPTION_FIELDS),
    "warrants": ("Warrants", "warrant", OPTION_FIELDS),
    "convertibles": (
        "Convertible",
        "convertible",
        (
            ("shares", "shares if converted", "shares", "shares"),
            ("conversion_price", "conversion price", "price", "price"),
            ("principal", "principal (blank = shares x price)", "money", "principal"),
        ),
    ),
}
"""Share instruments: label, name stem, and each tranche field's (attribute, label, unit,
short name)."""


def _tranche_name(prefix: str, kind: str, index: int, part: str) -> str:
    """`tgt_warrant1_strike`: the name of one tranche's field (1-based, like the labels)."""
    return f"{prefix}_{TRANCHES[kind][1]}{index + 1}_{part}"


def _company_specs(company: CompanyModel, prefix: str) -> list[Spec]:
    """A company's inputs named `acq_...` or `tgt_...`, its tranches after the share count."""
    specs = [Spec(s.path, s.label, s.unit, f"{prefix}_{s.name}") for s in COMPANY_SHARES]
    for kind, (label, _, fields) in TRANCHES.items():
        for i in range(len(getattr(company.shares, kind))):
            for attr, what, unit, short in fields:
                name = _tranche_name(prefix, kind, i, short)
                specs.append(
                    Spec(f"shares.{kind}[{i}].{attr}", f"{label} {i + 1}: {what}", unit, name)
                )
    specs += [Spec(s.path, s.label, s.unit, f"{prefix}_{s.name}", s.choices) for s in COMPANY_MODEL]
    return specs


def _provenance(payload: AssumptionPayload, path: str) -> tuple[str, str]:
    label = payload.provenance.get(path)
    if label is None:
        return "", ""
    sources = f" [{', '.join(label.sources)}]" if label.sources else ""
    return label.basis.value, f"{label.note}{sources}".strip()


class InputsSheet(Sheet):
    """Every input of the version, one row each, a defined name each, years across."""

    def __init__(self, book: Book, ws: Worksheet, payload: AssumptionPayload) -> None:
        self.basis_col = FIRST_YEAR + payload.projection_years
        widths = [42, 16, 30, 16] + [13] * payload.projection_years + [12, 80]
        super().__init__(book, ws, widths, NAVY, fit=False)
        self.payload = payload

    def input(self, spec: Spec, node: Any, path: str) -> None:
        """One input row: label, unit, name, value (or the years across), provenance."""
        value = _lookup(node, spec.path)
        self.put(LABEL, spec.label)
        self.put(UNIT, self.book.units[spec.unit].label)
        self.put(NAME, spec.name).font = _font(color=MUTED)
        if isinstance(value, list):
            for col, item in enumerate(value, start=FIRST_YEAR):
                self.value(col, item, spec.unit)
            ref = f"{_ref(FIRST_YEAR, self.row)}:{_ref(FIRST_YEAR + len(value) - 1, self.row)}"
        else:
            self.value(VALUE, value, spec.unit)
            ref = _ref(VALUE, self.row)
        if spec.choices:
            rule = DataValidation(type="list", formula1=f'"{",".join(spec.choices)}"')
            rule.add(ref.replace("$", ""))
            self.ws.add_data_validation(rule)
        basis, note = _provenance(self.payload, f"{path}{spec.path}")
        self.put(self.basis_col, basis).alignment = Alignment(horizontal="center")
        self.put(self.basis_col + 1, note).alignment = NOTE
        self.book.define(spec.name, self.ws, ref)
        self.row += 1

    def value(self, col: int, value: Any, unit: str) -> None:
        """An input cell: blue on yellow, the convention for "type here"."""
        cell = self.put(col, value, unit)
        cell.font = _font(color=INPUT_BLUE)
        cell.fill = PatternFill("solid", fgColor=INPUT_FILL)

    def section(self, title: str, specs: Sequence[Spec], node: Any, path: str) -> None:
        self.band(title, self.basis_col + 1)
        for spec in specs:
            self.input(spec, node, path)
        self.skip()


def _cover(sheet: Sheet, source: ReportSource) -> None:
    """Which deal, version, engine and seed every figure comes from."""
    version, run = source.version, source.run
    stamp = "%Y-%m-%d %H:%M UTC"
    saved = version.created_at.strftime(stamp) if version.created_at else "unknown"
    valued = run.created_at.strftime(stamp) if run.created_at else "unknown"
    sheet.title(
        f"{source.deal.name}: valuation model",
        "Blue cells on yellow are inputs; black cells are formulas on them (Acquirer DCF, "
        "Target DCF, Exchange); Sensitivity and Monte Carlo hold the run's values. Money in "
        f"whole {source.model.currency}; rates are fractions shown as %. The formulas are "
        "those of Dealbook's docs/methodology.md.",
    )
    for label, value in (
        ("Deal", f"{source.deal.name} ({source.deal.slug})"),
        ("Assumption version", f"v{version.version}, saved {saved} by {version.author}"),
        ("Version note", version.note or ""),
        ("Content hash (SHA-256)", version.content_hash),
        ("Engine version", run.engine_version),
        ("Valuation run", f"#{run.id}, valued {valued}"),
        ("Monte Carlo seed", run.seed),
        ("Exported", datetime.now(UTC).strftime(stamp)),
    ):
        sheet.put(1, label).font = BOLD
        sheet.put(2, value).alignment = LEFT
        sheet.row += 1
    sheet.skip()


DRAWN_UNITS = {
    "base_revenue": "money", "cash": "money", "debt": "money", "lease_liabilities": "money",
    "investments": "money", "diluted_shares": "shares", "exit_multiple": "multiple",
}  # fmt: skip
"""The unit of a drawn input's parameters; the others are rates. A factor has none."""


def _distributions(sheet: InputsSheet, payload: AssumptionPayload) -> None:
    """The Monte Carlo's random inputs, each parameter a named input."""
    for drawn, spec in sorted(payload.scenarios.monte_carlo.distributions.items()):
        label = f"Monte Carlo, {drawn}:"
        unit = "number" if spec.apply == "multiply" else DRAWN_UNITS.get(drawn, "rate")
        specs = [
            Spec("kind", f"{label} distribution", "text", f"mc_{drawn}_kind"),
            Spec("apply", f"{label} applied by", "text", f"mc_{drawn}_apply"),
        ]
        specs += [
            Spec(param, f"{label} {param}", unit, f"mc_{drawn}_{param}")
            for param in ("mean", "sd", "low", "mode", "high")
            if getattr(spec, param) is not None
        ]
        for item in specs:
            sheet.input(item, spec, f"scenarios.monte_carlo.distributions.{drawn}.")


def _price_history(sheet: InputsSheet, payload: AssumptionPayload) -> None:
    """Daily closes and volumes, named as two columns for the VWAP formula."""
    history = payload.deal_terms.target_price_history
    if history is None:
        return
    sheet.band("Target price history before the approach (oldest first)", sheet.basis_col + 1)
    sheet.header(["Trading day", "", "", "Close", "Volume"])
    first = sheet.row
    for day, (price, volume) in enumerate(zip(history.prices, history.volumes, strict=True)):
        sheet.put(LABEL, f"Day {day + 1}")
        sheet.value(VALUE, price, "price")
        sheet.value(VALUE + 1, volume, "shares")
        sheet.row += 1
    for name, col in (("deal_history_prices", VALUE), ("deal_history_volumes", VALUE + 1)):
        sheet.book.define(name, sheet.ws, f"{_ref(col, first)}:{_ref(col, sheet.row - 1)}")


def _inputs(book: Book, ws: Worksheet, source: ReportSource) -> None:
    payload = source.model
    sheet = InputsSheet(book, ws, payload)
    _cover(sheet, source)
    years = [payload.first_projection_year + t for t in range(payload.projection_years)]
    ws.freeze_panes = ws.cell(sheet.row + 1, VALUE)
    labels = ["Input", "Unit", "Defined name", "Value", *years, "Basis", "Source / note"]
    sheet.header(labels, '0"E"', left=(1, 2, 3, sheet.basis_col + 1))
    sheet.section("General", GENERAL, payload, "")
    sheet.section("Deal terms", DEAL_TERMS, payload.deal_terms, "deal_terms.")
    for side, prefix in SIDES.items():
        company = getattr(payload, side)
        specs = _company_specs(company, prefix)
        sheet.section(f"{side.capitalize()}: {company.name}", specs, company, f"{side}.")
    sheet.section("Synergies", SYNERGIES, payload.synergies, "synergies.")
    sheet.section("Financing", FINANCING, payload.financing, "financing.")
    sheet.section("Scenario settings", SCENARIOS, payload.scenarios, "scenarios.")
    sheet.row -= 1  # the distributions continue the scenario settings
    _distributions(sheet, payload)
    sheet.skip()
    _price_history(sheet, payload)


# --- Diluted shares (the DCFs at the share price, the offer at its prices) ----------------


def _dilution(sheet: Sheet, company: CompanyModel, p: str, price: str) -> tuple[str, str]:
    """Diluted shares at `price` (a cell): TSM, RSUs in full, convertibles if in the money.

    Returns the references of the total and of the convertibles' principal that converts,
    which leaves debt: a note is never counted both as debt and as shares.
    """
    first = sheet.line("Basic shares", "shares", _f(f"{p}_shares_basic"))
    for kind in ("options", "warrants"):
        for i in range(len(getattr(company.shares, kind))):
            n, k = (_tranche_name(p, kind, i, part) for part in ("count", "strike"))
            sheet.line(
                f"{TRANCHES[kind][0]} {i + 1}, treasury stock method",
                "shares",
                _f(f"IF({price}>{k},{n}*(1-{k}/{price}),0)"),
                note="n x (1 - K/P) when P > K",
            )
    sheet.line("RSUs and awards, in full", "shares", _f(f"{p}_rsus"))
    notes = [
        [_tranche_name(p, "convertibles", i, x) for x in ("shares", "price", "principal")]
        for i in range(len(company.shares.convertibles))
    ]
    for i, (s, k, _) in enumerate(notes):
        formula = _f(f"IF({price}>{k},{s},0)")
        note = "when P > the conversion price"
        sheet.line(f"Convertible {i + 1}, if converted", "shares", formula, note=note)
    last = _ref(BASE, sheet.row - 1)
    total = sheet.line("Diluted shares", "shares", _f(f"SUM({first}:{last})"), total=True)
    principal = [
        sheet.line(
            f"Convertible {i + 1}: principal leaving debt",
            "money",
            _f(f"IF({price}>{k},IF(ISNUMBER({amount}),{amount},{s}*{k}),0)"),
        )
        for i, (s, k, amount) in enumerate(notes)
    ]
    converted = _f(f"SUM({principal[0]}:{principal[-1]})") if principal else 0
    return total, sheet.line("Convertible principal converting", "money", converted, total=True)


# --- Standalone DCF -----------------------------------------------------------------------


@dataclass(frozen=True)
class YearLine:
    """A row across the projection years: `each` in terms of this column {c}, the previous
    column {b}, the period row {t} and earlier rows by key; `base` fills the base year."""

    key: str
    label: str
    unit: str
    each: str
    base: str = ""
    total: bool = False


PROJECTION = (
    YearLine("growth", "Revenue growth", "pct", "INDEX({p}_revenue_growth,{c}${t})"),
    YearLine("revenue", "Revenue", "money", "{b}{revenue}*(1+{c}{growth})", "{p}_base_revenue"),
    YearLine("margin", "EBIT margin", "pct", "INDEX({p}_ebit_margin,{c}${t})"),
    YearLine("ebit", "EBIT", "money", "{c}{revenue}*{c}{margin}"),
    YearLine("taxes", "Less: taxes on EBIT", "money", "-{c}{ebit}*{p}_tax_rate"),
    YearLine("nopat", "NOPAT", "money", "{c}{ebit}+{c}{taxes}", total=True),
    YearLine("da_pct", "D&A, % of revenue", "pct", "INDEX({p}_da_pct_revenue,{c}${t})"),
    YearLine("da", "Plus: D&A", "money", "{c}{revenue}*{c}{da_pct}"),
    YearLine("capex_pct", "Capex, % of revenue", "pct", "INDEX({p}_capex_pct_revenue,{c}${t})"),
    YearLine("capex", "Less: capex", "money", "-{c}{revenue}*{c}{capex_pct}"),
    YearLine(
        "nwc", "Less: increase in net working capital", "money",
        "-{p}_nwc_pct*({c}{revenue}-{b}{revenue})",
    ),
    YearLine(
        "fcff", "Free cash flow to the firm (FCFF)", "money",
        "{c}{nopat}+{c}{da}+{c}{capex}+{c}{nwc}", total=True,
    ),
    YearLine("ebitda", "Memo: EBITDA (EBIT + D&A)", "money", "{c}{ebit}+{c}{da}"),
    YearLine("period", "Discount period (t - 0.5 mid-year)", "years",
             "{c}${t}-IF({p}_mid_year,0.5,0)"),
    YearLine("df", "Discount factor (1 + WACC)^-period", "factor", "(1+{p}_wacc)^-{c}{period}"),
    YearLine("pv", "PV of FCFF", "money", "{c}{fcff}*{c}{df}", total=True),
)  # fmt: skip
WACC = (
    Line("rf", "Risk-free rate", "rate", "{p}_risk_free"),
    Line("erp", "Equity risk premium", "rate", "{p}_erp"),
    Line("own_beta", "Levered beta (own)", "beta", "{p}_beta"),
    Line(
        "asset_beta", "Asset beta (if given)", "beta",
        'IF(ISNUMBER({p}_unlevered_beta),{p}_unlevered_beta,"none")',
    ),
    Line("w", "Target debt weight D/(D+E)", "pct", "{p}_debt_weight"),
    Line("de", "Target D/E = w / (1 - w)", "pct", "{w}/(1-{w})"),
    Line(
        "beta", "Beta used (levered)", "beta",
        "IF(ISNUMBER({p}_unlevered_beta),{p}_unlevered_beta*(1+(1-{p}_tax_rate)*{de}),{p}_beta)",
        note="Hamada: bU x (1 + (1 - t) D/E) when an asset beta is given",
    ),
    Line("size", "Size premium", "rate", "{p}_size_premium"),
    Line("country", "Country premium", "rate", "{p}_country_premium"),
    Line(
        "ke", "Cost of equity", "rate", "{rf}+{beta}*{erp}+{size}+{country}", total=True,
        note="rf + beta x ERP + size + country",
    ),
    Line("kd_pre", "Pre-tax cost of debt", "rate", "{p}_cost_of_debt"),
    Line("kd", "After-tax cost of debt", "rate", "{kd_pre}*(1-{p}_tax_rate)"),
    Line("capm", "WACC by CAPM", "rate", "(1-{w})*{ke}+{w}*{kd}", total=True),
    Line(
        "override", "Analyst's WACC (override)", "rate",
        'IF(ISNUMBER({p}_wacc_override),{p}_wacc_override,"none")',
    ),
    Line(
        "wacc", "WACC used", "rate", "IF(ISNUMBER({p}_wacc_override),{p}_wacc_override,{capm})",
        name="{p}_wacc", total=True,
    ),
)  # fmt: skip
TERMINAL = (
    Line("method", "Method", "choice", "{p}_terminal_method"),
    Line("fcff_n", "Final-year FCFF", "money", "{last}{fcff}"),
    Line("ebitda_n", "Final-year EBITDA", "money", "{last}{ebitda}"),
    Line(
        "tv", "Terminal value at the end of the final year", "money",
        "IF({exit},{ebitda_n}*{p}_exit_multiple,"
        "{fcff_n}*(1+{p}_terminal_growth)/({p}_wacc-{p}_terminal_growth))",
        name="{p}_terminal_value", note="Gordon FCFF x (1 + g) / (WACC - g), or EBITDA x multiple",
    ),
    Line(
        "tv_period", "Terminal discount period", "years",
        "{last}${t}-IF(AND({p}_mid_year,NOT({exit})),0.5,0)",
        note="n - 0.5 for a mid-year Gordon tail; n for a multiple, always",
    ),
    Line(
        "pv_tv", "PV of terminal value", "money", "{tv}*(1+{p}_wacc)^-{tv_period}",
        name="{p}_pv_terminal_value",
    ),
    Line("pv_sum", "Sum of PV of FCFF", "money", "SUM({first}{pv}:{last}{pv})"),
    Line(
        "ev", "Enterprise value", "money", "{pv_sum}+{pv_tv}",
        name="{p}_enterprise_value", total=True,
    ),
    Line("tv_share", "Terminal value, share of EV", "pct", "{pv_tv}/{ev}"),
    Line("implied_multiple", "Implied exit multiple (TV / EBITDA)", "multiple", "{tv}/{ebitda_n}"),
    Line(
        "implied_growth", "Implied terminal growth", "rate",
        "({tv}*{p}_wacc-{fcff_n})/({tv}+{fcff_n})",
    ),
    Line(
        "spread", "Check: WACC - g at least 0.5% (Gordon)", "choice",
        'IF(OR({exit},{p}_wacc-{p}_terminal_growth>=0.005),"ok","WACC - g below 0.5%: invalid")',
    ),
)  # fmt: skip
BRIDGE = (
    Line("ev", "Enterprise value", "money", "{p}_enterprise_value"),
    Line("cash", "Plus: cash", "money", "{p}_cash"),
    Line("investments", "Plus: investments", "money", "{p}_investments"),
    Line("debt", "Less: debt", "money", "-{p}_debt"),
    Line("add_back", "Plus: convertibles that convert (now shares)", "money", "{converted}"),
    Line("leases", "Less: lease liabilities", "money", "-{p}_leases"),
    Line("minority", "Less: minority interest", "money", "-{p}_minority_interest"),
    Line("preferred", "Less: preferred equity", "money", "-{p}_preferred"),
    Line(
        "equity", "Equity value", "money", "SUM({ev}:{preferred})",
        name="{p}_equity_value", total=True,
    ),
    Line("shares", "Diluted shares", "shares", "{diluted}"),
    Line(
        "vps", "Value per share", "price", "{equity}/{shares}",
        name="{p}_value_per_share", total=True,
    ),
    Line("upside", "Value per share vs share price", "pct", "{vps}/{price}-1"),
)  # fmt: skip


def _col(t: int) -> str:
    """Column letter of projection year t (1-based); the base year sits in column C."""
    return get_column_letter(BASE + t)


class DCFSheet(Sheet):
    """A company's FCFF DCF with years across, then its WACC, terminal value and bridge."""

    def __init__(self, book: Book, ws: Worksheet, p: str, years: Sequence[int]) -> None:
        super().__init__(book, ws, [44, 14] + [16] * (len(years) + 1) + [30], "2E75B6")
        self.p, self.years, self.n = p, list(years), len(years)
        self.rows: dict[str, Any] = {"p": p}

    def projection(self) -> None:
        width = BASE + self.n
        self.header(["Free cash flow to the firm", "Unit", "Base", *self.years], '0"E"')
        self.put(1, "Period t")
        for t in range(1, self.n + 1):
            self.put(BASE + t, t, "count")
        self.rows["t"] = self.row
        self.row += 1
        for item in PROJECTION:
            self.rows[item.key] = self.row
            self.put(1, item.label)
            self.put(2, self.book.units[item.unit].label)
            if item.base:
                self.put(BASE, _f(item.base.format_map(self.rows)), item.unit)
            for t in range(1, self.n + 1):
                formula = item.each.format_map({**self.rows, "c": _col(t), "b": _col(t - 1)})
                self.put(BASE + t, _f(formula), item.unit)
            if item.total:
                for col in range(1, width + 1):
                    cell = self.ws.cell(self.row, col)
                    cell.font = BOLD
                    if col >= BASE:
                        cell.border = Border(top=THIN)
            self.row += 1
        self.skip()

    def valuation(self, company: CompanyModel) -> None:
        """WACC, terminal value and EV, diluted shares, then EV to equity per share."""
        p, width = self.p, BASE + self.n + 1
        context = {
            "p": p,
            "exit": f'{p}_terminal_method="exit_multiple"',
            "first": _col(1),
            "last": _col(self.n),
            **{k: str(v) for k, v in self.rows.items() if k != "p"},
        }
        self.band("Cost of capital (CAPM at target weights)", width)
        self.block(WACC, context)
        self.skip()
        self.band("Terminal value and enterprise value", width)
        self.block(TERMINAL, context)
        self.skip()
        self.band(f"Diluted shares at the share price ({company.ticker or 'own'})", width)
        price = self.line("Share price", "price", _f(f"{p}_share_price"))
        shares, converted = _dilution(self, company, p, price)
        self.book.define(f"{p}_diluted_shares", self.ws, shares)
        self.skip()
        self.band("Enterprise value to equity value", width)
        refs = {"p": p, "price": price, "diluted": shares, "converted": converted}
        self.block(BRIDGE, refs)


def _dcf(book: Book, ws: Worksheet, payload: AssumptionPayload, side: str) -> None:
    company: CompanyModel = getattr(payload, side)
    years = [payload.first_projection_year + t for t in range(payload.projection_years)]
    sheet = DCFSheet(book, ws, SIDES[side], years)
    sheet.title(
        f"{side.capitalize()} standalone DCF: {company.name}",
        f"Live formulas on the Inputs sheet; money in whole {payload.currency}.",
    )
    ws.freeze_panes = ws.cell(sheet.row + 1, BASE)
    sheet.projection()
    sheet.valuation(company)


# --- Exchange -----------------------------------------------------------------------------

HISTORY_VWAP = "SUMPRODUCT(deal_history_prices,deal_history_volumes)/SUM(deal_history_volumes)"
GIVEN_VWAP = 'IF(ISNUMBER(deal_target_vwap),deal_target_vwap,"n/a")'
OFFER_TERMS = (
    Line("price", "Acquirer reference price P", "price", "deal_acquirer_price"),
    Line("structure", "Structure", "choice", "deal_structure"),
    Line("lower", "Collar: lower", "price",
         'IF(ISNUMBER(deal_collar_lower),deal_collar_lower,"none")'),
    Line("upper", "Collar: upper", "price",
         'IF(ISNUMBER(deal_collar_upper),deal_collar_upper,"none")'),
    Line(
        "clip", "Acquirer price clipped into the collar", "price",
        "IF(AND(ISNUMBER(deal_collar_lower),ISNUMBER(deal_collar_upper)),"
        "MIN(MAX({price},deal_collar_lower),deal_collar_upper),{price})",
        note="MIN(MAX(P, lower), upper); P without a collar",
    ),
    Line(
        "ratio", "Effective exchange ratio", "ratio",
        'IF(deal_structure="fixed_value",deal_value_per_share/{clip},'
        "deal_exchange_ratio*({clip}/{price}))",
        name="offer_effective_ratio", total=True,
        note="fixed ratio r x clip(P) / P; fixed value V / clip(P)",
    ),
    Line(
        "implied", "Implied price per target share", "price", "deal_cash_per_share+{ratio}*{price}",
        name="offer_implied_price", total=True, note="cash + ratio x P",
    ),
    Line("unaffected", "Target unaffected price", "price", "deal_unaffected_price"),
    Line(
        "premium", "Premium to unaffected", "pct", "{implied}/{unaffected}-1",
        name="offer_premium", total=True,
    ),
    Line("vwap", "Target VWAP", "price", "{vwap_formula}",
         note="sum(close x volume) / sum(volume)"),
    Line(
        "premium_vwap", "Premium to VWAP", "pct", 'IF(ISNUMBER({vwap}),{implied}/{vwap}-1,"n/a")',
        name="offer_premium_to_vwap",
    ),
    Line(
        "below", "Below the lower walk-away price?", "flag",
        "IF(ISNUMBER(deal_walkaway_lower),{price}<deal_walkaway_lower,FALSE)",
    ),
    Line(
        "above", "Above the upper walk-away price?", "flag",
        "IF(ISNUMBER(deal_walkaway_upper),{price}>deal_walkaway_upper,FALSE)",
    ),
)  # fmt: skip
OFFER_VALUE = (
    Line(
        "equity", "Offer equity value", "money", "{implied}*{target_shares}",
        name="offer_equity_value", total=True, note="implied price x target diluted shares",
    ),
    Line("debt", "Target debt less the notes that convert", "money", "tgt_debt-{target_converted}"),
    Line(
        "net_debt", "Target net debt", "money",
        "{debt}+tgt_leases+tgt_minority_interest+tgt_preferred-tgt_cash-tgt_investments",
        name="offer_target_net_debt",
        note="debt + leases + minority + preferred - cash - investments",
    ),
    Line(
        "ev", "Offer enterprise value", "money", "{equity}+{net_debt}",
        name="offer_enterprise_value", total=True,
    ),
    Line(
        "ev_per_mw", "Offer EV per MW", "money",
        'IF(ISNUMBER(tgt_power_capacity_mw),{ev}/tgt_power_capacity_mw,"n/a")',
    ),
    Line(
        "premium_paid", "Premium paid over the unaffected value", "money",
        "{equity}-{unaffected}*{target_shares}",
    ),
)  # fmt: skip
OWNERSHIP = (
    Line(
        "new", "New acquirer shares issued", "shares", "{ratio}*{target_shares}",
        name="offer_new_shares", total=True, note="ratio x target diluted shares",
    ),
    Line("acquirer", "Acquirer diluted shares", "shares", "{acquirer_shares}"),
    Line(
        "own", "Target holders own", "pct", "{new}/({acquirer}+{new})",
        name="offer_target_ownership", total=True, note="new / (acquirer + new)",
    ),
    Line("acq_own", "Acquirer holders own", "pct", "1-{own}", name="offer_acquirer_ownership"),
)  # fmt: skip
BASIC_OWNERSHIP = (
    Line(
        "new_basic", "New shares for the basic target shares", "shares",
        "{ratio}*tgt_shares_basic", name="offer_new_shares_basic",
    ),
    Line("equity_basic", "Offer value of the basic target shares", "money",
         "{implied}*tgt_shares_basic"),
    Line(
        "own_basic", "Target holders own", "pct", "{new_basic}/(acq_shares_basic+{new_basic})",
        name="offer_target_ownership_basic",
    ),
    Line("acq_own_basic", "Acquirer holders own", "pct", "1-{own_basic}"),
)  # fmt: skip


def _exchange(book: Book, ws: Worksheet, payload: AssumptionPayload) -> None:
    """Offer terms, both companies' dilution at the offer's prices, value and ownership."""
    sheet = Sheet(book, ws, [46, 16, 18, 50], "548235")
    sheet.title(
        "Exchange ratio, offer value and pro forma ownership",
        "Live formulas on the Inputs sheet. The acquirer is diluted at its reference price, "
        "the target at the offer's implied price.",
    )
    ws.freeze_panes = ws.cell(sheet.row, 1)
    history = payload.deal_terms.target_price_history is not None
    refs: dict[str, str] = {"vwap_formula": HISTORY_VWAP if history else GIVEN_VWAP}
    sheet.band("Offer terms", 4)
    sheet.block(OFFER_TERMS, refs)
    sheet.skip()
    sheet.band("Target diluted shares at the implied price", 4)
    refs["target_shares"], refs["target_converted"] = _dilution(
        sheet, payload.target, "tgt", refs["implied"]
    )
    book.define("offer_target_diluted_shares", ws, refs["target_shares"])
    sheet.skip()
    sheet.band("Acquirer diluted shares at the reference price", 4)
    refs["acquirer_shares"], _ = _dilution(sheet, payload.acquirer, "acq", refs["price"])
    book.define("offer_acquirer_diluted_shares", ws, refs["acquirer_shares"])
    for title, lines in (
        ("Offer value", OFFER_VALUE),
        ("Pro forma ownership, fully diluted", OWNERSHIP),
        ("Pro forma ownership, basic shares (the proxy's basis)", BASIC_OWNERSHIP),
    ):
        sheet.skip()
        sheet.band(title, 4)
        sheet.block(lines, refs)


# --- Values from the run: sensitivity, Monte Carlo, checks --------------------------------


def _values_note(source: ReportSource) -> str:
    run = source.run
    return (
        f"Values, not formulas: from valuation run #{run.id} of v{source.version.version} "
        f"(engine {run.engine_version}, Monte Carlo seed {run.seed})."
    )


@dataclass(frozen=True)
class Axis:
    values: Sequence[float]
    unit: str


def _grid(
    sheet: Sheet, title: str, corner: str, rows: Axis, cols: Axis, cells: Any, unit: str, base: Any
) -> None:
    """One two-way table of stored values, the base case in bold on grey."""
    sheet.band(title, len(cols.values) + 1)
    sheet.put(1, corner).font = BOLD
    for j, value in enumerate(cols.values):
        cell = sheet.put(2 + j, value, cols.unit)
        cell.font, cell.border = BOLD, Border(bottom=THIN)
    sheet.row += 1
    for i, row_value in enumerate(rows.values):
        sheet.put(1, row_value, rows.unit).font = BOLD
        for j, value in enumerate(cells[i]):
            cell = sheet.put(2 + j, "n.m." if value is None else value, unit)
            cell.alignment = RIGHT
            if [i, j] == list(base):
                cell.font, cell.fill = BOLD, PatternFill("solid", fgColor=GREY)
        sheet.row += 1
    sheet.skip()


def _sensitivity(book: Book, ws: Worksheet, source: ReportSource) -> None:
    results = source.run.results["sensitivity"]
    sheet = Sheet(book, ws, [30] + [14] * 11, "A5A5A5")
    sheet.title("Sensitivities (the base case in bold)", _values_note(source))
    grids = results["target"]
    vps = "Target value per share"
    if "growth" in grids:
        g = grids["growth"]
        rows, cols = Axis(g["row_values"], "rate"), Axis(g["column_values"], "rate")
        title = f"{vps}: WACC (rows) x terminal growth (columns)"
        _grid(sheet, title, "WACC \\ g", rows, cols, g["value_per_share"], "price", g["base"])
    m = grids["multiple"]
    rows, cols = Axis(m["row_values"], "rate"), Axis(m["column_values"], "multiple")
    title = f"{vps}: WACC (rows) x exit multiple (columns)"
    _grid(sheet, title, "WACC \\ EV/EBITDA", rows, cols, m["value_per_share"], "price", m["base"])
    x = results.get("exchange")
    if not x:
        return
    rows, cols = Axis(x["ratios"], "ratio"), Axis(x["prices"], "price")
    for key, label, unit in (
        ("implied_price", "Implied price per target share", "price"),
        ("premium", "Premium to unaffected", "pct"),
        ("target_ownership", "Target ownership, fully diluted", "pct"),
    ):
        title = f"{label}: exchange ratio (rows) x acquirer price (columns)"
        _grid(sheet, title, "Ratio \\ price", rows, cols, x[key], unit, x["base"])


def _monte_carlo(book: Book, ws: Worksheet, source: ReportSource) -> None:
    mc = source.run.results["monte_carlo"]
    sheet = Sheet(book, ws, [44, 18, 18, 14], "A5A5A5")
    sheet.title("Monte Carlo: the target's standalone value per share", _values_note(source))
    sheet.band("Summary", 4)
    sheet.line("Paths requested", "count", mc["n_requested"])
    sheet.line("Valid paths", "count", mc["n_valid"])
    sheet.line("Rejected paths", "count", mc["n_rejected"])
    for rule, count in sorted((mc.get("rejected_by_rule") or {}).items()):
        sheet.line(f"Rejected: {rule}", "count", count)
    sheet.line("Random inputs", "choice", ", ".join(mc.get("drawn") or []) or "none")
    sheet.line("Seed", "seed", source.run.seed)
    for pct, value in mc["percentiles"].items():
        sheet.line(f"P{pct}", "price", value)
    sheet.line("Mean", "price", mc["mean"])
    sheet.line("Standard deviation", "price", mc["std"])
    sheet.line("Offer implied price", "price", source.run.results["exchange"]["implied_price"])
    sheet.line("P(value per share > offer)", "rate", mc["prob_above_offer"], total=True)
    sheet.skip()
    sheet.band("Histogram of the valid paths, P0.5 to P99.5", 4)
    sheet.header(["Bin", "From", "To", "Paths"])
    edges, counts = mc["histogram"]["edges"], mc["histogram"]["counts"]
    for i, count in enumerate(counts):
        for col, (value, unit) in enumerate(
            ((i + 1, "count"), (edges[i], "price"), (edges[i + 1], "price"), (count, "count")),
            start=1,
        ):
            sheet.put(col, value, unit).alignment = LEFT if col == 1 else RIGHT
        sheet.row += 1


CHECKS = {
    "acq_wacc": ("acquirer.wacc.wacc", "Acquirer WACC", "rate"),
    "acq_enterprise_value": ("acquirer.dcf.enterprise_value", "Acquirer enterprise value", "money"),
    "acq_equity_value": ("acquirer.dcf.equity_value", "Acquirer equity value", "money"),
    "acq_diluted_shares": ("acquirer.diluted_shares", "Acquirer diluted shares", "shares"),
    "acq_value_per_share": ("acquirer.dcf.value_per_share", "Acquirer value per share", "price"),
    "tgt_wacc": ("target.wacc.wacc", "Target WACC", "rate"),
    "tgt_enterprise_value": ("target.dcf.enterprise_value", "Target enterprise value", "money"),
    "tgt_equity_value": ("target.dcf.equity_value", "Target equity value", "money"),
    "tgt_diluted_shares": ("target.diluted_shares", "Target diluted shares", "shares"),
    "tgt_value_per_share": ("target.dcf.value_per_share", "Target value per share", "price"),
    "offer_effective_ratio": ("exchange.effective_ratio", "Effective exchange ratio", "ratio"),
    "offer_implied_price": ("exchange.implied_price", "Implied price", "price"),
    "offer_premium": ("exchange.premium", "Premium to unaffected", "pct"),
    "offer_premium_to_vwap": ("exchange.premium_to_vwap", "Premium to VWAP", "pct"),
    "offer_target_diluted_shares": (
        "exchange.target_diluted_shares", "Target diluted shares at the offer", "shares"
    ),
    "offer_equity_value": ("exchange.equity_value", "Offer equity value", "money"),
    "offer_enterprise_value": ("exchange.enterprise_value", "Offer enterprise value", "money"),
    "offer_new_shares": ("exchange.new_shares", "New shares issued", "shares"),
    "offer_target_ownership": ("exchange.target_ownership", "Target ownership", "pct"),
    "offer_target_ownership_basic": (
        "exchange.basic.target_ownership", "Target ownership, basic shares", "pct"
    ),
}  # fmt: skip
"""Headline figures by defined name: the stored result's path, a label and a unit."""


def _checks(book: Book, ws: Worksheet, source: ReportSource) -> None:
    """The workbook's headline formulas beside the run's stored values, and the difference."""
    run = source.run
    sheet = Sheet(book, ws, [40, 14, 22, 22, 16], "C00000")
    sheet.title(
        "Checks: the workbook's formulas against Dealbook's stored results",
        f"Column D holds values from valuation run #{run.id} (engine {run.engine_version}); "
        "change an input and the difference shows its effect.",
    )
    sheet.header(["Figure", "Unit", "Workbook (formula)", f"Dealbook run #{run.id}", "Difference"])
    ws.freeze_panes = ws.cell(sheet.row, 1)
    for name, (path, label, unit) in CHECKS.items():
        stored = _stored(run.results, path)
        if stored is None:
            continue
        formula = sheet.line(label, unit, _f(name))
        value = sheet.put(BASE + 1, stored, unit, row=sheet.row - 1)
        diff = sheet.put(BASE + 2, _f(f"{formula}-{value.coordinate}"), unit, row=value.row)
        diff.font = _font(color=MUTED)


def _stored(results: dict[str, Any], path: str) -> Any:
    node: Any = results
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    return node


# --- The workbook -------------------------------------------------------------------------


def build_workbook(source: ReportSource) -> bytes:
    """The .xlsx model of one version and its run (the module docstring says what is live)."""
    payload = source.model
    wb = Workbook()
    book = Book(wb, _units(payload.currency))
    wb.active.title = "Inputs"
    _inputs(book, wb.active, source)
    _dcf(book, wb.create_sheet("Acquirer DCF"), payload, "acquirer")
    _dcf(book, wb.create_sheet("Target DCF"), payload, "target")
    _exchange(book, wb.create_sheet("Exchange"), payload)
    _sensitivity(book, wb.create_sheet("Sensitivity"), source)
    _monte_carlo(book, wb.create_sheet("Monte Carlo"), source)
    _checks(book, wb.create_sheet("Checks"), source)
    wb.calculation.fullCalcOnLoad = True
    wb.properties.title = _text(f"{source.deal.name}: valuation model v{source.version.version}")
    wb.properties.creator = "Dealbook"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(source: ReportSource) -> str:
    return f"{source.deal.slug}-model-v{source.version.version}.xlsx"


def download(
    session: Session, slug: str, number: int | None = None, *, viewer: Principal | None
) -> tuple[bytes, str]:
    """A deal version's workbook (the current version unless `number`) and its file name.

    Loads the version and its run (valuing it first if it has none), then builds: blocking
    work, so routes run it in a worker thread.
    """
    source = report_source(session, slug, number, viewer=viewer)
    return build_workbook(source), filename(source)
