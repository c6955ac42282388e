"""The CSV encoding: long form, one row per value (`section,field,year,value,unit`).

Read with the csv module in strict mode, so an unclosed quote or a stray character is an
error with its line, never a silently merged row.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from app.assumptions.formats.rows import SECTIONS, Row, RowPlaces, flatten, neutralise, unflatten
from app.assumptions.upload import Problem, UploadError

HEADER = ("section", "field", "year", "value", "unit")
REQUIRED = HEADER[:4]
MAX_ROWS = 5_000
MEDIA_TYPE = "text/csv; charset=utf-8"


def _cell(value: Any) -> str:
    """Numbers as repr() so they read back exactly; text made inert for spreadsheets."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return neutralise(str(value))


def render(payload: dict[str, Any]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for row in flatten(payload):
        writer.writerow([row.section, row.field, _cell(row.year), _cell(row.value), row.unit])
    return out.getvalue().encode("utf-8")


def _place(line: int, section: str, field: str, year: str) -> str:
    named = ", ".join(p.strip() for p in (section, field, year) if p.strip())
    return f"line {line} ({named})" if named else f"line {line}"


def _text(data: bytes, filename: str) -> str:
    if not data.strip():
        raise UploadError([Problem(filename, "is empty")])
    if data.startswith(b"PK\x03\x04"):
        raise UploadError(
            [Problem(filename, "looks like an XLSX workbook (a zip file), not CSV; name it .xlsx")]
        )
    if b"\x00" in data:
        raise UploadError([Problem(filename, "contains NUL bytes: it is binary, not CSV text")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UploadError(
            [Problem(f"line {line}", "is not UTF-8 text; save the file as CSV UTF-8")]
        ) from exc
    if text.lstrip()[:1] in ("{", "["):
        raise UploadError([Problem(filename, "looks like JSON, not CSV; name it .json")])
    return text


def _header(record: list[str]) -> tuple[dict[str, int], list[Problem]]:
    names = [c.strip().lower() for c in record]
    problems = [
        Problem("line 1", f"column {c!r} is not one of {', '.join(HEADER)}")
        for c in names
        if c not in HEADER
    ]
    problems += [
        Problem("line 1", f"names the column {c!r} twice") for c in HEADER if names.count(c) > 1
    ]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        problems.append(
            Problem(
                "line 1",
                f"the header must name the columns {', '.join(HEADER)} (unit may be left out); "
                f"{', '.join(missing)} missing",
            )
        )
    return {c: names.index(c) for c in HEADER if c in names}, problems


def parse(data: bytes, filename: str) -> tuple[dict[str, Any], RowPlaces]:
    """The payload dict the CSV describes, and the line each value came from."""
    text = _text(data, filename)
    places = RowPlaces("file", lambda s, f: f"section {s}" + (f", field {f}" if f else ""))
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    columns: dict[str, int] | None = None
    rows: list[Row] = []
    start = 1
    try:
        for record in reader:
            if not any(c.strip() for c in record):
                start = reader.line_num + 1
                continue
            if columns is None:
                columns, problems = _header(record)
                if problems:
                    raise UploadError(problems)
                width = len(record)
                start = reader.line_num + 1
                continue
            if len(record) != width:
                cells = {k: record[i] if i < len(record) else "" for k, i in columns.items()}
                places.problem(
                    _place(start, cells["section"], cells["field"], cells["year"]),
                    f"has {len(record)} values but the header has {width} columns",
                )
                start = reader.line_num + 1
                continue
            if len(rows) >= MAX_ROWS:
                raise UploadError(
                    [Problem(f"line {start}", f"the file has more than {MAX_ROWS:,} rows")]
                )
            cells = {k: record[i] for k, i in columns.items()}
            rows.append(
                Row(
                    cells["section"],
                    cells["field"],
                    cells["year"],
                    cells["value"],
                    cells.get("unit", ""),
                    _place(start, cells["section"], cells["field"], cells["year"]),
                )
            )
            start = reader.line_num + 1
    except csv.Error as exc:
        message = str(exc)
        if "end of data" in message or "EOF" in message:
            reason = 'a quoted value starts here and is never closed (a " is missing)'
        elif "field larger" in message:
            reason = f"has a value longer than {csv.field_size_limit():,} characters"
        else:
            reason = f"is not valid CSV: {message}"
        raise UploadError([*places.problems, Problem(f"line {start}", reason)]) from exc
    if columns is None:
        raise UploadError([Problem(filename, "is empty")])
    if not rows and not places.problems:
        raise UploadError(
            [Problem(filename, f"has a header but no rows (sections: {', '.join(SECTIONS)})")]
        )
    return unflatten(rows, places), places
