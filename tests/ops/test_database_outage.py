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

from tests.ops import harness as ops

pytestmark = pytest.mark.postgres
API = f"/api/v1/deals/{ops.SLUG}"


def _save_version(base: str, auth: dict[str, str], ratio: float) -> int:
    """Preview and confirm an upload through the API; the confirm's status."""
    template = ops.call(base, "GET", f"/deals/{ops.SLUG}/assumptions.json", headers=auth["page"])
    doc = json.loads(template.body)
    doc["deal_terms"]["exchange_ratio"] = ratio
    body, kind = ops.multipart("assumptions.json", json.dumps(doc).encode())
    api = {"Authorization": auth["token"]}
    preview = ops.call(base, "POST", f"{API}/assumptions", body, {**api, "Content-Type": kind})
    assert preview.status == 200, preview.text
    confirm = json.dumps({"token": preview.json()["token"]}).encode()
    headers = {**api, "Content-Type": "application/json"}
    return ops.call(base, "POST", f"{API}/assumptions/confirm", confirm, headers).status


def test_database_outage_is_a_503_with_reference_then_recovers(tmp_path: Path) -> None:
    with (
        ops.throwaway_cluster() as cluster,
        ops.gunicorn(cluster.url(), tmp_path, workers=2) as server,
    ):
        base = server.base
        page = ops.login_headers(base)
        auth = {"page": page, "token": f"Bearer {ops.api_token(cluster.url())}"}
        api = {"Authorization": auth["token"]}
        assert _save_version(base, auth, 0.125) == 201
        workers = server.workers()

        cluster.stop()
        # Several of each, so both workers (each with its own pool) meet the outage.
        for n in range(4):
            reference = f"outage-page-{n}"
            reply = ops.call(
                base, "GET", f"/deals/{ops.SLUG}", headers={**page, "X-Request-ID": reference}
            )
            assert reply.status == 503 and reply.headers["retry-after"] == "5"
            assert reply.headers["x-request-id"] == reference
            assert "Dealbook is briefly unavailable" in reply.text
            assert "nothing was lost" in reply.text
            assert re.search(rf'<code id="request-id">{reference}</code>', reply.text)
            assert "Traceback" not in reply.text and "psycopg" not in reply.text

            reply = ops.call(base, "GET", API, headers={**api, "X-Request-ID": f"outage-api-{n}"})
            assert reply.status == 503 and reply.headers["x-request-id"] == f"outage-api-{n}"
            (problem,) = reply.json()["detail"]
            assert "nothing was lost" in problem["msg"]
            assert problem["msg"].endswith(f"Reference: outage-api-{n}.")

            body, kind = ops.multipart("assumptions.json", b"{}")
            write = ops.call(
                base, "POST", f"{API}/assumptions", body, {**api, "Content-Type": kind}
            )
            assert write.status == 503

            assert ops.call(base, "GET", "/healthz").status == 200
            ready = ops.call(base, "GET", "/readyz")
            assert ready.status == 503 and ready.json()["status"] == "unavailable"
            assert ready.json()["database"] == "OperationalError"

        cluster.start()
        ops.wait_until(
            lambda: ops.call(base, "GET", "/readyz").status == 200, 20, "/readyz after restart"
        )
        for _ in range(4):  # both workers' pools reconnect by themselves (pre-ping)
            assert ops.call(base, "GET", f"/deals/{ops.SLUG}", headers=page).status == 200
            assert ops.call(base, "GET", API, headers=api).status == 200
        assert _save_version(base, auth, 0.126) == 201
        versions = ops.call(base, "GET", f"{API}/assumptions", headers=api).json()
        assert [v["version"] for v in versions] == [3, 2, 1]
        assert server.workers() == workers  # recovered without a restart
        log = server.log_lines()
        text = server.log_text()

    outage = [line for line in log if str(line.get("request_id", "")).startswith("outage-")]
    assert {line["status"] for line in outage if line["event"] == "request"} == {503}
    assert any(line["event"] == "database unavailable" for line in outage)
    assert "Traceback" not in text
