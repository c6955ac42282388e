"""Corrections to the OpenAPI document FastAPI generates.

Pydantic (2.14, its issue #11576) writes a numeric bound that follows a validator in an
`Annotated` type under its own name (`"gt": 0`) instead of JSON Schema's (`"exclusiveMinimum":
0`); clients and schema-driven tests ignore unknown keys, so the bound went unstated (a WACC of
0 looked valid). `standard_bounds` renames them; it is idempotent.
"""

from __future__ import annotations

from typing import Any

JSON_SCHEMA_BOUNDS = {
    "gt": ("exclusiveMinimum", max),
    "ge": ("minimum", max),
    "lt": ("exclusiveMaximum", min),
    "le": ("maximum", min),
}
"""Pydantic's name -> JSON Schema's, and how two bounds of a kind combine (the tighter wins)."""


def standard_bounds(node: Any) -> Any:
    """Rename Pydantic's bound names to JSON Schema's in every numeric schema under `node`.

    >>> standard_bounds({"type": "number", "gt": 0, "ge": 0.5, "minimum": -1, "lt": 1})
    {'type': 'number', 'minimum': 0.5, 'exclusiveMinimum': 0, 'exclusiveMaximum': 1}
    """
    if isinstance(node, list):
        for item in node:
            standard_bounds(item)
    elif isinstance(node, dict):
        if node.get("type") in ("number", "integer"):
            for raw, (keyword, tighter) in JSON_SCHEMA_BOUNDS.items():
                if isinstance(node.get(raw), int | float):
                    bound = node.pop(raw)
                    node[keyword] = tighter(node[keyword], bound) if keyword in node else bound
        for value in node.values():
            standard_bounds(value)
    return node
