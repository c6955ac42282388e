"""docker-compose.yml is wired correctly (no Docker engine runs on our machines)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_compose_wiring() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    db, app = compose["services"]["db"], compose["services"]["app"]
    assert db["image"].startswith("postgres:16")
    assert any(v.endswith(":/var/lib/postgresql/data") for v in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert app["build"]["context"] == "."
    assert (ROOT / app["build"].get("dockerfile", "Dockerfile")).is_file()
    url = app["environment"]["DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@db:5432/" in url
    user, database = db["environment"]["POSTGRES_USER"], db["environment"]["POSTGRES_DB"]
    assert f"//{user}:" in url and url.endswith(f"/{database}")
    assert app["depends_on"]["db"]["condition"] == "service_healthy"
    assert "dealbook migrate" in app["command"][-1] and "gunicorn" in app["command"][-1]
    assert "/readyz" in " ".join(app["healthcheck"]["test"])  # healthy once it can serve
    assert app["environment"]["WEB_CONCURRENCY"] == "2"
    assert app["ports"] == ["8000:8000"]
    top_volumes = set(compose["volumes"])
    assert {v.split(":")[0] for v in db["volumes"]} <= top_volumes


def test_dockerfile_installs_the_package_and_htmx() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "npm ci" in dockerfile and "htmx.min.js" in dockerfile
    assert "pip install" in dockerfile
    assert "python:3.11" in dockerfile
    # The PDF report: Pango and fonts in the image, and the methodology it prints.
    assert "libpango-1.0-0" in dockerfile and "fonts-dejavu-core" in dockerfile
    assert "COPY docs ./docs" in dockerfile and "COPY static ./static" in dockerfile
