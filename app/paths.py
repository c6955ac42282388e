"""Where the project's own files are. One place for the checkout's layout, light enough for
any process to import (the PDF layout process imports nothing else of the web app)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"
DOCS_DIR = ROOT / "docs"
