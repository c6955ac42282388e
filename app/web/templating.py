"""The one Jinja environment, used by pages, HTMX fragments and (later) the PDF."""

from pathlib import Path

from fastapi import Request
from fastapi.templating import Jinja2Templates

from app.web.formatting import FILTERS

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

templates = Jinja2Templates(directory=TEMPLATES_DIR)
templates.env.filters.update(FILTERS)
templates.env.globals["app_name"] = "Dealbook"


def is_htmx(request: Request) -> bool:
    """HTMX routes branch on this header only (never on HX-Trigger or the target)."""
    return request.headers.get("HX-Request") == "true"
