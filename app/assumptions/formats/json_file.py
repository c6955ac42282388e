"""The JSON encoding: the payload itself, read strictly (no NaN, no deep nesting)."""

from __future__ import annotations

import json
from typing import Any

from app.assumptions.upload import Places, Problem, UploadError

MAX_DEPTH = 32
MEDIA_TYPE = "application/json"


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
    if data.startswith(b"PK\x03\x04"):
        raise UploadError(
            [Problem(filename, "looks like an XLSX workbook (a zip file), not JSON; name it .xlsx")]
        )
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


def parse(data: bytes, filename: str) -> tuple[dict[str, Any], Places]:
    """The payload dict and its places (JSON paths such as `$.target.shares.basic`)."""
    return parse_json(data, filename), Places()


def render(payload: dict[str, Any]) -> bytes:
    return (json.dumps(payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n").encode()
