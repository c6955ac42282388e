"""docs/deploy.md's configuration reference stays true: it lists exactly the settings that
exist (app/settings.py's fields and the environment variables gunicorn.conf.py reads), each
with its real default; and the README points to it."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "docs" / "deploy.md"


def _reference() -> dict[str, str]:
    """Variable -> default cell of the reference table."""
    section = DEPLOY.read_text().split("## Configuration reference", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", section, flags=re.MULTILINE)
    names = [name for name, _ in rows]
    assert len(names) == len(set(names)), "a variable is listed twice"
    return dict(rows)


def _app_defaults() -> dict[str, str]:
    defaults = {}
    for name, field in Settings.model_fields.items():
        value = field.default
        defaults[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return defaults


def _gunicorn_defaults() -> dict[str, str]:
    source = (ROOT / "gunicorn.conf.py").read_text()
    found = re.findall(r"""os\.environ\.get\(\s*["'](\w+)["']\s*,\s*["']([^"']*)["']""", source)
    assert len(found) >= 9 and "environ[" not in source  # every read has a default
    return dict(found)


def test_the_reference_lists_exactly_the_settings_that_exist() -> None:
    documented = set(_reference())
    assert documented == set(_app_defaults()) | set(_gunicorn_defaults())


def test_each_default_is_the_real_one() -> None:
    reference = _reference()
    for source in (_app_defaults(), _gunicorn_defaults()):
        for name, default in source.items():
            cell = reference[name]
            if default == "":
                assert cell.startswith("empty"), name
            else:
                assert f"`{default}`" in cell, f"{name}: {cell!r} lacks `{default}`"


def test_the_readme_points_to_it() -> None:
    assert "docs/deploy.md" in (ROOT / "README.md").read_text()
