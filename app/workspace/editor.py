"""The assumption editor: form fields generated from an assumption payload, and edits applied
back onto it. Field names are the inputs' dotted paths (a year's value adds its index), the
same paths the provenance labels and the validation errors use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from threading import Lock
from typing import TYPE_CHECKING, Any

from cachetools import LRUCache
from pydantic import ValidationError

from app.assumptions.diff import plain_copy
from app.assumptions.formats.rows import unit_of

if TYPE_CHECKING:
    from app.assumptions.models import AssumptionSet

SECTIONS = (
    ("Deal terms", "deal_terms"),
    ("Acquirer: operations", "acquirer.operating"),
    ("Acquirer: cost of capital", "acquirer.cost_of_capital"),
    ("Acquirer: terminal value and bridge", ("acquirer.terminal", "acquirer.bridge")),
    ("Target: operations", "target.operating"),
    ("Target: cost of capital", "target.cost_of_capital"),
    ("Target: terminal value and bridge", ("target.terminal", "target.bridge")),
    ("Synergies", "synergies"),
    ("Financing", "financing"),
    ("Monte Carlo", "scenarios.monte_carlo"),
)
LABELS = {
    "ebit_margin": "EBIT margin",
    "da_pct_revenue": "D&A, share of revenue",
    "capex_pct_revenue": "Capex, share of revenue",
    "nwc_pct_revenue": "NWC, share of revenue",
    "ev_ebitda": "Exit EV/EBITDA",
    "pre_tax_cost_of_debt": "Pre-tax cost of debt",
    "debt_weight": "Debt weight, D/(D+E)",
    "equity_risk_premium": "Equity risk premium",
    "acquirer_reference_price": "Acquirer reference price",
    "target_unaffected_price": "Target unaffected price",
    "unlevered_beta": "Asset beta, relevered (Hamada)",
    "target_vwap": "Target VWAP",
    "wacc": "WACC",
    "rsus": "RSUs",
    "nwc": "NWC",
    "da": "D&A",
}
OVERRIDES = {"wacc": "WACC override"}
"""Labels of an input that replaces a computed figure, where it is not a draw's label."""
PLACEHOLDERS = {
    "wacc": "blank: from CAPM",
    "unlevered_beta": "blank: use the beta",
    "target_vwap": "none",
}
PLAIN = {"scenarios.monte_carlo.seed"}
"""Numbers shown without thousands separators (a seed is an identifier, not an amount)."""
OPTIONAL = {
    "acquirer.cost_of_capital.wacc",
    "target.cost_of_capital.wacc",
    "acquirer.cost_of_capital.unlevered_beta",
    "target.cost_of_capital.unlevered_beta",
    "deal_terms.target_vwap",
}
"""Inputs that may be left blank: the model then computes them (WACC from CAPM) or omits them."""
BANDS = {
    "deal_terms.collar": "Collar",
    "deal_terms.walkaway": "Walk-away",
    "deal_terms.target_52_week": "52-week range",
}
"""Price bands: two inputs each, both blank for none (no collar, say)."""


@dataclass(frozen=True)
class Field:
    path: str
    label: str
    values: tuple[float | None, ...]
    per_year: bool
    unit: str = ""
    placeholder: str = ""

    @property
    def plain(self) -> bool:
        return self.path in PLAIN

    def name(self, year: int | None = None) -> str:
        return self.path if year is None else f"{self.path}.{year}"

    def error_id(self, year: int | None = None) -> str:
        return "err-" + self.name(year).replace(".", "-")


@dataclass(frozen=True)
class Section:
    title: str
    fields: tuple[Field, ...]


def _label(key: str) -> str:
    return LABELS.get(key, key.replace("_", " ").capitalize())


def _unit(path: str, currency: str) -> str:
    section, _, rest = path.partition(".")
    return unit_of(section, rest, currency)


def _field(path: str, values: tuple[float | None, ...], per_year: bool, currency: str) -> Field:
    key = path.rsplit(".", 1)[1]
    label = OVERRIDES.get(key, _label(key)) if path in OPTIONAL else _label(key)
    return Field(
        path,
        label,
        values,
        per_year,
        unit=_unit(path, currency),
        placeholder=PLACEHOLDERS.get(key, "") if values == (None,) else "",
    )


def _node(payload: dict[str, Any], path: str) -> Any:
    node: Any = payload
    for part in path.split("."):
        node = node[part]
    return node


def sections(payload: dict[str, Any]) -> list[Section]:
    """Every number the editor offers, grouped as in the assumption set."""
    out = []
    currency = payload.get("currency", "USD")
    for title, roots in SECTIONS:
        fields = []
        for root in (roots,) if isinstance(roots, str) else roots:
            for key, value in _node(payload, root).items():
                path = f"{root}.{key}"
                if value is None and path in OPTIONAL:
                    fields.append(_field(path, (None,), False, currency))
                    continue
                if isinstance(value, bool) or value is None:
                    continue
                if isinstance(value, (int, float)):
                    fields.append(_field(path, (value,), False, currency))
                elif (
                    isinstance(value, list)
                    and value
                    and all(isinstance(v, (int, float)) for v in value)
                ):
                    fields.append(_field(path, tuple(value), True, currency))
            if root == "scenarios.monte_carlo":
                fields += _distribution_fields(payload)
            for band, label in BANDS.items():
                if band.rsplit(".", 1)[0] == root:
                    bounds = _node(payload, root).get(band.rsplit(".", 1)[1]) or {}
                    for bound in ("lower", "upper"):
                        fields.append(
                            Field(
                                f"{band}.{bound}",
                                f"{label}, {bound}",
                                (bounds.get(bound),),
                                False,
                                unit=f"{currency}/share",
                                placeholder="none" if not bounds else "",
                            )
                        )
        out.append(Section(title, tuple(fields)))
    return out


def _distribution_fields(payload: dict[str, Any]) -> list[Field]:
    """The parameters of each Monte Carlo draw (its kind and how it applies stay as saved)."""
    fields = []
    root = "scenarios.monte_carlo.distributions"
    for name, spec in sorted(_node(payload, root).items()):
        for key in ("mean", "sd", "low", "mode", "high"):
            if spec.get(key) is not None:
                label = f"{_label(name)} draw ({spec['kind']}): {key}"
                fields.append(Field(f"{root}.{name}.{key}", label, (spec[key],), False))
    return fields


def editable_names(
    payload: dict[str, Any], of: list[Section] | None = None
) -> dict[str, tuple[str, int | None]]:
    """Form name -> (path, year index or None) for every editable input."""
    names = {}
    for section in of if of is not None else sections(payload):
        for f in section.fields:
            if f.per_year:
                names.update({f.name(i): (f.path, i) for i in range(len(f.values))})
            else:
                names[f.name()] = (f.path, None)
    return names


@dataclass(frozen=True)
class Editor:
    """The fields of one saved version, worked out once (a version never changes)."""

    sections: list[Section]
    names: dict[str, tuple[str, int | None]]


_EDITORS: LRUCache[str, Editor] = LRUCache(maxsize=256)
_LOCK = Lock()


def for_version(version: AssumptionSet) -> Editor:
    """The editor of a saved version, by its content hash (the same payload, the same fields).

    The payload is read only to build an editor not yet kept: a page that shows a kept one
    never loads it (a large deferred JSON column)."""
    with _LOCK:
        found = _EDITORS.get(version.content_hash)
    if found is None:
        payload = version.payload
        found = Editor(fields := sections(payload), editable_names(payload, fields))
        with _LOCK:
            _EDITORS[version.content_hash] = found
    return found


def apply_edits(
    payload: dict[str, Any],
    form: Mapping[str, str],
    names: Mapping[str, tuple[str, int | None]] | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """A copy of `payload` with the form's numbers in place, and unreadable fields' messages."""
    edited = plain_copy(payload)
    errors: dict[str, str] = {}
    for band in BANDS:
        _apply_band(edited, band, form, errors)
    for name, (path, year) in (names if names is not None else editable_names(payload)).items():
        if name not in form or path.rsplit(".", 1)[0] in BANDS:
            continue
        text = str(form[name]).strip().replace(",", "")
        parent_path, key = path.rsplit(".", 1)
        if not text and path in OPTIONAL:
            _node(edited, parent_path)[key] = None
            continue
        try:
            number = float(text)
            if not math.isfinite(number):
                raise ValueError
        except ValueError:
            errors[name] = "enter a number" if text else "required"
            continue
        parent = _node(edited, parent_path)
        if year is None:
            parent[key] = int(number) if isinstance(parent[key], int) else number
        else:
            parent[key][year] = number
    return edited, errors


def _apply_band(
    edited: dict[str, Any], band: str, form: Mapping[str, str], errors: dict[str, str]
) -> None:
    """Both bounds blank: no band. One blank: an error on it. Otherwise {lower, upper}."""
    names = (f"{band}.lower", f"{band}.upper")
    if not all(name in form for name in names):
        return
    texts = [str(form[name]).strip().replace(",", "") for name in names]
    parent_path, key = band.rsplit(".", 1)
    if not any(texts):
        _node(edited, parent_path)[key] = None
        return
    bounds = []
    for name, text in zip(names, texts, strict=True):
        try:
            bounds.append(float(text))
        except ValueError:
            errors[name] = "give both bounds, or neither" if not text else "enter a number"
    if len(bounds) == 2:
        _node(edited, parent_path)[key] = {"lower": bounds[0], "upper": bounds[1]}


def validation_messages(exc: ValidationError, names: Mapping[str, Any]) -> dict[str, str]:
    """Pydantic's errors keyed by form name; errors about no single field go under ''."""
    messages: dict[str, str] = {}
    general = []
    for error in exc.errors():
        loc = ".".join(str(part) for part in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if loc in BANDS:  # a band as a whole (lower above upper): show it by its lower bound
            loc = f"{loc}.lower"
        if loc in names:
            messages[loc] = f"{messages[loc]}; {message}" if loc in messages else message
        else:
            general.append(f"{loc}: {message}" if loc else message)
    if general:
        messages[""] = "; ".join(general)
    return messages
