"""HTML form fields to and from the deal schema: names are the schema's dotted paths."""

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from app.deals.models import Deal, FactUnit
from app.deals.schemas import DealCreate

SOURCE_ROWS = 6
"""Source rows the form offers; blank rows are ignored."""
FACT_ROWS = 5
"""Blank fact rows the form offers beyond a deal's facts."""
TEXT_UNITS = {FactUnit.TEXT.value, FactUnit.DATE.value}


def _fact(row: dict[str, str]) -> dict[str, Any]:
    """One form row as a fact: the value box holds a number, or text for text/date units."""
    fact: dict[str, Any] = {k: row.get(k, "") for k in ("key", "label", "unit", "basis", "note")}
    fact["sources"] = [k.strip() for k in row.get("sources", "").split(",") if k.strip()]
    value = row.get("value", "").replace(",", "")
    if fact["unit"] in TEXT_UNITS:
        fact["text"] = row.get("value", "")
    elif value:
        fact["value"] = value  # the schema parses it, and names the row if it is no number
    return fact


def form_to_data(form: Mapping[str, str]) -> dict[str, Any]:
    """Nest `acquirer.name` and `sources.0.url` style fields; drop blank optional values."""
    data: dict[str, Any] = {"acquirer": {}, "target": {}}
    rows: dict[str, dict[int, dict[str, str]]] = {"sources": {}, "facts": {}}
    for name, raw in form.items():
        value = raw.strip()
        parts = name.split(".")
        if parts[0] in rows and len(parts) == 3 and parts[1].isdigit():
            rows[parts[0]].setdefault(int(parts[1]), {})[parts[2]] = value
        elif parts[0] in ("acquirer", "target") and len(parts) == 2:
            if value or parts[1] == "name":
                data[parts[0]][parts[1]] = value
        elif (
            len(parts) == 1
            and name in DealCreate.model_fields
            and (value or name in ("name", "announced", "consideration"))
        ):
            data[name] = value
    data["sources"] = [row for _, row in sorted(rows["sources"].items()) if any(row.values())]
    data["facts"] = [
        _fact(row)
        for _, row in sorted(rows["facts"].items())
        if any(row.get(k) for k in ("key", "label", "value"))
    ]
    return data


def deal_to_form(deal: Deal) -> dict[str, str]:
    """The form's initial values for an existing deal."""
    values = {
        "name": deal.name,
        "slug": deal.slug,
        "announced": deal.announced.isoformat(),
        "status": deal.status,
        "status_date": deal.status_date.isoformat() if deal.status_date else "",
        "consideration": deal.consideration,
        "consideration_type": deal.consideration_type or "",
        "currency": deal.currency,
        "summary": deal.summary,
        "revision": str(deal.revision),
    }
    for side in ("acquirer", "target"):
        company = getattr(deal, side)
        for attribute in ("name", "ticker", "exchange", "sector"):
            values[f"{side}.{attribute}"] = getattr(company, attribute) or ""
    for i, fact in enumerate(deal.facts):
        values |= {
            f"facts.{i}.key": fact.key,
            f"facts.{i}.label": fact.label,
            f"facts.{i}.value": fact.text if fact.value is None else repr(fact.value),
            f"facts.{i}.unit": fact.unit,
            f"facts.{i}.basis": fact.basis,
            f"facts.{i}.note": fact.note,
            f"facts.{i}.sources": ", ".join(fact.source_keys),
        }
    for i, source in enumerate(deal.sources):
        values |= {
            f"sources.{i}.key": source.key,
            f"sources.{i}.title": source.title,
            f"sources.{i}.url": source.url,
        }
    return values


PATTERN_HINTS = {
    "slug": "use lowercase letters, digits and single hyphens (coreweave-core-scientific)",
    "currency": "use a three-letter currency code such as USD",
    "key": "use letters, digits, - or _ (no spaces), up to 20 characters",
}
"""What a field's pattern means, said the way an analyst would fix it."""


def _friendly(error: dict[str, Any]) -> str:
    """Pydantic's message, reworded where it speaks in regular expressions or types."""
    kind, last = error["type"], str(error["loc"][-1]) if error["loc"] else ""
    if kind == "string_pattern_mismatch":
        return PATTERN_HINTS.get(last, "is not in the expected format")
    if kind in ("missing", "string_too_short") or error.get("input") in ("", None):
        return "is required"
    if kind == "string_too_long":
        return f"is too long (at most {error['ctx']['max_length']} characters)"
    if kind.startswith("date"):
        return "enter a real date"
    if kind.startswith("url"):
        return "enter a full web address, starting with https://"
    if kind in ("float_parsing", "float_type"):
        return "enter a number"
    return error["msg"].removeprefix("Value error, ")


def error_messages(exc: ValidationError) -> dict[str, str]:
    """Messages keyed by form field name; errors about the whole deal go under ''."""
    messages: dict[str, str] = {}
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"])
        message = _friendly(error)
        messages[key] = f"{messages[key]}; {message}" if key in messages else message
    return messages


def _human(name: str) -> str:
    """A form field's name as its place on the form: "sources.1.url" -> "Source 2, url"."""
    parts = name.split(".")
    if len(parts) >= 3 and parts[1].isdigit():
        row = {"sources": "Source", "facts": "Fact"}.get(parts[0], parts[0])
        return f"{row} {int(parts[1]) + 1}, {' '.join(parts[2:]).replace('_', ' ')}"
    return ", ".join(p.replace("_", " ") for p in parts).capitalize()


def error_summary(errors: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(input id, where, message) for every problem, in the form's order, for the summary
    at the top of the form that links to each field."""
    return [
        (f"f-{name.replace('.', '-')}", _human(name), message)
        for name, message in errors.items()
        if name
    ]
