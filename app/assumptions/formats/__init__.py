"""The three encodings of an assumption set (JSON, CSV, XLSX), chosen by file name.

`parse` turns a file into a payload dict and the places its values came from; `load` also
validates it, reporting the reader's and Pydantic's problems together; `render` writes a
payload as a downloadable template that uploads back unchanged.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any, Literal

from app.assumptions.formats import csv_file, json_file, xlsx_file
from app.assumptions.schemas import AssumptionPayload, canonical
from app.assumptions.upload import Places, Problem, UploadError, validate

Kind = Literal["json", "csv", "xlsx"]
KINDS: dict[str, ModuleType] = {"json": json_file, "csv": csv_file, "xlsx": xlsx_file}
MEDIA_TYPES = {kind: module.MEDIA_TYPE for kind, module in KINDS.items()}

__all__ = ["KINDS", "MEDIA_TYPES", "Kind", "kind_of", "load", "parse", "render"]


def kind_of(filename: str) -> str:
    """The encoding a file name says, or an UploadError naming the kinds taken."""
    extension = filename.rpartition(".")[2].lower() if "." in filename else ""
    if extension in KINDS:
        return extension
    if extension in ("xls", "xlsm", "xlsb", "ods", "numbers"):
        reason = f"is a .{extension} file; save it as .xlsx (Excel workbook)"
    else:
        reason = "is not a .json, .csv or .xlsx file"
    raise UploadError([Problem(filename, reason)])


def parse(data: bytes, filename: str) -> tuple[dict[str, Any], Places]:
    """The payload dict in the file and the place of each value (for error messages)."""
    return KINDS[kind_of(filename)].parse(data, filename)


def load(data: bytes, filename: str) -> AssumptionPayload:
    """The validated payload in the file, or an UploadError with every problem placed."""
    payload, places = parse(data, filename)
    return validate(payload, places)


def render(payload: dict[str, Any], kind: Kind) -> bytes:
    """The payload as a file of the given kind, in the schema's order (a stored payload's
    key order depends on the database)."""
    return KINDS[kind].render(canonical(payload))
