"""PostgreSQL stopped and started again under a running app (a throwaway cluster of the
test's own; the machine's shared server is never touched).

While it is away, pages and the API answer 503 with a message and the request id, never a
traceback; /healthz stays up and /readyz says not ready. Once it is back the same workers
(no restart) serve reads and writes again.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.ops.conftest import (
    SLUG,
    api_token,
    call,
    gunicorn,
    login_headers,
    multipart,
    throwaway_cluster,
    wait_until,
)

pytestmark = pytest.mark.postgres
API = f"/api/v1/deals/{SLUG}"


def _save_version(base: str, auth: dict[str, str], ratio: float) -> int:
    """Preview and confirm an upload through the API; the confirm's status."""
    template = call(base, "GET", f"/deals/{SLUG}/assumptions.json", headers=auth["page"])
    doc = json.loads(template.body)
    doc["deal_terms"]["exchange_ratio"] = ratio
    body, kind = multipart("assumptions.json", json.dumps(doc).encode())
    api = {"Authorization": auth["token"]}
    preview = call(base, "POST", f"{API}/assumptions", body, {**api, "Content-Type": kind})
    assert preview.status == 200, preview.text
    confirm = json.dumps({"token": preview.json()["token"]}).encode()
    headers = {**api, "Content-Type": "application/json"}
    return call(base, "POST", f"{API}/assumptions/confirm", confirm, headers).status


def test_database_outage_is_a_503_with_reference_then_recovers(tmp_path: Path) -> None:
    with throwaway_cluster() as cluster, gunicorn(cluster.url(), tmp_path, workers=2) as server:
        base = server.base
        page = login_headers(base)
        auth = {"page": page, "token": f"Bearer {api_token(cluster.url())}"}
        api = {"Authorization": auth["token"]}
        assert _save_version(base, auth, 0.125) == 201
        workers = server.workers()

        cluster.stop()
        # Several of each, so both workers (each with its own pool) meet the outage.
        for n in range(4):
            reference = f"outage-page-{n}"
            reply = call(base, "GET", f"/deals/{SLUG}", headers={**page, "X-Request-ID": reference})
            assert reply.status == 503 and reply.headers["retry-after"] == "5"
            assert reply.headers["x-request-id"] == reference
            assert "Dealbook is briefly unavailable" in reply.text
            assert "nothing was lost" in reply.text
            assert re.search(rf'<code id="request-id">{reference}</code>', reply.text)
            assert "Traceback" not in reply.text and "psycopg" not in reply.text

            reply = call(base, "GET", API, headers={**api, "X-Request-ID": f"outage-api-{n}"})
            assert reply.status == 503 and reply.headers["x-request-id"] == f"outage-api-{n}"
            (problem,) = reply.json()["detail"]
            assert "nothing was lost" in problem["msg"]
            assert problem["msg"].endswith(f"Reference: outage-api-{n}.")

            body, kind = multipart("assumptions.json", b"{}")
            write = call(base, "POST", f"{API}/assumptions", body, {**api, "Content-Type": kind})
            assert write.status == 503

            assert call(base, "GET", "/healthz").status == 200
            ready = call(base, "GET", "/readyz")
            assert ready.status == 503 and ready.json()["status"] == "unavailable"
            assert ready.json()["database"] == "OperationalError"

        cluster.start()
        wait_until(lambda: call(base, "GET", "/readyz").status == 200, 20, "/readyz after restart")
        for _ in range(4):  # both workers' pools reconnect by themselves (pre-ping)
            assert call(base, "GET", f"/deals/{SLUG}", headers=page).status == 200
            assert call(base, "GET", API, headers=api).status == 200
        assert _save_version(base, auth, 0.126) == 201
        versions = call(base, "GET", f"{API}/assumptions", headers=api).json()
        assert [v["version"] for v in versions] == [3, 2, 1]
        assert server.workers() == workers  # recovered without a restart
        log = server.log_lines()
        text = server.log_text()

    outage = [line for line in log if str(line.get("request_id", "")).startswith("outage-")]
    assert {line["status"] for line in outage if line["event"] == "request"} == {503}
    assert any(line["event"] == "database unavailable" for line in outage)
    assert "Traceback" not in text
