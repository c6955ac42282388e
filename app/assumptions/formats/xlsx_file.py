"""The XLSX encoding: a README sheet, then a sheet per section with the years across.

Reading is defensive because a workbook is a zip of XML written by anything: the archive is
checked with zipfile first (declared sizes and part count bounded, so a zip bomb is refused
before anything inflates), openpyxl parses the XML through defusedxml, sheets are streamed
with row and column limits, and a formula is taken only with the value its spreadsheet saved
(openpyxl's own formulas have none, so they are refused rather than read as empty).
"""

from __future__ import annotations

import io
import math
import threading
import warnings
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import zip_longest
from typing import Any

from defusedxml import DefusedXmlException
from openpyxl import Workbook, load_workbook
from openpyxl.cell import _writer
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from app.assumptions.formats.rows import (
    GENERAL,
    PROVENANCE_ATTRS,
    SECTIONS,
    Row,
    RowPlaces,
    Unreadable,
    flatten,
    neutralise,
    spec_of,
    unflatten,
)
from app.assumptions.upload import Problem, UploadError

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_UNPACKED = 50 * 2**20
"""Bytes the archive may declare in all; a real template unpacks to well under 1 MB."""
MAX_PARTS = 500
MAX_ROWS = 5_000
MAX_COLUMNS = 64
README = "README"
VALUE_HEADER = ("field", "unit", "value")
PROVENANCE_HEADER = ("input", *PROVENANCE_ATTRS)
FORMATS = {
    "fraction": "0.0%",
    "currency": "#,##0",
    "currency/share": "0.00",
    "shares": "#,##0",
    "x": '0.0"x"',
    "years": "0",
    "MW": "#,##0",
}
"""Number formats by unit: only how a cell looks; the stored values stay fractions."""


_ORIGINAL_STRING = _writer.safe_string
_WRITING = threading.Lock()


def _exact_string(value: Any) -> str:
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    return _ORIGINAL_STRING(value)


@contextmanager
def _exact_numbers() -> Iterator[None]:
    """openpyxl writes numbers as "%.16g", which loses the last digit of some floats
    (0.1 + 0.2), so an unchanged template would not upload as "no changes"; repr() is exact
    and spreadsheets read 17 digits. Swapped in only while this module saves a workbook."""
    with _WRITING:
        _writer.safe_string = _exact_string
        try:
            yield
        finally:
            _writer.safe_string = _ORIGINAL_STRING


def _text(value: str) -> str:
    """Text openpyxl can store and a spreadsheet will not run as a formula."""
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", neutralise(value))


def _cell(value: Any) -> Any:
    return _text(value) if isinstance(value, str) else value


def _readme(ws: Any, payload: dict[str, Any]) -> None:
    currency = payload.get("currency") or "USD"
    names = " / ".join(
        str(payload.get(side, {}).get("name", side)) for side in ("acquirer", "target")
    )
    lines = [
        f"Dealbook assumptions: {names}",
        "",
        "One sheet per section (general, deal_terms, acquirer, target, synergies, financing, "
        "scenarios) and a provenance sheet. Each row is one input: its field, its unit and its "
        "value. Inputs with one value per projection year have their values under the years.",
        "",
        f"Units: money in whole {currency} (not thousands or millions), shares in shares, "
        "prices per share, rates, margins and growth as fractions: 0.08 is 8% (the cells are "
        "formatted as percentages, so it shows as 8.0%). The unit column states each field's "
        "unit; a file whose unit differs is refused, so a sheet in millions cannot slip in.",
        "",
        "To upload: change values (keep the sheet names, header rows and field names), save as "
        ".xlsx, and upload it on the deal page or the versions page. You see every change and "
        "its effect before anything is saved. An empty value cell means the default.",
        "",
        "Formulas are fine in a file saved by a spreadsheet program, which stores their values; "
        "a formula without a saved value is refused. Text starting with = + - @ is written "
        "with a leading apostrophe so it is never run as a formula.",
        "",
        "This README sheet is ignored on upload. The format: docs/assumptions-format.md.",
    ]
    for line in lines:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    ws.column_dimensions["A"].width = 110
    for row in ws.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _head(ws: Any, names: list[Any], widths: list[int], freeze: str) -> None:
    ws.append(names)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = freeze


def _number_format(section: str, field: str) -> str | None:
    spec = spec_of(section, field)
    return FORMATS.get(spec.unit) if spec else None


def render(payload: dict[str, Any]) -> bytes:
    rows = flatten(payload)
    first = int(payload["first_projection_year"])
    years = list(range(first, first + int(payload["projection_years"])))
    wb = Workbook()
    _readme(wb.active, payload)
    wb.active.title = README
    by_section: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_section[row.section].append(row)
    for section in SECTIONS[:-1]:
        ws = wb.create_sheet(section)
        mine = by_section[section]
        across = years if any(r.year is not None for r in mine) else []
        _head(ws, [*VALUE_HEADER, *across], [44, 16, 18] + [12] * len(across), "D2")
        lines: dict[str, list[Any]] = {}
        for row in mine:
            line = lines.setdefault(row.field, [row.field, row.unit, None] + [None] * len(across))
            line[2 if row.year is None else 3 + across.index(row.year)] = row.value
        for line in lines.values():
            ws.append([_cell(v) for v in line])
            number_format = _number_format(section, line[0])
            if number_format:
                for cell in ws[ws.max_row][2:]:
                    if isinstance(cell.value, int | float) and not isinstance(cell.value, bool):
                        cell.number_format = number_format
    ws = wb.create_sheet("provenance")
    _head(ws, list(PROVENANCE_HEADER), [48, 14, 80, 16], "B2")
    labels: dict[str, dict[str, Any]] = {}
    for row in by_section["provenance"]:
        path, _, attr = row.field.rpartition(".")
        labels.setdefault(path, {})[attr] = row.value
    for path, label in labels.items():
        ws.append([_cell(path), *(_cell(label.get(a)) for a in PROVENANCE_ATTRS)])
    out = io.BytesIO()
    with _exact_numbers():
        wb.save(out)
    return out.getvalue()


def _refuse(filename: str, reason: str) -> UploadError:
    return UploadError([Problem(filename, reason)])


def _check_archive(data: bytes, filename: str) -> None:
    """Refuse what is not a sane XLSX before any XML is parsed or anything inflated."""
    if not data.strip():
        raise _refuse(filename, "is empty")
    if not data.startswith(b"PK\x03\x04"):
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise _refuse(
                filename,
                "is an old .xls workbook or a password-protected one; save it as .xlsx "
                "without a password",
            )
        looks = "text (CSV or JSON?)" if b"\x00" not in data[:4096] else "some other file"
        raise _refuse(filename, f"is not an XLSX workbook (a zip archive); it looks like {looks}")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _refuse(filename, "is truncated or damaged: its zip archive cannot be read") from exc
    except NotImplementedError as exc:  # a header asking for a zip version or method we lack
        raise _refuse(
            filename, f"is damaged or uses a zip feature this server cannot read ({exc})"
        ) from exc
    if len(parts) > MAX_PARTS:
        raise _refuse(filename, f"has {len(parts):,} parts; a workbook needs far fewer")
    declared = sum(p.file_size for p in parts)
    if declared > MAX_UNPACKED:
        raise _refuse(
            filename,
            f"would unpack to {declared / 2**20:,.0f} MB, more than the "
            f"{MAX_UNPACKED / 2**20:g} MB limit (a zip bomb?)",
        )
    if any(p.flag_bits & 0x1 for p in parts):
        raise _refuse(filename, "is encrypted; save it without a password")
    if "xl/workbook.xml" not in {p.filename for p in parts}:
        raise _refuse(filename, "is a zip archive but not an XLSX workbook (no xl/workbook.xml)")


def _load(data: bytes, filename: str) -> tuple[Any, Any]:
    """The workbook twice: with formulas (to find them) and with saved values (to read)."""
    try:
        with warnings.catch_warnings():  # openpyxl warns about features it drops on read
            warnings.simplefilter("ignore")
            formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            values = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl and defusedxml raise many kinds; all mean "unreadable"
        raise _refuse(filename, f"cannot be read as an XLSX workbook ({_why(exc)})") from exc
    return formulas, values


def _why(exc: BaseException) -> str:
    """A short reason; defusedxml's refusals may sit under openpyxl's own ValueError."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return "its XML declares entities or a DTD, which are refused"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).splitlines()[0][:120] if str(exc) else ""
    return text or type(exc).__name__


def _grid(name: str, formulas: Any, values: Any) -> list[tuple[int, list[Any]]]:
    """The sheet's non-empty rows as (row number, values), formulas replaced by their saved
    values or by Unreadable; bounded in rows and columns."""
    formulas.reset_dimensions()  # a sheet's declared size may lie; read what is there
    values.reset_dimensions()
    out = []
    for number, (with_formulas, with_values) in enumerate(
        zip_longest(formulas.iter_rows(), values.iter_rows(), fillvalue=()), start=1
    ):
        if number > MAX_ROWS:
            raise _refuse(f"sheet {name}", f"has more than {MAX_ROWS:,} rows")
        if max(len(with_formulas), len(with_values)) > MAX_COLUMNS:
            raise _refuse(f"sheet {name}, row {number}", f"has more than {MAX_COLUMNS} columns")
        line: list[Any] = []
        for f_cell, v_cell in zip_longest(with_formulas, with_values):
            value = getattr(v_cell, "value", None)
            if getattr(f_cell, "data_type", None) == "f" and value is None:
                formula = str(f_cell.value)
                formula = formula if len(formula) <= 40 else formula[:37] + "..."
                value = Unreadable(
                    f"holds a formula ({formula}) with no saved value; open the file in a "
                    "spreadsheet program and save it, or type the value"
                )
            line.append(value)
        while line and (line[-1] is None or (isinstance(line[-1], str) and not line[-1].strip())):
            line.pop()
        if line:
            out.append((number, line))
    return out


def _shown(value: Any) -> str:
    return "(empty)" if value is None else str(value)


def _label(value: Any) -> str:
    return "" if value is None else str(value).strip().lower()


def _value_rows(
    name: str, section: str, grid: list[tuple[int, list[Any]]], places: RowPlaces
) -> list[Row]:
    refuse = [(g,) for g in GENERAL] if section == "general" else [(section,)]
    if not grid:
        return []
    number, head = grid[0]
    found = [_label(v) for v in head[:3]]
    if number != 1 or found != list(VALUE_HEADER):
        places.problem(
            f"sheet {name}, cell A1",
            "the header row must be field | unit | value, then the years; found "
            + (" | ".join(_shown(v) for v in head[:3]) if number == 1 else "nothing in row 1"),
        )
        places.refused.update(refuse)
        return []
    years: dict[int, Any] = {}
    for column, raw in enumerate(head[3:], start=4):
        where = f"sheet {name}, cell {get_column_letter(column)}1"
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if isinstance(raw, str) and raw.strip().isdigit():
            raw = int(raw.strip())
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            years[column] = None
        elif isinstance(raw, int) and not isinstance(raw, bool) and 1900 <= raw <= 2300:
            if raw in years.values():
                places.problem(where, f"repeats the year {raw}")
                places.refused.update(refuse)
                return []
            years[column] = raw
        else:
            places.problem(where, f"must be a year such as 2026, not {raw!r}")
            places.refused.update(refuse)
            return []
    rows = []
    for number, line in grid[1:]:
        field, unit = [*line, None, None][:2]
        if isinstance(field, Unreadable) or isinstance(unit, Unreadable):
            cell = "A" if isinstance(field, Unreadable) else "B"
            places.problem(f"sheet {name}, cell {cell}{number}", (field or unit).reason)
            continue
        label = "" if field is None else str(field).strip()
        if not label:
            places.problem(f"sheet {name}, row {number}", "has values but no field in column A")
            continue
        if len(line) > 2:
            rows.append(
                Row(section, label, None, line[2], unit, f"sheet {name}, cell C{number} ({label})")
            )
        for column, value in enumerate(line[3:], start=4):
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            where = f"sheet {name}, cell {get_column_letter(column)}{number}"
            year = years.get(column)
            if year is None:
                places.problem(where, f"has a value ({label}) but no year in row 1 above it")
                continue
            rows.append(Row(section, label, year, value, unit, f"{where} ({label}, {year})"))
    return rows


def _provenance_rows(name: str, grid: list[tuple[int, list[Any]]], places: RowPlaces) -> list[Row]:
    if not grid:
        return []
    number, head = grid[0]
    if number != 1 or [_label(v) for v in head[:4]] != list(PROVENANCE_HEADER):
        places.problem(
            f"sheet {name}, cell A1",
            f"the header row must be {' | '.join(PROVENANCE_HEADER)}",
            ("provenance",),
        )
        return []
    rows = []
    for number, line in grid[1:]:
        if isinstance(line[0], Unreadable):
            places.problem(f"sheet {name}, cell A{number}", line[0].reason)
            continue
        path = "" if line[0] is None else str(line[0]).strip()
        if not path:
            places.problem(f"sheet {name}, row {number}", "has values but no input in column A")
            continue
        for column, value in enumerate(line[1:], start=2):
            letter = get_column_letter(column)
            if column > len(PROVENANCE_HEADER):
                places.problem(
                    f"sheet {name}, cell {letter}{number}",
                    f"is outside the columns {', '.join(PROVENANCE_HEADER)}",
                )
                continue
            attr = PROVENANCE_HEADER[column - 1]
            rows.append(
                Row(
                    "provenance",
                    f"{path}.{attr}",
                    None,
                    value,
                    "",
                    f"sheet {name}, cell {letter}{number} ({path})",
                )
            )
    return rows


def parse(data: bytes, filename: str) -> tuple[dict[str, Any], RowPlaces]:
    """The payload dict the workbook describes, and the cell each value came from."""
    _check_archive(data, filename)
    formulas, values = _load(data, filename)
    places = RowPlaces("file", lambda s, f: f"sheet {s}" + (f", field {f}" if f else ""))
    rows: list[Row] = []
    seen: dict[str, str] = {}
    try:
        for name in formulas.sheetnames:
            key = name.strip().lower()
            if key == README.lower():
                continue
            if key not in SECTIONS:
                places.problem(
                    f"sheet {name}",
                    f"is not a section; the sheets are {README}, {', '.join(SECTIONS)}",
                )
                continue
            if key in seen:
                places.problem(f"sheet {name}", f"repeats the sheet {seen[key]}")
                continue
            seen[key] = name
            grid = _grid(name, formulas[name], values[name])
            if key == "provenance":
                rows += _provenance_rows(name, grid, places)
            else:
                rows += _value_rows(name, key, grid, places)
    except UploadError:
        raise
    except Exception as exc:  # a part that fails only once streamed (bad XML, bad CRC)
        raise _refuse(filename, f"cannot be read as an XLSX workbook ({_why(exc)})") from exc
    finally:
        formulas.close()
        values.close()
    if not rows and not places.problems:
        raise _refuse(filename, f"has no assumption rows (the sheets are {', '.join(SECTIONS)})")
    return unflatten(rows, places), places
