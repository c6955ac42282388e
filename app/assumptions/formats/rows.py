"""An assumption payload as rows (section, field, year, value, unit), and back: the one shape
the CSV and XLSX encodings share, so both read and check a file the same way.

A field is a dotted path inside its section (`shares.warrants.0.strike`); an input with one
value per projection year is one row per year; a value that is None, an empty text or an
empty list has no row (an absent row means the default). Units come from the schema's `Unit`
markers, with "currency" spelled as the payload's currency, so a file says what it holds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from app.assumptions.schemas import PER_YEAR, AssumptionPayload, Provenance, Unit
from app.assumptions.upload import Loc, Places, Problem

SECTIONS = (
    "general",
    "deal_terms",
    "acquirer",
    "target",
    "synergies",
    "financing",
    "scenarios",
    "provenance",
)
"""`general` holds the top-level scalars; the others are the payload's sections."""
NESTED = SECTIONS[1:-1]
GENERAL = tuple(name for name in AssumptionPayload.model_fields if name not in SECTIONS)
PROVENANCE_ATTRS = tuple(Provenance.model_fields)
SOURCE_SEPARATOR = "; "
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet may run as a formula when it starts a text cell."""

_SEGMENT = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*|0|[1-9][0-9]*)$")
_INPUT = re.compile(
    r"^[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:\[\d+\])*)*$"
)
_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")


@dataclass(frozen=True)
class Row:
    """One value of a file; `place` says where it was read (a CSV line, a sheet's cell)."""

    section: str
    field: str
    year: Any
    value: Any
    unit: Any = ""
    place: str = ""


@dataclass(frozen=True)
class Unreadable:
    """A cell whose value cannot be had (a formula saved without its result), and why."""

    reason: str


@dataclass(frozen=True)
class Spec:
    """What the schema expects at a field: its kind of value and its unit."""

    kind: str  # number, integer, bool, text, group, list or other
    unit: str


def neutralise(text: str) -> str:
    """Text a spreadsheet would run as a formula, made inert with a leading apostrophe.

    Text that already starts with apostrophes before such a character gets one more, so
    `restore` undoes exactly what this did and a round trip is exact.

    >>> neutralise("=HYPERLINK()"), neutralise("-5 pts"), neutralise("'=x"), neutralise("ok")
    ("'=HYPERLINK()", "'-5 pts", "''=x", 'ok')
    """
    return "'" + text if text.lstrip("'").startswith(TRIGGERS) else text


def restore(text: str) -> str:
    """The text `neutralise` was given.

    >>> restore("'=HYPERLINK()"), restore("''=x"), restore("'quoted'")
    ('=HYPERLINK()', "'=x", "'quoted'")
    """
    return text[1:] if text.startswith("'") and text.lstrip("'").startswith(TRIGGERS) else text


def _unwrap(annotation: Any) -> tuple[Any, list[Unit]]:
    """The type under Annotated and Optional, and the units found on the way."""
    units: list[Unit] = []
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation, *extra = get_args(annotation)
            units += [m for m in extra if isinstance(m, Unit)]
        elif origin in (Union, UnionType):
            options = [a for a in get_args(annotation) if a is not NoneType]
            if len(options) != 1:
                return annotation, units
            annotation = options[0]
        else:
            return annotation, units


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _kind(annotation: Any) -> str:
    if annotation is bool:
        return "bool"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if get_origin(annotation) is Literal:
        return "integer" if isinstance(get_args(annotation)[0], int) else "text"
    if isinstance(annotation, type) and issubclass(annotation, str):
        return "text"
    if _is_model(annotation) or get_origin(annotation) is dict:
        return "group"
    if get_origin(annotation) is list:
        return "list"
    return "other"


@lru_cache(maxsize=4096)
def spec_of(section: str, field: str) -> Spec | None:
    """What the schema expects at `field` of `section`, found by walking the model's
    annotations; None for a field the format does not have. A per-year input gives the
    kind and unit of one year's value."""
    if section == "provenance":
        path, _, attr = field.rpartition(".")
        return Spec("text", "") if path and attr in PROVENANCE_ATTRS else None
    parts = field.split(".") if section == "general" else [section, *field.split(".")]
    annotation: Any = AssumptionPayload
    units: list[Unit] = []
    for part in parts:
        annotation, _ = _unwrap(annotation)
        if _is_model(annotation):
            info = annotation.model_fields.get(part)
            if info is None:
                return None
            annotation, units = info.annotation, [m for m in info.metadata if isinstance(m, Unit)]
        elif get_origin(annotation) is dict:
            annotation, units = get_args(annotation)[1], []
        elif get_origin(annotation) is list and part.isdigit():
            annotation, units = get_args(annotation)[0], []
        else:
            return None
    annotation, more = _unwrap(annotation)
    units += more
    if get_origin(annotation) is list:
        element, more = _unwrap(get_args(annotation)[0])
        if _kind(element) in ("number", "integer", "bool", "text"):
            annotation, units = element, units + more
    return Spec(_kind(annotation), str(units[0]) if units else "")


def unit_of(section: str, field: str, currency: str) -> str:
    """The unit a file states for a field: "fraction", "USD", "USD/share", "shares"..."""
    spec = spec_of(section, field)
    return spec.unit.replace("currency", currency) if spec else ""


def is_per_year(section: str, field: str) -> bool:
    return f"{section}.{field}" in PER_YEAR


def flatten(payload: dict[str, Any]) -> list[Row]:
    """The rows of a payload (its `model_dump(mode="json")` form), in the payload's order."""
    currency = str(payload.get("currency") or "USD")
    first = payload.get("first_projection_year")
    rows = [
        Row("general", key, None, value, unit_of("general", key, currency))
        for key, value in payload.items()
        if key not in SECTIONS and value is not None and not isinstance(value, dict | list)
    ]

    def walk(section: str, path: list[str], value: Any) -> None:
        field = ".".join(path)
        if value is None or value == "":
            return
        if isinstance(value, dict):
            for key, item in value.items():
                walk(section, [*path, str(key)], item)
        elif isinstance(value, list) and is_per_year(section, field):
            unit = unit_of(section, field, currency)
            rows.extend(
                Row(section, field, first + i, item, unit)
                for i, item in enumerate(value)
                if item is not None
            )
        elif isinstance(value, list):
            for i, item in enumerate(value):
                walk(section, [*path, str(i)], item)
        else:
            rows.append(Row(section, field, None, value, unit_of(section, field, currency)))

    for section in NESTED:
        walk(section, [], payload.get(section))
    for path, labels in (payload.get("provenance") or {}).items():
        for attr in PROVENANCE_ATTRS:
            value = labels.get(attr)
            if attr == "sources":
                value = SOURCE_SEPARATOR.join(value or [])
            if value is not None and value != "":
                rows.append(Row("provenance", f"{path}.{attr}", None, value))
    return rows


class RowPlaces(Places):
    """Maps a validation error's location to the line or cell its value came from.

    The exact row when the location has one; for a group (a collar, a list) the first row
    inside it; else the longest prefix that has a row; else the section, naming the field.
    """

    def __init__(self, whole: str, section_place: Callable[[str, str], str]) -> None:
        super().__init__()
        self.whole = whole
        self.section_place = section_place
        self.exact: dict[Loc, str] = {}
        self.under: dict[Loc, str] = {}

    def add(self, loc: Loc, place: str) -> None:
        self.exact.setdefault(loc, place)
        for n in range(2, len(loc)):
            self.under.setdefault(loc[:n], place)

    def problem(self, place: str, reason: str, refuse: Loc | None = None) -> None:
        self.problems.append(Problem(place, reason))
        if refuse is not None:
            self.refused.add(refuse)

    def __call__(self, loc: Loc) -> str:
        if loc and loc[0] != "provenance":  # drop Pydantic's tags such as "[key]"
            cut = next(
                (i for i, p in enumerate(loc) if isinstance(p, str) and not _SEGMENT.match(p)),
                len(loc),
            )
            loc = loc[:cut]
        for n in range(len(loc), 0, -1):
            if loc[:n] in self.exact:
                return self.exact[loc[:n]]
            if n == len(loc) and loc in self.under:
                return self.under[loc]
        if not loc:
            return self.whole
        section = str(loc[0]) if loc[0] in SECTIONS else "general"
        rest = loc[1:] if section != "general" else loc
        return self.section_place(section, ".".join(str(p) for p in rest))


def _loc(section: str, parts: Iterable[str]) -> Loc:
    tail = tuple(int(p) if p.isdigit() else p for p in parts)
    return tail if section == "general" else (section, *tail)


def _year(raw: Any) -> int | str | None:
    """A year column's value as an int, None when empty, or the reason it is not a year."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if isinstance(raw, str) and re.fullmatch(r"\s*\d{1,4}(?:\.0*)?\s*", raw):
        raw = int(float(raw))
    if isinstance(raw, int) and not isinstance(raw, bool) and 1 <= raw <= 9999:
        return raw
    return f"year {raw!r} is not a year such as 2026"


def _number(text: str) -> Any:
    """A number from text (int when it has no point or exponent), else the text itself,
    for validation to refuse with its own message."""
    stripped = text.strip()
    if len(stripped) > 64 or not _NUMBER.match(stripped):
        return text
    return int(stripped) if _INTEGER.match(stripped) else float(stripped)


def _integer(raw: Any) -> int | None:
    value = convert(raw, Spec("integer", ""))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def convert(raw: Any, spec: Spec | None, attr: str = "") -> Any:
    """A cell's value as the schema wants it: numbers for numeric fields, text for text."""
    if isinstance(raw, str):
        raw = restore(raw)
    if attr == "sources":
        text = raw if isinstance(raw, str) else str(raw)
        return [s.strip() for s in text.split(";") if s.strip()]
    kind = spec.kind if spec else "other"
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        if kind == "text":
            return repr(raw) if isinstance(raw, float) else str(raw)
        return raw
    if not isinstance(raw, str):
        return raw
    if kind in ("number", "integer") or (kind == "other" and _NUMBER.match(raw.strip())):
        return _number(raw)
    if kind in ("bool", "other") and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    return raw


class _Group(dict):
    """A node made from dotted fields (a dict of rows), as opposed to a value."""


_DROP = object()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def unflatten(rows: Iterable[Row], places: RowPlaces) -> dict[str, Any]:
    """The payload dict the rows describe; every problem found is added to `places`.

    Checked here, for both encodings: sections, field paths, duplicates, years (present
    exactly for per-year inputs, inside the projection years, none missing), units, and
    list items numbered from 0 without gaps. Validation of the values is Pydantic's.
    """
    rows = list(rows)
    general = {
        str(r.field).strip(): r.value
        for r in reversed(rows)  # the first row wins, as below
        if str(r.section).strip().lower() == "general" and not _is_blank(r.value)
    }
    first = _integer(general.get("first_projection_year"))
    count = _integer(general.get("projection_years"))
    span = None
    if isinstance(first, int) and isinstance(count, int) and 1 <= count <= 100:
        span = range(first, first + count)
    currency = str(general.get("currency") or "USD").strip()

    seen: dict[tuple[str, str, Any], Row] = {}
    tree = _Group()
    under: dict[tuple[str, ...], str] = {}  # a group's path -> the place of its first row
    owners: dict[tuple[str, ...], str] = {}  # a value's path -> its place
    by_year: dict[tuple[str, str], list[tuple[int, Any, Row]]] = {}
    provenance: dict[str, dict[str, Any]] = {}

    def put(path: tuple[str, ...], value: Any, row: Row, known: bool) -> None:
        node = tree
        for i in range(len(path) - 1):
            child = node.setdefault(path[i], _Group())
            if not isinstance(child, _Group):
                name = ".".join(path[1 : i + 1] if path[0] in SECTIONS else path[: i + 1])
                places.problem(
                    row.place, f"conflicts with {owners[path[: i + 1]]}: {name} is one value"
                )
                return
            node = child
        if path[-1] in node:
            if known:
                other = under.get(path, "another row")
                places.problem(row.place, f"is one value, but {other} gives it fields of its own")
            return
        node[path[-1]] = value
        owners[path] = row.place
        for n in range(1, len(path)):
            under.setdefault(path[:n], row.place)

    for row in rows:
        section = str(row.section).strip().lower()
        field = str(row.field).strip()
        if section not in SECTIONS:
            places.problem(
                row.place,
                f"{row.section!r} is not a section; the sections are {', '.join(SECTIONS)}",
            )
            continue
        if not field:
            if not _is_blank(row.value):
                places.problem(row.place, "has a value but no field name")
            continue
        if section == "provenance":
            path, _, attr = field.rpartition(".")
            if attr not in PROVENANCE_ATTRS or not _INPUT.match(path):
                places.problem(
                    row.place,
                    f"{field!r} is not a provenance field: an input's path and then "
                    ".basis, .note or .sources (e.g. target.operating.tax_rate.basis)",
                )
                continue
            parts: list[str] = []
            loc: Loc = ("provenance", path, attr)
        else:
            parts = field.split(".")
            if not all(_SEGMENT.match(p) for p in parts) or (
                section == "general" and (len(parts) > 1 or field.isdigit())
            ):
                example = "currency" if section == "general" else "shares.warrants.0.strike"
                places.problem(
                    row.place,
                    f"{field!r} is not a field path: names and item numbers joined by dots "
                    f"(e.g. {example})",
                )
                continue
            if section == "general" and field in SECTIONS:
                places.problem(row.place, f"{field} is a section, not a field of general")
                continue
            loc = _loc(section, parts)
        year = _year(row.year)
        if isinstance(year, str):
            places.problem(row.place, year, loc)
            continue
        if isinstance(row.value, Unreadable):
            places.problem(row.place, row.value.reason, loc)
            continue
        if _is_blank(row.value):
            continue
        key = (section, field, year)
        if key in seen:
            places.problem(row.place, f"repeats {seen[key].place}")
            continue
        seen[key] = row

        spec = spec_of(section, field)
        unit = "" if _is_blank(row.unit) else restore(str(row.unit)).strip()
        expected = unit_of(section, field, currency)
        if spec is not None and unit and unit.casefold() != expected.casefold():
            if expected:
                reason = (
                    f"unit {unit!r} is not this field's unit {expected!r}: write the value in "
                    f"{expected} (whole currency units, rates as fractions)"
                )
            else:
                reason = f"unit {unit!r}: this field has no unit, leave the unit empty"
            places.problem(row.place, reason, loc)
            continue

        per_year = section not in ("general", "provenance") and is_per_year(section, field)
        inside = next(
            (
                ".".join(parts[:n])
                for n in range(1, len(parts))
                if section not in ("general", "provenance")
                and is_per_year(section, ".".join(parts[:n]))
            ),
            None,
        )
        if inside is not None:
            places.problem(
                row.place,
                f"{inside} has one value per year: give the year, not an item number",
                _loc(section, inside.split(".")),
            )
            continue
        if per_year and year is None:
            places.problem(
                row.place, f"{field} has one value per projection year: give the year", loc
            )
            continue
        if year is not None and not per_year:
            if spec is not None:
                places.problem(
                    row.place, f"has a year, but {field} is one value: leave the year empty", loc
                )
                continue
            year = None  # an unknown field: validation says so, once
        if per_year and span is not None and year not in span:
            places.problem(
                row.place,
                f"{year} is outside the projection years {span[0]}-{span[-1]}",
                loc,
            )
            continue

        value = convert(row.value, spec, loc[2] if section == "provenance" else "")
        if section == "provenance":
            provenance.setdefault(str(loc[1]), {})[str(loc[2])] = value
            places.add(loc, row.place)
        elif per_year:
            by_year.setdefault((section, field), []).append((year, value, row))
        else:
            path_key = tuple(parts) if section == "general" else (section, *parts)
            places.add(loc, row.place)
            put(path_key, value, row, spec is not None)

    for (section, field), items in by_year.items():
        loc = _loc(section, field.split("."))
        if places.refuses(loc):
            continue
        items.sort(key=lambda item: item[0])
        years = [item[0] for item in items]
        if span is not None and years != list(span):
            missing = ", ".join(str(y) for y in span if y not in years)
            places.problem(
                items[0][2].place,
                f"{field} has no value for {missing} (one value per year, {span[0]}-{span[-1]})",
                loc,
            )
            continue
        for i, (_, _, row) in enumerate(items):
            places.add((*loc, i), row.place)
        put((section, *field.split(".")), [item[1] for item in items], items[0][2], True)

    def finish(node: Any, path: tuple[str, ...]) -> Any:
        if not isinstance(node, _Group):
            return node
        numbered = [k for k in node if k.isdigit()]
        name = ".".join(path[1:] if path and path[0] in SECTIONS else path)
        if numbered and len(numbered) != len(node):
            places.problem(
                under.get(path, places.whole),
                f"{name} mixes item numbers and field names",
                _loc(path[0], path[1:]),
            )
            return _DROP
        if numbered:
            indices = sorted(int(k) for k in numbered)
            if indices != list(range(len(indices))):
                places.problem(
                    under.get(path, places.whole),
                    f"{name} has items {', '.join(map(str, indices))}: number them from 0 "
                    "without gaps",
                    _loc(path[0], path[1:]),
                )
                return _DROP
            items = [finish(node[str(i)], (*path, str(i))) for i in indices]
            return [item for item in items if item is not _DROP]
        out = {k: finish(v, (*path, k)) for k, v in node.items()}
        return {k: v for k, v in out.items() if v is not _DROP}

    data = finish(tree, ())
    places.refused -= set(places.exact)  # another row gave the value: its errors still count
    if provenance:
        data["provenance"] = provenance
    return data
