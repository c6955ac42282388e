"""Write the malformed-upload corpus: every way issue 5 names for a file to be wrong, in each
encoding, each refused with a 4xx, a message and a place. Run once after a format change:

    .venv/bin/python tests/assumptions/corpus/make_corpus.py

It writes the files beside itself, `manifest.json` (what the test checks) and `README.md`
(the same as a table). The files start from the seeded deal's templates, so each has exactly
one thing wrong.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from app.assumptions import formats
from app.assumptions.schemas import canonical

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
SEED = ROOT / "app/seed/coreweave-core-scientific.assumptions.json"
PAYLOAD = canonical(json.loads(SEED.read_text()))
CSV_LINES = formats.render(PAYLOAD, "csv").decode().splitlines()
XLSX = formats.render(PAYLOAD, "xlsx")

entries: list[dict[str, Any]] = []


def add(name: str, content: bytes, wrong: str, message: str, place: str, status: int = 422):
    (HERE / name).write_bytes(content)
    entries.append(
        {"file": name, "wrong": wrong, "status": status, "message": message, "place": place}
    )


# ---- JSON -------------------------------------------------------------------------------


def json_with(path: str, value: Any) -> bytes:
    doc = json.loads(json.dumps(PAYLOAD))
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is KeyError:
        del node[last]
    else:
        node[int(last) if isinstance(node, list) else last] = value
    return json.dumps(doc, indent=2).encode()


def make_json() -> None:
    add(
        "json-unknown-field.json",
        json_with("deal_terms.colour", "red"),
        "a field the format does not have (deal_terms.colour)",
        "is not a field of the assumption format",
        "$.deal_terms.colour",
    )
    add(
        "json-wrong-type.json",
        json_with("deal_terms.exchange_ratio", "a lot"),
        "text where a number belongs",
        "valid number",
        "$.deal_terms.exchange_ratio",
    )
    add(
        "json-percent-rate.json",
        json_with("target.operating.tax_rate", 21),
        "a rate written as a percent (21 for 21%)",
        "looks like a percent",
        "$.target.operating.tax_rate",
    )
    add(
        "json-percent-text.json",
        json_with("acquirer.cost_of_capital.risk_free", "4.3%"),
        'a rate written as text with a percent sign ("4.3%")',
        "write rates as fractions (0.043)",
        "$.acquirer.cost_of_capital.risk_free",
    )
    text = json_with("target.operating.nwc_pct_revenue", 0.5).decode()
    add(
        "json-nan.json",
        text.replace('"nwc_pct_revenue": 0.5', '"nwc_pct_revenue": NaN').encode(),
        "a NaN literal",
        "NaN is not a number",
        "json-nan.json",
    )
    add(
        "json-infinity.json",
        text.replace('"nwc_pct_revenue": 0.5', '"nwc_pct_revenue": 1e400').encode(),
        "a number too large to be finite (1e400)",
        "finite number",
        "$.target.operating.nwc_pct_revenue",
    )
    add(
        "json-zero-shares.json",
        json_with("acquirer.shares.basic", 0),
        "zero basic shares",
        "greater than 0",
        "$.acquirer.shares.basic",
    )
    add(
        "json-negative-shares.json",
        json_with("target.shares.warrants.0.count", -38000000),
        "a negative warrant count",
        "greater than or equal to 0",
        "$.target.shares.warrants[0].count",
    )
    add(
        "json-wrong-year-count.json",
        json_with("target.operating.ebit_margin", [0.1, 0.2, 0.3, 0.4]),
        "four yearly values for a five-year projection",
        "has 4 values, expected 5",
        "$",
    )
    add(
        "json-missing-section.json",
        json_with("synergies", KeyError),
        "no synergies section",
        "is missing",
        "$.synergies",
    )
    add("json-empty.json", b"", "an empty file", "is empty", "json-empty.json")
    whole = json.dumps(PAYLOAD, indent=2).encode()
    add(
        "json-truncated.json",
        whole[: len(whole) // 2],
        "cut off halfway",
        "not valid JSON",
        "line ",
    )
    add(
        "json-deeply-nested.json",
        ("{" + '"a": {' * 40 + "}" * 41).encode(),
        "objects nested 40 deep",
        "nested deeper than 32 levels",
        "$",
    )
    add(
        "json-array.json",
        b"[1, 2, 3]",
        "a list, not an object",
        "must be an object",
        "$",
    )
    add(
        "json-is-csv.json",
        "\n".join(CSV_LINES).encode(),
        "a CSV file named .json",
        "not valid JSON",
        "line 1",
    )
    add(
        "json-is-xlsx.json",
        XLSX,
        "an XLSX workbook named .json",
        "looks like an XLSX workbook",
        "json-is-xlsx.json",
    )


# ---- CSV --------------------------------------------------------------------------------


def line_of(prefix: str) -> int:
    """The 1-based line of the template's row starting with `prefix`."""
    return next(i for i, line in enumerate(CSV_LINES, start=1) if line.startswith(prefix))


def csv_edit(edit: Callable[[list[str]], list[str]]) -> bytes:
    return ("\n".join(edit(list(CSV_LINES))) + "\n").encode()


def replace_line(prefix: str, new: str) -> bytes:
    n = line_of(prefix)
    return csv_edit(lambda lines: [*lines[: n - 1], new, *lines[n:]])


def append(*new: str) -> bytes:
    return csv_edit(lambda lines: [*lines, *new])


def make_csv() -> None:
    tax = line_of("target,operating.tax_rate,")
    end = len(CSV_LINES) + 1
    add(
        "csv-unknown-field.csv",
        append("target,operating.colour,,red,"),
        "a field the format does not have",
        "is not a field of the assumption format",
        f"line {end} (target, operating.colour)",
    )
    add(
        "csv-unknown-section.csv",
        append("targets,operating.tax_rate,,0.21,fraction"),
        "a section the format does not have (targets)",
        "is not a section",
        f"line {end} (targets, operating.tax_rate)",
    )
    add(
        "csv-malformed-field.csv",
        append("target,operating..tax_rate,,0.21,fraction"),
        "a field path with an empty part",
        "is not a field path",
        f"line {end} (target, operating..tax_rate)",
    )
    add(
        "csv-wrong-type.csv",
        replace_line("deal_terms,exchange_ratio,", "deal_terms,exchange_ratio,,a lot,"),
        "text where a number belongs",
        "valid number",
        f"line {line_of('deal_terms,exchange_ratio,')} (deal_terms, exchange_ratio)",
    )
    add(
        "csv-percent-text.csv",
        replace_line("target,operating.tax_rate,", "target,operating.tax_rate,,21%,fraction"),
        "a rate written with a percent sign (21%)",
        "write rates as fractions (0.21)",
        f"line {tax} (target, operating.tax_rate)",
    )
    add(
        "csv-percent-rate.csv",
        replace_line("target,operating.tax_rate,", "target,operating.tax_rate,,21,fraction"),
        "a rate written as a percent number (21)",
        "looks like a percent",
        f"line {tax} (target, operating.tax_rate)",
    )
    add(
        "csv-nan.csv",
        replace_line("target,operating.tax_rate,", "target,operating.tax_rate,,nan,fraction"),
        "NaN as a value",
        "finite number",
        f"line {tax} (target, operating.tax_rate)",
    )
    add(
        "csv-infinity.csv",
        replace_line("target,operating.base_revenue,", "target,operating.base_revenue,,1e400,USD"),
        "a number too large to be finite (1e400)",
        "finite number",
        f"line {line_of('target,operating.base_revenue,')} (target, operating.base_revenue)",
    )
    add(
        "csv-zero-shares.csv",
        replace_line("target,shares.basic,", "target,shares.basic,,0,shares"),
        "zero basic shares",
        "greater than 0",
        f"line {line_of('target,shares.basic,')} (target, shares.basic)",
    )
    add(
        "csv-negative-shares.csv",
        replace_line("target,shares.rsus,", "target,shares.rsus,,-9600000,shares"),
        "a negative RSU count",
        "greater than or equal to 0",
        f"line {line_of('target,shares.rsus,')} (target, shares.rsus)",
    )
    add(
        "csv-thousands-separators.csv",
        replace_line("target,shares.basic,", 'target,shares.basic,,"321,341,182",shares'),
        "a number with thousands separators",
        "without thousands separators",
        f"line {line_of('target,shares.basic,')} (target, shares.basic)",
    )
    missing = line_of("target,operating.ebit_margin,2029,")
    first_margin = line_of("target,operating.ebit_margin,2026,")
    add(
        "csv-missing-year.csv",
        csv_edit(lambda lines: [*lines[: missing - 1], *lines[missing:]]),
        "no 2029 value for a per-year input (four years of five)",
        "has no value for 2029",
        f"line {first_margin} (target, operating.ebit_margin, 2026)",
    )
    add(
        "csv-extra-year.csv",
        append("target,operating.ebit_margin,2031,0.42,fraction"),
        "a year after the projection (2031)",
        "outside the projection years 2026-2030",
        f"line {end} (target, operating.ebit_margin, 2031)",
    )
    add(
        "csv-year-on-scalar.csv",
        replace_line("target,operating.tax_rate,", "target,operating.tax_rate,2026,0.21,fraction"),
        "a year on a single-value input",
        "has a year",
        f"line {tax} (target, operating.tax_rate, 2026)",
    )
    first = line_of("target,operating.ebit_margin,2026,")
    add(
        "csv-per-year-without-year.csv",
        replace_line(
            "target,operating.ebit_margin,2026,", "target,operating.ebit_margin,,0.0,fraction"
        ),
        "a per-year input without its year",
        "one value per projection year",
        f"line {first} (target, operating.ebit_margin)",
    )
    add(
        "csv-duplicate-row.csv",
        append("target,operating.tax_rate,,0.25,fraction"),
        "the same input twice",
        f"repeats line {tax} (target, operating.tax_rate)",
        f"line {end} (target, operating.tax_rate)",
    )
    add(
        "csv-unit-millions.csv",
        replace_line(
            "acquirer,operating.base_revenue,", "acquirer,operating.base_revenue,,5000,USD m"
        ),
        "money in millions, said in the unit column",
        "is not this field's unit 'USD'",
        f"line {line_of('acquirer,operating.base_revenue,')} (acquirer, operating.base_revenue)",
    )
    warrant = line_of("target,shares.warrants.0.count,")
    add(
        "csv-gap-in-items.csv",
        csv_edit(
            lambda lines: [
                line.replace("shares.warrants.0.", "shares.warrants.1.") for line in lines
            ]
        ),
        "list items numbered 1 without a 0",
        "number them from 0 without gaps",
        f"line {warrant} (target, shares.warrants.1.count)",
    )
    add(
        "csv-missing-field.csv",
        csv_edit(lambda lines: [*lines[: tax - 1], *lines[tax:]]),
        "a required input left out",
        "is missing",
        "section target, field operating.tax_rate",
    )
    add(
        "csv-bad-header.csv",
        csv_edit(lambda lines: ["section,field,value", *lines[1:]]),
        "a header without the year column",
        "the header must name the columns",
        "line 1",
    )
    add(
        "csv-unknown-column.csv",
        csv_edit(lambda lines: [lines[0] + ",comment", *(line + "," for line in lines[1:])]),
        "a column the format does not have",
        "column 'comment' is not one of",
        "line 1",
    )
    add(
        "csv-ragged-row.csv",
        append("target,operating.tax_rate"),
        "a row with fewer columns than the header",
        "has 2 values but the header has 5 columns",
        f"line {end} (target, operating.tax_rate)",
    )
    add(
        "csv-unclosed-quote.csv",
        append('target,name,,"Core Scientific, Inc.,'),
        "a quoted value that is never closed (a truncated file)",
        "never closed",
        f"line {end}",
    )
    broken = line_of("scenarios,monte_carlo.distributions.")
    cut = "\n".join([*CSV_LINES[: broken - 1], CSV_LINES[broken - 1][:30]]).encode()
    add(
        "csv-truncated.csv",
        cut,
        "cut off in the middle of a row (the rest of the file is missing)",
        "but the header has 5 columns",
        f"line {broken} (scenarios, ",
    )
    add("csv-empty.csv", b"", "an empty file", "is empty", "csv-empty.csv")
    add(
        "csv-header-only.csv",
        (CSV_LINES[0] + "\n").encode(),
        "a header and no rows",
        "has a header but no rows",
        "csv-header-only.csv",
    )
    add(
        "csv-binary.csv",
        b"section,field\x00\x01\x02\xff\xfe",
        "binary data with NUL bytes",
        "NUL bytes",
        "csv-binary.csv",
    )
    add(
        "csv-not-utf8.csv",
        replace_line("target,name,", "target,name,,Núcleo Científico,").decode().encode("latin-1"),
        "Latin-1 text, not UTF-8",
        "not UTF-8",
        f"line {line_of('target,name,')}",
    )
    add(
        "csv-is-xlsx.csv",
        XLSX,
        "an XLSX workbook named .csv",
        "looks like an XLSX workbook",
        "csv-is-xlsx.csv",
    )
    add(
        "csv-is-json.csv",
        json.dumps(PAYLOAD).encode(),
        "a JSON file named .csv",
        "looks like JSON",
        "csv-is-json.csv",
    )


# ---- XLSX -------------------------------------------------------------------------------


def workbook() -> Any:
    return load_workbook(io.BytesIO(XLSX))


def save(wb: Any) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def row_of(ws: Any, field: str) -> int:
    return next(c.row for c in ws["A"] if c.value == field)


def xlsx_cell(sheet: str, field: str, column: str, value: Any, unit: Any = None) -> bytes:
    wb = workbook()
    ws = wb[sheet]
    row = row_of(ws, field)
    ws[f"{column}{row}"] = value
    if unit is not None:
        ws[f"B{row}"] = unit
    return save(wb)


def xlsx_place(sheet: str, field: str, column: str) -> str:
    return f"sheet {sheet}, cell {column}{row_of(workbook()[sheet], field)} ({field}"


def rezip(data: bytes, change: Callable[[str, bytes], bytes | None], extra=()) -> bytes:
    """The archive with each part passed through `change` (None drops it), plus `extra`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = change(info.filename, src.read(info))
            if content is not None:
                dst.writestr(info.filename, content, zipfile.ZIP_DEFLATED)
        for name, content in extra:
            dst.writestr(name, content, zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def sheet_part(name: str) -> str:
    """The zip part holding a sheet (openpyxl numbers them in workbook order)."""
    index = workbook().sheetnames.index(name) + 1
    return f"xl/worksheets/sheet{index}.xml"


def make_xlsx() -> None:
    add(
        "xlsx-unknown-field.xlsx",
        (lambda wb: (wb["target"].append(["operating.colour", None, "red"]), save(wb))[1])(
            workbook()
        ),
        "a field the format does not have",
        "is not a field of the assumption format",
        f"sheet target, cell C{workbook()['target'].max_row + 1} (operating.colour)",
    )
    add(
        "xlsx-unknown-sheet.xlsx",
        (lambda wb: (wb.create_sheet("notes").append(["my notes"]), save(wb))[1])(workbook()),
        "a sheet that is not a section (notes)",
        "is not a section",
        "sheet notes",
    )
    add(
        "xlsx-wrong-type.xlsx",
        xlsx_cell("deal_terms", "exchange_ratio", "C", "a lot"),
        "text where a number belongs",
        "valid number",
        xlsx_place("deal_terms", "exchange_ratio", "C"),
    )
    add(
        "xlsx-percent-rate.xlsx",
        xlsx_cell("target", "operating.tax_rate", "C", 21),
        "a rate typed as 21 in a cell not formatted as a percent",
        "looks like a percent",
        xlsx_place("target", "operating.tax_rate", "C"),
    )
    add(
        "xlsx-percent-text.xlsx",
        xlsx_cell("target", "operating.tax_rate", "C", "21%"),
        "a rate typed as the text 21%",
        "write rates as fractions (0.21)",
        xlsx_place("target", "operating.tax_rate", "C"),
    )
    add(
        "xlsx-nan-text.xlsx",
        xlsx_cell("target", "operating.nwc_pct_revenue", "C", "NaN"),
        "NaN as a value",
        "finite number",
        xlsx_place("target", "operating.nwc_pct_revenue", "C"),
    )
    add(
        "xlsx-zero-shares.xlsx",
        xlsx_cell("acquirer", "shares.basic", "C", 0),
        "zero basic shares",
        "greater than 0",
        xlsx_place("acquirer", "shares.basic", "C"),
    )
    add(
        "xlsx-negative-shares.xlsx",
        xlsx_cell("target", "shares.convertibles.0.shares", "C", -85000000),
        "a negative convertible share count",
        "greater than or equal to 0",
        xlsx_place("target", "shares.convertibles.0.shares", "C"),
    )
    add(
        "xlsx-wrong-year-count.xlsx",
        xlsx_cell("target", "operating.ebit_margin", "H", None),
        "the 2030 value of a per-year input left empty",
        "has no value for 2030",
        xlsx_place("target", "operating.ebit_margin", "D"),
    )
    add(
        "xlsx-year-header.xlsx",
        (lambda wb: (wb["acquirer"].__setitem__("D1", "FY26"), save(wb))[1])(workbook()),
        "a year header that is not a year (FY26)",
        "must be a year such as 2026",
        "sheet acquirer, cell D1",
    )
    add(
        "xlsx-missing-header.xlsx",
        (lambda wb: (wb["deal_terms"].__setitem__("A1", None), save(wb))[1])(workbook()),
        "the header cell 'field' left empty",
        "the header row must be field | unit | value",
        "sheet deal_terms, cell A1",
    )
    add(
        "xlsx-duplicate-row.xlsx",
        (
            lambda wb: (
                wb["target"].append(["operating.tax_rate", "fraction", 0.25]),
                save(wb),
            )[1]
        )(workbook()),
        "the same input twice",
        f"repeats {xlsx_place('target', 'operating.tax_rate', 'C')}",
        f"sheet target, cell C{workbook()['target'].max_row + 1} (operating.tax_rate)",
    )
    add(
        "xlsx-unit-millions.xlsx",
        xlsx_cell("acquirer", "operating.base_revenue", "C", 5000, unit="USD m"),
        "money in millions, said in the unit column",
        "is not this field's unit 'USD'",
        xlsx_place("acquirer", "operating.base_revenue", "C"),
    )
    add(
        "xlsx-formula-no-value.xlsx",
        xlsx_cell("target", "operating.tax_rate", "C", "=0.2+0.01"),
        "a formula saved without its value (written by a program that does not calculate)",
        "with no saved value",
        xlsx_place("target", "operating.tax_rate", "C"),
    )
    wb = workbook()
    for i in range(6_000):
        wb["general"].append([f"note_{i}", None, i])
    add(
        "xlsx-too-many-rows.xlsx",
        save(wb),
        "6,000 rows on one sheet",
        "has more than 5,000 rows",
        "sheet general",
    )
    add(
        "xlsx-zip-bomb.xlsx",
        rezip(XLSX, lambda _, content: content, [("xl/media/padding.bin", b"\0" * 60 * 2**20)]),
        "a part that inflates to 60 MB (the file is small on disk)",
        "would unpack to",
        "xlsx-zip-bomb.xlsx",
    )
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&lol2;</t></is></c></row>'
        b"</sheetData></worksheet>"
    )
    part = sheet_part("financing")
    add(
        "xlsx-xml-entities.xlsx",
        rezip(XLSX, lambda name, content: bomb if name == part else content),
        "XML with entity declarations (the billion-laughs pattern)",
        "declares entities",
        "xlsx-xml-entities.xlsx",
    )
    add(
        "xlsx-truncated.xlsx",
        XLSX[: len(XLSX) // 2],
        "cut off halfway",
        "truncated or damaged",
        "xlsx-truncated.xlsx",
    )
    add(
        "xlsx-is-csv.xlsx",
        "\n".join(CSV_LINES).encode(),
        "CSV text named .xlsx",
        "is not an XLSX workbook",
        "xlsx-is-csv.xlsx",
    )
    add(
        "xlsx-zip-not-workbook.xlsx",
        rezip(XLSX, lambda name, content: None if name == "xl/workbook.xml" else content),
        "a zip archive that is not a workbook",
        "not an XLSX workbook",
        "xlsx-zip-not-workbook.xlsx",
    )
    add(
        "xlsx-zip-future-version.xlsx",
        _needs_zip_version(XLSX, 64),
        "a zip directory entry that asks for zip version 6.4 (found by hypothesis)",
        "zip feature this server cannot read",
        "xlsx-zip-future-version.xlsx",
    )
    add(
        "xlsx-old-xls.xlsx",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
        "an old binary .xls (or encrypted) workbook named .xlsx",
        "old .xls workbook",
        "xlsx-old-xls.xlsx",
    )
    add("xlsx-empty.xlsx", b"", "an empty file", "is empty", "xlsx-empty.xlsx")


def _needs_zip_version(data: bytes, version: int) -> bytes:
    """The archive with its first central-directory entry asking for `version` to extract
    (Python's zipfile reads up to 6.3 and raises NotImplementedError above it)."""
    at = data.index(b"PK\x01\x02") + 6
    return data[:at] + version.to_bytes(2, "little") + data[at + 2 :]


def make_other() -> None:
    add(
        "other-notes.txt",
        b"section,field,year,value,unit\n",
        "a kind of file that is not taken (.txt)",
        "is not a .json, .csv or .xlsx file",
        "other-notes.txt",
    )
    add(
        "other-legacy.xls",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504,
        "an old Excel .xls workbook",
        "save it as .xlsx",
        "other-legacy.xls",
    )


def readme() -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = [
        "# Malformed uploads",
        "",
        "Every file here must be refused by `POST /api/v1/deals/{slug}/assumptions` with the",
        "status shown, a problem whose message contains the fragment and whose place (`loc`)",
        "contains the place, and no new version. `tests/assumptions/test_corpus.py` checks them",
        "all on SQLite and PostgreSQL, from `manifest.json`. Regenerate with",
        "`.venv/bin/python tests/assumptions/corpus/make_corpus.py` (it rewrites this table).",
        "",
        "| file | what is wrong | status | message contains | place contains |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{e['file']}` | {cell(e['wrong'])} | {e['status']} | {cell(e['message'])} "
        f"| {cell(e['place'])} |"
        for e in entries
    ]
    return "\n".join(lines) + "\n"


def main() -> None:
    for old in HERE.iterdir():
        if re.match(r"^(json|csv|xlsx|other)-", old.name):
            old.unlink()
    make_json()
    make_csv()
    make_xlsx()
    make_other()
    (HERE / "manifest.json").write_text(json.dumps(entries, indent=2, ensure_ascii=False) + "\n")
    (HERE / "README.md").write_text(readme())
    print(f"{len(entries)} files in {HERE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
