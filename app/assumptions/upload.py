"""Reading an uploaded assumption file: size-capped, parsed strictly, every error placed.

Errors are collected, not raised one at a time, so an analyst fixes a file in one pass. Each
names its place (a JSON path like `$.target.operating.tax_rate`) and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import UploadFile
from pydantic import ValidationError

from app.assumptions.schemas import AssumptionPayload

MAX_DEPTH = 32
CHUNK = 64 * 1024


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


async def read_capped(file: UploadFile, limit: int) -> bytes:
    """The file's bytes, refusing it as soon as it passes `limit` (never reading it all)."""
    chunks, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            size_text = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit:,} bytes"
            raise UploadError([Problem("file", f"is larger than the {size_text} limit")], 413)
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows here")


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level)
    return level


def parse_json(data: bytes, filename: str = "file") -> dict[str, Any]:
    """A JSON object from the bytes, or an UploadError saying where and why it is not one."""
    if not data.strip():
        raise UploadError([Problem(filename, "is empty")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError([Problem(filename, "is not UTF-8 text; is it really JSON?")]) from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise UploadError([Problem(where, f"not valid JSON: {exc.msg}")]) from exc
    except ValueError as exc:
        raise UploadError([Problem(filename, str(exc))]) from exc
    except RecursionError as exc:
        raise UploadError([Problem(filename, "is nested too deeply")]) from exc
    if not isinstance(value, dict):
        raise UploadError([Problem("$", "must be an object with the assumption sections")])
    if _depth(value) > MAX_DEPTH:
        raise UploadError([Problem("$", f"is nested deeper than {MAX_DEPTH} levels")])
    return value


def validate(data: dict[str, Any]) -> AssumptionPayload:
    """The payload, or every problem with its JSON path."""
    try:
        return AssumptionPayload.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(
                "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"]),
                e["msg"].removeprefix("Value error, "),
            )
            for e in exc.errors()
        ]
        raise UploadError(problems) from exc
