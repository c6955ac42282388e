"""Fixtures for the deal workspace: a seeded deal and the browser's CSRF token."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import csrf_of


@pytest.fixture
def token(client: TestClient, seeded: Session) -> str:
    """Open the seeded deal page once, as a browser would, and keep its CSRF cookie."""
    page = client.get("/deals/coreweave-core-scientific")
    assert page.status_code == 200
    return csrf_of(client)
