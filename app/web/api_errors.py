"""The one shape of every JSON API error, and its OpenAPI documentation.

app/main.py answers every failure under /api with `{"detail": [{"loc", "msg", "type"}]}`;
routes declare which codes they can give with `errors({...})`, so the OpenAPI document lists
each status a client can meet (and schemathesis can hold the app to it). The codes every API
route can give (no token, too low a role) are declared once, on the routers, by `COMMON`.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(
        description="Where: `body`/`query`/`path` and the field's path, or a file's place"
    )
    msg: str = Field(description="Why, in words")
    type: str = Field(description="A machine-readable kind, e.g. `value_error`, `auth`")


class ApiError(BaseModel):
    """Every error the JSON API gives: each problem with its place and reason."""

    detail: list[ErrorItem]


def error(description: str) -> dict[str, Any]:
    """One documented error response, with the shared body."""
    return {"model": ApiError, "description": description}


def errors(described: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """Documented error responses by code: `errors({404: "No such deal", 422: INVALID})`."""
    return {code: error(text) for code, text in described.items()}


INVALID = "Invalid input; `detail` names each offending field and why"
UNREADABLE = "The body cannot be read: JSON that is not UTF-8 text, or a broken multipart form"
TOO_LARGE = "The request is larger than the limit"
COMMON: dict[int | str, dict[str, Any]] = {
    401: error("No API token, or one that is unknown, revoked or expired"),
    403: error("Your role cannot do this, or your password must be changed first"),
}
"""What every API route can answer, whatever it does."""
