"""A database that hangs (here: tables locked by another session) stalls only the requests
that wait on it, never the worker: routes do their database work in the threadpool, so the
event loop keeps answering /healthz, and /readyz gives up after its timeout.

One worker, so there is no other process to answer for a stalled one.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.health import READY_TIMEOUT_S
from tests.ops import harness as ops

pytestmark = pytest.mark.postgres


def _waiting_on_locks(dsn: str) -> int:
    """How many of the app's queries are waiting for a lock right now."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        ).fetchone()[0]


def _timed(base: str, path: str) -> tuple[ops.Reply, float]:
    started = time.monotonic()
    reply = ops.call(base, "GET", path, timeout=10)
    return reply, time.monotonic() - started


def test_a_blocked_database_does_not_stall_the_worker(tmp_path: Path) -> None:
    with ops.scratch_database("blocked") as url, ops.gunicorn(url, tmp_path, workers=1) as server:
        base = server.base
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        page = ops.login_headers(base)
        api = {"Authorization": f"Bearer {ops.api_token(url)}"}
        template = ops.call(base, "GET", f"/deals/{ops.SLUG}/assumptions.json", headers=page)
        upload, kind = ops.multipart("a.json", json.dumps(json.loads(template.body)).encode())
        stalled: dict[str, int] = {}

        def send(name: str, method: str, path: str, body=None, headers=None) -> None:
            stalled[name] = ops.call(base, method, path, body, headers, timeout=30).status

        blocker = psycopg.connect(dsn)
        try:
            blocker.execute("LOCK TABLE deals IN ACCESS EXCLUSIVE MODE")
            requests = [
                ("upload", "POST", f"/api/v1/deals/{ops.SLUG}/assumptions", upload,
                 {**api, "Content-Type": kind}),
                ("page", "GET", f"/deals/{ops.SLUG}", None, page),
            ]  # fmt: skip
            threads = [threading.Thread(target=send, args=r) for r in requests]
            for thread in threads:
                thread.start()
            ops.wait_until(lambda: _waiting_on_locks(dsn) >= 2, 10, "requests stuck on the lock")

            health, seconds = _timed(base, "/healthz")
            assert health.status == 200 and seconds < 1.0, seconds
            ready, seconds = _timed(base, "/readyz")  # its check reads no locked table
            assert ready.status == 200 and seconds < 1.0, seconds

            blocker.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
            for _ in range(2):  # the second probe shares the first one's stuck check
                ready, seconds = _timed(base, "/readyz")
                assert ready.status == 503, ready.text
                assert ready.json()["database"] == f"no answer within {READY_TIMEOUT_S:g} s"
                assert READY_TIMEOUT_S - 0.1 < seconds < READY_TIMEOUT_S + 1.5, seconds
            assert _waiting_on_locks(dsn) == 3  # two requests and one readiness check
            health, seconds = _timed(base, "/healthz")
            assert health.status == 200 and seconds < 1.0, seconds
        finally:
            blocker.rollback()
            blocker.close()
        for thread in threads:
            thread.join(timeout=30)
        assert stalled == {"upload": 200, "page": 200}  # they finish once the lock is gone
        assert ops.call(base, "GET", "/readyz").status == 200
