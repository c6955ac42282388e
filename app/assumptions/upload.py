"""Reading an uploaded assumption file: size-capped, validated, every error placed.

Errors are collected, not raised one at a time, so an analyst fixes a file in one pass. Each
names its place (a JSON path like `$.target.operating.tax_rate`, a CSV line or a sheet and
cell) and the reason. The encodings themselves are read in `app.assumptions.formats`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import UploadFile
from pydantic import ValidationError

from app.assumptions.schemas import AssumptionPayload

CHUNK = 64 * 1024

Loc = tuple[str | int, ...]
"""A Pydantic error location: section names, field names, list indices."""


@dataclass(frozen=True)
class Problem:
    place: str
    reason: str


class UploadError(Exception):
    """A file that cannot become a version; `status` is 413 for size, 422 otherwise."""

    def __init__(self, problems: list[Problem], status: int = 422) -> None:
        super().__init__("; ".join(f"{p.place}: {p.reason}" for p in problems))
        self.problems = problems
        self.status = status


def read_capped(file: UploadFile, limit: int) -> bytes:
    """The file's bytes, refusing it as soon as it passes `limit` (never reading it all).

    Synchronous: upload routes are plain `def`s run in the threadpool, and the body has
    already been spooled (in memory or a temporary file) when they run."""
    chunks, size = [], 0
    while chunk := file.file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            size_text = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit:,} bytes"
            raise UploadError([Problem("file", f"is larger than the {size_text} limit")], 413)
        chunks.append(chunk)
    return b"".join(chunks)


class Places:
    """Where each value of a parsed file came from, so a validation error points into it.

    This base maps a location to a JSON path (`$.target.shares.warrants[0]`); the CSV and
    XLSX readers subclass it with their lines and cells. `problems` are what the reader found
    before validation (they are reported with validation's, all at once) and `refused` the
    locations it left out because of them, so their absence is not reported twice.
    """

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.refused: set[Loc] = set()

    def __call__(self, loc: Loc) -> str:
        return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)

    def refuses(self, loc: Loc) -> bool:
        return any(loc[:n] in self.refused for n in range(len(loc) + 1))


_PERCENT = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*%\s*$")
_GROUPED = re.compile(r"^\s*[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?\s*$")


def _reason(error: Any) -> str:
    """Pydantic's message, said in the format's terms where it has a better one."""
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return "is not a field of the assumption format"
    if kind == "missing":
        return "is missing"
    if kind in ("float_parsing", "int_parsing", "float_type", "int_type") and isinstance(
        value, str
    ):
        if match := _PERCENT.match(value):
            fraction = float(match.group(1)) / 100
            return (
                f"{value.strip()!r} looks like a percent; write rates as fractions ({fraction:g})"
            )
        if _GROUPED.match(value):
            return f"{value.strip()!r}: write numbers without thousands separators"
    return error["msg"].removeprefix("Value error, ")


def validate(data: dict[str, Any], place_of: Places | None = None) -> AssumptionPayload:
    """The payload, or every problem (the reader's and validation's) with its place.

    `place_of` maps a Pydantic location to where that value came from in the file; without
    it, places are JSON paths.
    """
    places = place_of or Places()
    problems = list(places.problems)
    try:
        payload = AssumptionPayload.model_validate(data)
    except ValidationError as exc:
        problems += [
            Problem(places(tuple(e["loc"])), _reason(e))
            for e in exc.errors()
            if not places.refuses(tuple(e["loc"]))
        ]
        if not problems:  # never an empty refusal, even if the reader refused every place
            problems = [Problem(places(tuple(e["loc"])), _reason(e)) for e in exc.errors()]
        raise UploadError(problems) from exc
    if problems:
        raise UploadError(problems)
    return payload
