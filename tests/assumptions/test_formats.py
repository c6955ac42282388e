"""The CSV and XLSX encodings: exact round trips, safe text, and every problem placed.

No database: these read and write files only. The API and page tests are in
tests/workspace/test_upload_formats.py and the malformed corpus in test_corpus.py.
"""

import copy
import csv
import io
import json
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.assumptions import formats
from app.assumptions.formats.rows import SECTIONS, neutralise, restore
from app.assumptions.schemas import canonical
from app.assumptions.upload import UploadError

SEED = Path(__file__).resolve().parents[2] / "app/seed/coreweave-core-scientific.assumptions.json"
PAYLOAD = canonical(json.loads(SEED.read_text()))


def _problems(data: bytes, name: str) -> list[tuple[str, str]]:
    with pytest.raises(UploadError) as caught:
        formats.load(data, name)
    return [(p.place, p.reason) for p in caught.value.problems]


def _awkward() -> dict:
    """The seed with text a spreadsheet would run, floats that print long, and optional parts."""
    doc = copy.deepcopy(PAYLOAD)
    doc["target"]["name"] = '=HYPERLINK("http://evil.example","Core")'
    doc["target"]["ticker"] = "-CORZ"
    doc["acquirer"]["name"] = '@CoreWeave, "Inc."\nline two'
    doc["acquirer"]["ticker"] = "'=already quoted"
    doc["acquirer"]["operating"]["ebit_margin"][0] = 0.1 + 0.2
    doc["acquirer"]["operating"]["base_revenue"] = 123456789012.34567
    doc["target"]["terminal"] = {"method": "exit_multiple", "ev_ebitda": 14.5}
    doc["deal_terms"]["collar"] = {"lower": 150.0, "upper": 180.5}
    doc["acquirer"]["mid_year"] = False
    del doc["provenance"]["target.terminal.growth"]
    doc["provenance"]["target.terminal.ev_ebitda"] = {
        "basis": "assumption",
        "note": "+2x over peers; \tsee notes",
        "sources": ["S1", "S2"],
    }
    return canonical(doc)


@pytest.mark.parametrize("kind", ["json", "csv", "xlsx"])
@pytest.mark.parametrize("payload", [PAYLOAD, _awkward()], ids=["seed", "awkward"])
def test_round_trip_is_exact(kind: str, payload: dict) -> None:
    data = formats.render(payload, kind)
    assert canonical(formats.load(data, f"a.{kind}").model_dump(mode="json")) == payload


def test_csv_is_long_form_with_exact_numbers_and_inert_text() -> None:
    text = formats.render(_awkward(), "csv").decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "field", "year", "value", "unit"]
    by_key = {(r[0], r[1], r[2]): r for r in rows[1:]}
    assert by_key[("acquirer", "operating.ebit_margin", "2026")][3:] == [
        "0.30000000000000004",
        "fraction",
    ]
    assert by_key[("general", "projection_years", "")][3:] == ["5", "years"]
    assert by_key[("scenarios", "monte_carlo.scenarios", "")][3] == "100000"  # an int stays one
    assert by_key[("acquirer", "operating.base_revenue", "")][3:] == ["123456789012.34567", "USD"]
    assert by_key[("target", "share_price", "")][4] == "USD/share"
    assert by_key[("target", "name", "")][3] == '\'=HYPERLINK("http://evil.example","Core")'
    assert by_key[("target", "ticker", "")][3] == "'-CORZ"
    assert by_key[("acquirer", "ticker", "")][3] == "''=already quoted"
    assert by_key[("acquirer", "mid_year", "")][3] == "false"
    assert by_key[("provenance", "target.terminal.ev_ebitda.sources", "")][3] == "S1; S2"
    assert by_key[("deal_terms", "collar.lower", "")][3] == "150.0"
    negative = by_key[("scenarios", "monte_carlo.distributions.wacc.low", "")][3]
    assert negative == "-0.015"  # numbers are never neutralised
    years = [int(r[2]) for r in rows[1:] if r[1] == "operating.revenue_growth" and r[0] == "target"]
    assert years == [2026, 2027, 2028, 2029, 2030]
    assert not any(r[3] == "" for r in rows[1:])  # None, "" and [] have no row


def test_xlsx_has_a_readme_a_sheet_per_section_and_years_across() -> None:
    wb = load_workbook(io.BytesIO(formats.render(_awkward(), "xlsx")))
    assert wb.sheetnames == ["README", *SECTIONS]
    assert "fractions" in " ".join(str(c.value) for c in wb["README"]["A"])
    target = wb["target"]
    assert [c.value for c in target[1]] == ["field", "unit", "value", 2026, 2027, 2028, 2029, 2030]
    assert target["A1"].font.b and target.freeze_panes == "D2"
    rows = {r[0].value: r for r in target.iter_rows(min_row=2)}
    margin = rows["operating.ebit_margin"]
    assert [c.value for c in margin[3:]] == PAYLOAD["target"]["operating"]["ebit_margin"]
    assert margin[2].value is None and margin[3].number_format == "0.0%"
    assert rows["operating.tax_rate"][2].value == 0.21  # stored as a fraction, shown as 21.0%
    assert rows["operating.tax_rate"][2].number_format == "0.0%"
    assert rows["operating.base_revenue"][2].number_format == "#,##0"
    assert rows["share_price"][2].number_format == "0.00"
    assert rows["name"][2].value.startswith("'=")
    assert [c.value for c in wb["provenance"][1]] == ["input", "basis", "note", "sources"]
    assert wb["general"].max_column == 3  # no years on sheets without per-year inputs
    formulas = [
        c.coordinate
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if c.data_type == "f"
    ]
    assert formulas == []


@pytest.mark.parametrize(
    ("text", "inert"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-x", "'-x"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'=x", "''=x"),
        ("plain", "plain"),
        ("'quoted'", "'quoted'"),
        ("", ""),
    ],
)
def test_neutralise_round_trips(text: str, inert: str) -> None:
    assert neutralise(text) == inert and restore(inert) == text


def _rezip(data: bytes, part: str, edit) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = src.read(info)
            dst.writestr(info, edit(content) if info.filename == part else content)
    return out.getvalue()


def _target_tax_cell() -> tuple[bytes, str, str]:
    data = formats.render(PAYLOAD, "xlsx")
    wb = load_workbook(io.BytesIO(data))
    row = next(c.row for c in wb["target"]["A"] if c.value == "operating.tax_rate")
    part = f"xl/worksheets/sheet{wb.sheetnames.index('target') + 1}.xml"
    return data, part, f"C{row}"


def test_a_formula_with_its_saved_value_is_taken() -> None:
    data, part, cell = _target_tax_cell()

    def with_formula(xml: bytes) -> bytes:
        pattern = rf'<c r="{cell}"([^>]*)><v>0.21</v></c>'.encode()
        edited, count = re.subn(
            pattern, rf'<c r="{cell}"\1><f>0.2+0.03</f><v>0.23</v></c>'.encode(), xml
        )
        assert count == 1
        return edited

    payload = formats.load(_rezip(data, part, with_formula), "a.xlsx")
    assert payload.target.operating.tax_rate == 0.23


def test_a_formula_without_a_saved_value_is_refused_with_its_cell() -> None:
    data, part, cell = _target_tax_cell()

    def with_formula(xml: bytes) -> bytes:
        pattern = rf'<c r="{cell}"([^>]*)><v>0.21</v></c>'.encode()
        return re.sub(pattern, rf'<c r="{cell}"\1><f>0.2+0.03</f></c>'.encode(), xml)

    problems = _problems(_rezip(data, part, with_formula), "a.xlsx")
    assert problems == [
        (
            f"sheet target, cell {cell} (operating.tax_rate)",
            "holds a formula (=0.2+0.03) with no saved value; open the file in a spreadsheet "
            "program and save it, or type the value",
        )
    ]


def _csv(*extra: str, drop: str = "", replace: tuple[str, str] | None = None) -> bytes:
    lines = formats.render(PAYLOAD, "csv").decode().splitlines()
    if drop:
        lines = [line for line in lines if not line.startswith(drop)]
    if replace:  # (the start of a line, the whole line to put instead)
        lines = [replace[1] if line.startswith(replace[0]) else line for line in lines]
    return ("\n".join([*lines, *extra]) + "\n").encode()


def test_csv_header_is_flexible_but_units_are_checked() -> None:
    text = formats.render(PAYLOAD, "csv").decode()
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Value", "YEAR", "Section", "field"])  # any order and case, no unit
    writer.writerows([r[3], r[2], r[0], r[1]] for r in rows[1:])
    bom = "\ufeff" + out.getvalue()
    assert canonical(formats.load(bom.encode(), "a.csv").model_dump(mode="json")) == PAYLOAD


def test_csv_problems_all_at_once_each_with_its_line() -> None:
    data = _csv(
        "target,shares,,5,",
        "target,operating.tax_rate,,0.3,fraction",
        "provenance,target.share_price.colour,,x,",
        "target,shares.options.0.count,,1,shares",
        "target,shares.options.x,,1,",
        "acquirer,operating.revenue_growth,twenty,0.1,fraction",
        replace=("deal_terms,exchange_ratio,", "deal_terms,exchange_ratio,,0.1235,USD"),
    )
    problems = _problems(data, "a.csv")
    places = [p for p, _ in problems]
    end = len(formats.render(PAYLOAD, "csv").decode().splitlines())
    assert problems[0][0].startswith("line 7 (deal_terms, exchange_ratio)")
    assert "is not this field's unit 'acquirer shares per target share'" in problems[0][1]
    assert any("year 'twenty' is not a year" in r for _, r in problems)
    assert f"line {end + 2} (target, operating.tax_rate)" in places
    reasons = dict(problems)
    assert reasons[f"line {end + 1} (target, shares)"].startswith("is one value, but line ")
    assert "repeats line" in reasons[f"line {end + 2} (target, operating.tax_rate)"]
    assert (
        "not a provenance field"
        in reasons[f"line {end + 3} (provenance, target.share_price.colour)"]
    )
    assert "mixes item numbers and field names" in " ".join(r for _, r in problems)
    assert len(problems) == 6


def test_missing_values_are_placed_at_their_section() -> None:
    problems = _problems(_csv(drop="synergies,"), "a.csv")
    assert ("section synergies", "is missing") in problems
    lines = formats.render(PAYLOAD, "csv").decode().splitlines()
    method = 1 + next(i for i, line in enumerate(lines) if line.startswith("target,terminal.m"))
    problems = _problems(_csv(drop="target,terminal.growth"), "a.csv")
    assert problems == [
        (f"line {method} (target, terminal.method)", "the gordon method needs growth")
    ]


def test_unknown_extension_and_old_workbooks_are_named() -> None:
    assert _problems(b"x", "a.txt") == [("a.txt", "is not a .json, .csv or .xlsx file")]
    assert _problems(b"x", "model.xls")[0][1] == "is a .xls file; save it as .xlsx (Excel workbook)"
