"""/healthz and /readyz as a load balancer sees them (both databases).

Ready means the database answers in time and its schema is at this release's head or newer
(a rolling deploy migrates before the old machines are replaced); a schema behind the code,
or a database that does not answer within the timeout, is not ready.
"""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.orm import Session

from app import health


def _stamp(session: Session, revision: str) -> None:
    session.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    session.commit()


def test_healthz_touches_nothing(anonymous: TestClient) -> None:
    response = anonymous.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_ready_at_head(anonymous: TestClient) -> None:
    response = anonymous.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "head"}


def test_ready_on_a_newer_schema_during_a_rolling_deploy(
    anonymous: TestClient, session: Session
) -> None:
    _stamp(session, "f00dfacef00d")  # a revision only the next release knows
    response = anonymous.get("/readyz")
    assert response.status_code == 200
    assert (
        response.json()["migrations"] == f"newer (f00dfacef00d) than this release's {health.HEAD}"
    )


def test_not_ready_on_a_schema_behind_the_code(anonymous: TestClient, session: Session) -> None:
    older = next(r for r in sorted(health.KNOWN) if r != health.HEAD)
    _stamp(session, older)
    response = anonymous.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "database": "ok",
        "migrations": f"at {older}, head is {health.HEAD}",
    }


def test_a_hanging_database_is_not_ready_in_bounded_time_with_one_check_in_flight(
    anonymous: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    release, calls = threading.Event(), []

    def hangs(_factory: object) -> dict[str, str]:
        calls.append(1)
        release.wait(10)
        return {"database": "ok", "migrations": "head"}

    monkeypatch.setattr(health, "_check", hangs)
    monkeypatch.setattr(health, "READY_TIMEOUT_S", 0.2)
    try:
        for _ in range(3):
            started = time.monotonic()
            response = anonymous.get("/readyz")
            assert time.monotonic() - started < 2
            assert response.status_code == 503
            assert response.json() == {
                "status": "unavailable",
                "database": "no answer within 0.2 s",
            }
        assert calls == [1]  # the probes shared the one stuck check
    finally:
        release.set()
    # Once the database answers, the shared check's result is the next probe's answer.
    for _ in range(50):
        if anonymous.get("/readyz").status_code == 200:
            break
        time.sleep(0.05)
    assert anonymous.get("/readyz").json()["migrations"] == "head"
