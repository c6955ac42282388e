"""Property tests of the upload parsers: any file gives a payload or an UploadError whose
every problem names a place and a reason; nothing else escapes (no KeyError, no TypeError,
no openpyxl or zipfile error, which the upload routes would answer with a 500).

Inputs are arbitrary bytes, byte-level damage to a valid template, and structured edits of
the template each format renders (JSON values replaced, removed or added; CSV cells, rows and
columns changed; XLSX cells overwritten with any kind of value, rows deleted, sheets added).
No database: these run once, not per database.
"""

from __future__ import annotations

import csv
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from app.assumptions.formats import load, render
from app.assumptions.schemas import AssumptionPayload
from app.assumptions.upload import UploadError

SEED = Path(__file__).resolve().parents[2] / "app" / "seed"
PAYLOAD = json.loads((SEED / "coreweave-core-scientific.assumptions.json").read_text())
KINDS = ("json", "csv", "xlsx")

FAST = settings(max_examples=200, derandomize=True, deadline=None, database=None)
SLOW = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@cache
def template(kind: str) -> bytes:
    """The seeded deal's assumptions as a file of `kind`, as the download offers it."""
    return render(PAYLOAD, kind)  # type: ignore[arg-type]


def outcome(data: bytes, filename: str) -> AssumptionPayload | UploadError:
    """What an upload of `data` gives; any exception but UploadError fails the property."""
    try:
        accepted = load(data, filename)
    except UploadError as refused:
        event("refused")
        assert refused.status in (413, 422)
        assert refused.problems, "a refusal names at least one problem"
        for problem in refused.problems:
            assert isinstance(problem.place, str) and problem.place.strip(), refused.problems
            assert isinstance(problem.reason, str) and problem.reason.strip(), refused.problems
        return refused
    event("accepted")  # --hypothesis-show-statistics: how many edits still load
    return accepted


def test_the_templates_load() -> None:
    for kind in KINDS:
        assert isinstance(load(template(kind), f"t.{kind}"), AssumptionPayload), kind


names = st.sampled_from(["a.json", "a.csv", "a.xlsx", "A.XLSX", "a.xls", "a", "a.txt", ".json"])


@FAST
@given(data=st.binary(max_size=4096), filename=names)
def test_any_bytes(data: bytes, filename: str) -> None:
    outcome(data, filename)


@FAST
@given(
    kind=st.sampled_from(KINDS),
    edits=st.lists(st.tuples(st.integers(min_value=0), st.binary(max_size=8)), max_size=6),
    cut=st.none() | st.integers(min_value=0),
)
def test_damaged_templates(kind: str, edits: list[tuple[int, bytes]], cut: int | None) -> None:
    """A template with bytes overwritten or its tail cut off (a truncated upload)."""
    data = bytearray(template(kind))
    for position, replacement in edits:
        at = position % len(data)
        data[at : at + len(replacement)] = replacement
    if cut is not None:
        del data[cut % len(data) :]
    outcome(bytes(data), f"damaged.{kind}")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside a JSON document, the document itself first."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


ALL_PATHS = _paths(PAYLOAD)


def _edit(document: Any, path: tuple[Any, ...], action: str, value: Any) -> Any:
    if not path:
        return value if action == "replace" else document
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif isinstance(parent, dict):
        parent[f"{last}_extra"] = value
    else:
        parent.insert(last, value)
    return document


@FAST
@given(
    edits=st.lists(
        st.tuples(
            st.sampled_from(ALL_PATHS),
            st.sampled_from(["replace", "delete", "add"]),
            json_values,
        ),
        min_size=1,
        max_size=4,
    )
)
def test_edited_json(edits: list[tuple[tuple[Any, ...], str, Any]]) -> None:
    document: Any = json.loads(template("json"))
    for path, action, value in edits:
        try:
            document = _edit(document, path, action, value)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier edit removed or replaced this path
    outcome(json.dumps(document).encode(), "edited.json")


CSV_ROWS = list(csv.reader(io.StringIO(template("csv").decode())))
cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "nan", "inf", "-1e400", "1e308", "21%", "1,000", "true", "=1+1", '"']),
    st.floats(allow_nan=True).map(repr),
    st.integers().map(str),
)


@FAST
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=len(CSV_ROWS) - 1),
            st.integers(min_value=0, max_value=6),
            st.sampled_from(["cell", "delete", "duplicate", "extra", "drop"]),
            cells,
        ),
        min_size=1,
        max_size=6,
    )
)
def test_edited_csv(edits: list[tuple[int, int, str, str]]) -> None:
    rows = [list(row) for row in CSV_ROWS]
    for line, column, action, value in edits:
        if not rows:
            break
        row = rows[line % len(rows)]
        if action == "cell" and row:
            row[column % len(row)] = value
        elif action == "delete":
            rows.remove(row)
        elif action == "duplicate":
            rows.insert(line % len(rows), list(row))
        elif action == "extra":
            row.append(value)
        elif row:
            del row[column % len(row)]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    outcome(text.getvalue().encode(), "edited.csv")


xlsx_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=False),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]), max_size=12),
    st.sampled_from(["=1+1", "=A1", "21%", "1,000", "nan", "2026", "'=x"]),
    st.datetimes(),
)


@SLOW
@given(
    edits=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=8),
            st.integers(min_value=1, max_value=80),
            st.integers(min_value=1, max_value=10),
            st.sampled_from(["cell", "cell", "delete_row", "add_sheet", "rename"]),
            xlsx_values,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_edited_xlsx(edits: list[tuple[int, int, int, str, Any]]) -> None:
    workbook = load_workbook(io.BytesIO(template("xlsx")))
    for sheet, row, column, action, value in edits:
        worksheet = workbook.worksheets[sheet % len(workbook.worksheets)]
        if action == "cell":
            worksheet.cell(row=row, column=column, value=value)
        elif action == "delete_row":
            worksheet.delete_rows(row)
        elif action == "add_sheet":
            workbook.create_sheet(f"extra{row}").cell(row=1, column=1, value=value)
        else:
            worksheet.title = f"{worksheet.title[:20]}{column}"
    out = io.BytesIO()
    workbook.save(out)
    outcome(out.getvalue(), "edited.xlsx")
