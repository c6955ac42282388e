"""A client that hangs up in the middle of an upload leaves nothing stored.

Raw sockets send the headers with the full Content-Length and part of the body to each
upload route (API and pages, preview and confirm), then close. Previews store nothing by
design (their token is signed, not a row), so the proof is that no version, valuation run
or audit row appears; the log has one 499 line per request and no traceback; the server
keeps serving, and the very same confirm, sent whole, is stored.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import func, select

from app.assumptions.models import AssumptionSet
from app.audit.models import AuditEvent
from app.db import make_engine, make_session_factory
from app.valuation.models import ValuationRun
from tests.ops import harness as ops

pytestmark = pytest.mark.postgres
API = f"/api/v1/deals/{ops.SLUG}/assumptions"


def _send_part(base: str, path: str, headers: dict[str, str], body: bytes, request_id: str):
    """Announce all of `body`, send half of it, and hang up."""
    parts = urlsplit(base)
    head = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {len(body)}"]
    head += [f"{k}: {v}" for k, v in {**headers, "X-Request-ID": request_id}.items()]
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body[: len(body) // 2])


def _stored(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            return (
                session.scalar(select(func.count()).select_from(AssumptionSet)),
                session.scalar(select(func.count()).select_from(ValuationRun)),
                session.scalar(
                    select(func.count()).where(AuditEvent.action == "assumptions.upload")
                ),
            )
    finally:
        engine.dispose()


def test_a_client_gone_mid_upload_leaves_nothing(tmp_path: Path) -> None:
    with (
        ops.scratch_database("disconnect") as url,
        ops.gunicorn(url, tmp_path, workers=2) as server,
    ):
        base, page = server.base, ops.login_headers(server.base)
        api = {"Authorization": f"Bearer {ops.api_token(url)}"}
        template = json.loads(
            ops.call(base, "GET", f"/deals/{ops.SLUG}/assumptions.json", headers=page).body
        )
        template["deal_terms"]["exchange_ratio"] = 0.13
        upload, kind = ops.multipart("assumptions.json", json.dumps(template).encode())
        preview = ops.call(base, "POST", API, upload, {**api, "Content-Type": kind})
        token = preview.json()["token"]
        before = _stored(url)

        confirm_json = json.dumps({"token": token, "note": "cut"}).encode()
        confirm_form = urlencode({"token": token, "note": "cut"}).encode()
        form = {**page, "Content-Type": "application/x-www-form-urlencoded"}
        cuts = {
            "cut-api-preview": (API, {**api, "Content-Type": kind}, upload),
            "cut-api-confirm": (
                f"{API}/confirm",
                {**api, "Content-Type": "application/json"},
                confirm_json,
            ),
            "cut-page-upload": (
                f"/deals/{ops.SLUG}/upload",
                {**page, "Content-Type": kind},
                upload,
            ),
            "cut-page-confirm": (f"/deals/{ops.SLUG}/upload/confirm", form, confirm_form),
        }
        for request_id, (path, headers, body) in cuts.items():
            _send_part(base, path, headers, body, request_id)

        def logged() -> list[dict]:
            return [line for line in server.log_lines() if line.get("request_id") in cuts]

        ops.wait_until(lambda: len(logged()) >= len(cuts), 15, "a log line per cut request")
        assert ops.call(base, "GET", "/healthz").status == 200
        assert _stored(url) == before  # no version, no run, no audit row

        # The same confirm sent whole is stored: the cut one was refused for being cut.
        whole = ops.call(base, "POST", f"/deals/{ops.SLUG}/upload/confirm", confirm_form, form)
        assert whole.status == 303
        assert _stored(url) == (before[0] + 1, before[1] + 1, before[2] + 1)
        lines, text = logged(), server.log_text()

    assert {line["request_id"]: line["status"] for line in lines} == dict.fromkeys(cuts, 499)
    assert all(line["disconnected"] is True and line["event"] == "request" for line in lines)
    assert "Traceback" not in text and '"unhandled"' not in text
