"""The board-ready valuation report, laid out by WeasyPrint from the page's own partials.

Every table and chart comes from the same Jinja partial and the same SVG as the deal page,
so the PDF and the page cannot disagree. The output depends only on the saved version and
its stored run (its date is the run's), so the same version gives the same document.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt

from app.assumptions.formats.rows import flatten, unit_of
from app.deals.service import split_facts
from app.paths import DOCS_DIR, TEMPLATES_DIR
from app.reports import layout
from app.reports.layout import PAPERS
from app.reports.service import ReportSource
from app.valuation.charts import charts
from app.web.templating import templates

METHODOLOGY = DOCS_DIR / "methodology.md"

PLAIN = {"first_projection_year", "schema_version", "monte_carlo.seed"}
"""Integers that are identifiers or years, shown without thousands separators."""
SECTION_TITLES = {
    "general": "General",
    "deal_terms": "Deal terms",
    "acquirer": "Acquirer",
    "target": "Target",
    "synergies": "Synergies",
    "financing": "Financing",
    "scenarios": "Scenarios",
}


@lru_cache(maxsize=1)
def methodology_html() -> str:
    """docs/methodology.md as HTML (it is the methodology appendix, word for word)."""
    markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
    return markdown.render(METHODOLOGY.read_text(encoding="utf-8"))


def assumption_rows(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """Every input of the version, per-year inputs with their years across."""
    years = [payload["first_projection_year"] + i for i in range(payload["projection_years"])]
    currency = payload.get("currency", "USD")
    provenance = payload.get("provenance", {})
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for row in flatten(payload):
        if row.section == "provenance":
            continue
        entry = grouped.setdefault(
            (row.section, row.field),
            {
                "section": SECTION_TITLES.get(row.section, row.section),
                "field": row.field,
                "unit": unit_of(row.section, row.field, currency),
                "value": None,
                "years": {},
                **_provenance(provenance, row.section, row.field),
                "plain": row.field in PLAIN,
            },
        )
        if row.year is None:
            entry["value"] = row.value
        else:
            entry["years"][row.year] = row.value
    rows = list(grouped.values())
    for entry in rows:
        entry["by_year"] = [entry["years"].get(y) for y in years] if entry["years"] else None
    return rows


def _provenance(provenance: dict[str, Any], section: str, field: str) -> dict[str, Any]:
    """Basis (published / derived / assumption), note and sources of this input (or its list).

    They sit on the input's own row, so the reader finds where a number came from beside it.
    """
    path = field if section == "general" else f"{section}.{field}"
    parts = path.split(".")
    keys = [path, ".".join(f"[{p}]" if p.isdigit() else p for p in parts).replace(".[", "[")]
    for key in keys:
        if key in provenance:
            entry = provenance[key]
            return {
                "basis": entry.get("basis", ""),
                "note": entry.get("note", ""),
                "sources": list(entry.get("sources", [])),
            }
    return {"basis": "", "note": "", "sources": []}


def context(source: ReportSource, paper: str) -> dict[str, Any]:
    results = source.run.results
    headline, other = split_facts(source.deal.facts)
    return {
        "deal": source.deal,
        "version": source.version,
        "run": source.run,
        "payload": source.payload,
        "r": results,
        "years": results["meta"]["years"],
        "charts": charts(results),
        "headline": headline,
        "other_facts": other,
        "assumptions": assumption_rows(source.payload),
        "methodology": methodology_html(),
        "report_date": source.run.created_at.date() if source.run.created_at else date.today(),
        "paper": PAPERS[paper],
        "oob": False,
        "preview": False,
        "report": True,
    }


def render_html(source: ReportSource, paper: str = "a4") -> str:
    return templates.get_template("reports/report.html").render(context(source, paper))


def render(source: ReportSource, paper: str = "a4") -> bytes:
    """The report as PDF bytes, on A4 or US Letter, laid out in the layout process."""
    return layout.to_pdf(render_html(source, paper), paper, str(TEMPLATES_DIR))
