"""What changed between two assumption versions, input by input.

A change is one leaf of the payload: a number, one year of a per-year list, or a text value
(a structure, a terminal method). Paths are the same dotted paths the provenance, the editor
and the validation errors use, with a year's index appended.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SKIP = ("provenance",)


@dataclass(frozen=True)
class Change:
    path: str
    old: Any
    new: Any


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in [*new, *(k for k in old if k not in new)]:
            if not path and key in SKIP:
                continue
            _diff(old.get(key), new.get(key), f"{path}.{key}" if path else key, out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _diff(a, b, f"{path}.{i}", out)
    elif old != new:
        out.append(Change(path, old, new))  # a number, a text, or a whole object or list


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every input whose value differs, in the order the newer payload lists them.

    A collar that appears (or a list that changes length) is one change, not many.

    >>> changes({"a": {"b": [1.0, 2.0]}, "c": None}, {"a": {"b": [1.0, 3.0]}, "c": {"x": 1}})
    [Change(path='a.b.1', old=2.0, new=3.0), Change(path='c', old=None, new={'x': 1})]
    """
    out: list[Change] = []
    _diff(old, new, "", out)
    return out


def plain_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, leaves shared as they are immutable).

    A third of `copy.deepcopy`'s time on a payload: no memo, no dispatch on types it never
    holds. The editor copies the payload on every recompute.

    >>> a = {"x": [1.0, {"y": "z"}]}; b = plain_copy(a); b["x"][1]["y"] = "w"; a
    {'x': [1.0, {'y': 'z'}]}
    """
    if isinstance(value, dict):
        return {key: plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_copy(item) for item in value]
    return value


def apply(payload: dict[str, Any], change: Change) -> dict[str, Any]:
    """A copy of `payload` with one change made."""
    edited = plain_copy(payload)
    *parents, last = change.path.split(".")
    node: Any = edited
    for part in parents:
        node = node[int(part) if isinstance(node, list) else part]
    key = int(last) if isinstance(node, list) else last
    node[key] = plain_copy(change.new)
    return edited
