"""The board-ready valuation report, laid out by WeasyPrint from the page's own partials.

Every table and chart comes from the same Jinja partial and the same SVG as the deal page,
so the PDF and the page cannot disagree. The output depends only on the saved version and
its stored run (its date is the run's), so the same version gives the same document.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

from app.assumptions.formats.rows import flatten, unit_of
from app.deals.service import split_facts
from app.errors import UnavailableError
from app.reports.service import ReportSource
from app.valuation.charts import charts
from app.web.templating import TEMPLATES_DIR, templates

ROOT = Path(__file__).resolve().parents[2]
METHODOLOGY = ROOT / "docs" / "methodology.md"
STYLESHEET = ROOT / "static" / "css" / "report.css"
PAPERS = {"a4": "A4", "letter": "letter"}

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
                "basis": _basis(provenance, row.section, row.field),
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


def _basis(provenance: dict[str, Any], section: str, field: str) -> str:
    """published / derived / assumption, from the provenance of this input (or its list)."""
    path = field if section == "general" else f"{section}.{field}"
    parts = path.split(".")
    keys = [path, ".".join(f"[{p}]" if p.isdigit() else p for p in parts).replace(".[", "[")]
    for key in keys:
        if key in provenance:
            return provenance[key].get("basis", "")
    return ""


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
    """The report as PDF bytes, on A4 or US Letter.

    WeasyPrint is imported here, not at start-up: it needs Pango from the operating system,
    and an app without it should still serve everything but the PDF.
    """
    try:
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration
    except OSError as exc:
        raise UnavailableError(
            "PDF export needs Pango and fonts from the operating system "
            "(see scripts/system-packages); everything else works without them."
        ) from exc
    fonts = FontConfiguration()
    page = CSS(string=f"@page {{ size: {PAPERS[paper]}; }}", font_config=fonts)
    document = HTML(string=render_html(source, paper), base_url=str(TEMPLATES_DIR))
    return document.write_pdf(
        stylesheets=[CSS(filename=str(STYLESHEET), font_config=fonts), page],
        font_config=fonts,
    )
