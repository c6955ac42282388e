"""Column types shared by the features' models, and the limits of what the database stores."""

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field
from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import JSONB

# JSONB on PostgreSQL (indexable, compact); plain JSON text on SQLite.
JSONType = JSON().with_variant(JSONB(), "postgresql")

RowNumber = Annotated[int, Field(ge=1, lt=2**31)]
"""A version number or row id from a URL: inside an INTEGER column's range, so looking up
10**20 is a 422, not an OverflowError (SQLite) or a DataError (PostgreSQL)."""

NUL = "\x00"
_PLAIN = (int, float, type(None))
"""Values with no text in them (bool is an int): most of what app/db.py checks, every
parameter of every statement, is numbers."""


def as_utc(moment: datetime) -> datetime:
    """A stored time with its zone: every time is stored in UTC, and SQLite hands them back
    naive, which is not an RFC 3339 `date-time` (and compares with aware times not at all)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


UtcDatetime = Annotated[datetime, AfterValidator(as_utc)]
"""A time in an API response: always with its offset (`+00:00`), on either database."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def has_nul(value: Any) -> bool:
    """Whether text anywhere in `value` (nested lists, tuples and mappings, keys too) has a NUL
    character, which PostgreSQL can neither store nor compare.

    >>> has_nul({"notes": ["fine", "bad\\x00"]}), has_nul(("a", 1, None))
    (True, False)
    """
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, _PLAIN):  # most values are numbers: decided before the ABC check
        return False
    if isinstance(value, Mapping):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(not isinstance(item, _PLAIN) and has_nul(item) for item in value)
    return False


def refuse_nul(value: Any) -> Any:
    """A Pydantic validator: the value unchanged, or a ValueError naming the NUL character."""
    if has_nul(value):
        raise ValueError("contains a NUL character (\\x00), which cannot be stored")
    return value


NO_NUL = AfterValidator(refuse_nul)
"""On every text field a model stores, after its other constraints (so their messages stay
those of a string): `Annotated[str, StringConstraints(...), NO_NUL]`. Checking text fields
only, a model spends no validator calls on its numbers."""
Text = Annotated[str, NO_NUL]
"""Text a model stores, with no other constraint."""
