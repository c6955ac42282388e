"""Cross-cutting behaviour of the app shell."""

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.deals.models import Deal
from app.main import create_app
from app.settings import Settings
from tests.deals.test_api import NEW_DEAL


@pytest.fixture
def failing_commit(session_factory) -> Iterator[None]:
    """Make every commit fail, as a dropped connection or a full disk would."""

    def boom(_session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk full"))

    event.listen(session_factory, "before_commit", boom)
    yield
    event.remove(session_factory, "before_commit", boom)


def test_a_failed_commit_is_an_error_not_a_201(
    client: TestClient, session: Session, failing_commit: None
) -> None:
    no_raise = TestClient(client.app, raise_server_exceptions=False, headers=client.headers)
    response = no_raise.post("/api/v1/deals", json=NEW_DEAL)
    # A database failure at commit is a 503 that says nothing was lost, never a 201.
    assert response.status_code == 503 and response.headers["retry-after"] == "5"
    assert "nothing was lost" in response.json()["detail"][0]["msg"]
    assert session.scalar(select(func.count()).select_from(Deal)) == 0


def test_static_htmx_is_served(client: TestClient) -> None:
    response = client.get("/static/vendor/htmx.min.js")
    assert response.status_code == 200, "run `make` setup: htmx is copied from node_modules"
    assert "htmx" in response.text[:2000]


def test_a_served_app_freezes_what_start_up_loaded(tmp_path: Path) -> None:
    """Full collections would otherwise rescan every module, mapper and template each time
    (130-230 ms a worker under load)."""
    gc.unfreeze()
    with TestClient(create_app(Settings(database_url=f"sqlite:///{tmp_path}/app.db"))):
        frozen = gc.get_freeze_count()
    gc.unfreeze()
    assert frozen > 50_000
