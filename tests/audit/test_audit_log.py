"""The audit log: every write route leaves exactly one row (who, what, which version, from
where) in the write's own transaction, and nothing can change or remove a row; both
databases."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.audit.models import AuditEvent, AuditLogIsAppendOnly
from app.auth.models import ApiToken, Role
from tests.auth.test_access_matrix import app_routes
from tests.conftest import PASSWORD, csrf_of
from tests.deals.test_forms import FORM, _form_values

SLUG = "coreweave-core-scientific"
DEAL = f"/deals/{SLUG}"
ORIGIN = {"Origin": "http://testserver"}


def _inputs(html: str) -> dict[str, str]:
    return dict(re.findall(r'<input[^>]*? name="([^"]+)" value="([^"]*)"', html))


def _page_post(client: TestClient, url: str, data: dict | None = None, **kwargs):
    token = csrf_of(client)
    headers = ORIGIN | {"X-CSRF-Token": token}
    return client.post(url, data=(data or {}) | {"csrf_token": token}, headers=headers, **kwargs)


def _upload_token(client: TestClient) -> str:
    template = json.loads(client.get(f"{DEAL}/assumptions.json").text)
    template["deal_terms"]["exchange_ratio"] = 0.13
    files = {"file": ("a.json", json.dumps(template).encode(), "application/json")}
    return client.post(f"/api/v1{DEAL}/assumptions", files=files).json()["token"]


def _log_in_again(client: TestClient):
    client.cookies.delete("dealbook_session")
    token = client.cookies["dealbook_csrf"]
    form = {"csrf_token": token, "username": "root", "password": PASSWORD}
    return client.post("/login", data=form, follow_redirects=False)


def _token_id(client: TestClient, session: Session) -> int:
    _page_post(client, "/account/tokens", {"name": "to revoke"})
    return session.scalar(select(ApiToken.id).where(ApiToken.name == "to revoke"))


Write = Callable[[TestClient, Session], object]
WRITES: dict[tuple[str, str], tuple[str, Write]] = {
    ("POST", "/login"): ("auth.login", lambda c, s: _log_in_again(c)),
    ("POST", "/logout"): ("auth.logout", lambda c, s: _page_post(c, "/logout")),
    ("POST", "/account/password"): (
        "auth.password",
        lambda c, s: _page_post(
            c,
            "/account/password",
            {
                "current": PASSWORD,
                "new": "an entirely new phrase",
                "again": "an entirely new phrase",
            },
        ),
    ),
    ("POST", "/account/tokens"): (
        "token.create",
        lambda c, s: _page_post(c, "/account/tokens", {"name": "script"}),
    ),
    ("POST", "/account/tokens/{token_id}/revoke"): (
        "token.revoke",
        lambda c, s: _page_post(c, f"/account/tokens/{_token_id(c, s)}/revoke"),
    ),
    ("POST", "/deals"): ("deal.create", lambda c, s: _page_post(c, "/deals", FORM)),
    ("POST", "/deals/{slug}/edit"): (
        "deal.update",
        lambda c, s: _page_post(
            c,
            f"{DEAL}/edit",
            {**_form_values(c.get(f"{DEAL}/edit").text), "summary": "Edited by the audit test"},
        ),
    ),
    ("POST", "/deals/{slug}/delete"): (
        "deal.delete",
        lambda c, s: _page_post(c, f"{DEAL}/delete", {"revision": "1"}),
    ),
    ("POST", "/deals/{slug}/versions"): (
        "assumptions.save",
        lambda c, s: _page_post(
            c, f"{DEAL}/versions", _inputs(c.get(DEAL).text) | {"note": "audited"}
        ),
    ),
    ("POST", "/deals/{slug}/versions/{number}/revert"): (
        "assumptions.revert",
        lambda c, s: _page_post(
            c, f"{DEAL}/versions/1/revert", {"parent_id": _inputs(c.get(DEAL).text)["parent_id"]}
        ),
    ),
    ("POST", "/deals/{slug}/upload/confirm"): (
        "assumptions.upload",
        lambda c, s: _page_post(c, f"{DEAL}/upload/confirm", {"token": _upload_token(c)}),
    ),
    ("POST", "/admin/users"): (
        "user.create",
        lambda c, s: _page_post(c, "/admin/users", {"username": "newbie", "role": "viewer"}),
    ),
    ("POST", "/admin/users/{username}/role"): (
        "user.role",
        lambda c, s: _page_post(c, "/admin/users/someone/role", {"role": "analyst"}),
    ),
    ("POST", "/admin/users/{username}/password"): (
        "user.password",
        lambda c, s: _page_post(c, "/admin/users/someone/password"),
    ),
    ("POST", "/admin/users/{username}/active"): (
        "user.disable",
        lambda c, s: _page_post(c, "/admin/users/someone/active", {"active": "false"}),
    ),
    ("POST", "/deals/{slug}/team"): (
        "team.add",
        lambda c, s: _page_post(c, f"{DEAL}/team", {"username": "someone"}),
    ),
    ("POST", "/deals/{slug}/team/{username}/remove"): (
        "team.remove",
        lambda c, s: _page_post(c, f"{DEAL}/team/someone/remove"),
    ),
    ("POST", "/api/v1/deals"): (
        "deal.create",
        lambda c, s: c.post(
            "/api/v1/deals",
            json={
                "name": "Acme – Bolt",
                "acquirer": {"name": "Acme"},
                "target": {"name": "Bolt"},
                "announced": "2026-01-01",
                "consideration": "Cash",
            },
        ),
    ),
    ("POST", "/api/v1/deals/{slug}/valuations"): (
        "valuation.run",
        lambda c, s: c.post(f"/api/v1{DEAL}/valuations"),
    ),
    ("POST", "/api/v1/deals/{slug}/assumptions/confirm"): (
        "assumptions.upload",
        lambda c, s: c.post(f"/api/v1{DEAL}/assumptions/confirm", json={"token": _upload_token(c)}),
    ),
}
READS = {
    ("POST", "/deals/{slug}/preview"),  # values unsaved edits; stores nothing
    ("POST", "/deals/{slug}/upload"),  # previews a file; stores nothing
    ("POST", "/api/v1/deals/{slug}/assumptions"),
    ("POST", "/api/v1/calc/dcf"),
    ("POST", "/api/v1/calc/exchange"),
}


def _count(session: Session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def test_every_state_changing_route_is_listed(client: TestClient) -> None:
    posts = {route for route in app_routes(client.app) if route[0] != "GET"}
    assert posts == WRITES.keys() | READS


@pytest.mark.parametrize("route", sorted(WRITES), ids=lambda r: f"{r[0]} {r[1]}")
def test_each_write_leaves_exactly_one_audit_row(
    route: tuple[str, str], client: TestClient, seeded: Session, make_user
) -> None:
    make_user("someone", Role.VIEWER)
    action, write = WRITES[route]
    client.get("/login")  # the anonymous CSRF cookie, for the login form
    # Whatever a write needs set up first (a token to revoke, an upload to confirm) may write
    # rows of its own; what counts is the rows the write request itself adds.
    before = _count(seeded)
    response = write(client, seeded)
    assert response.status_code < 400, (route, response.status_code, response.text[:300])
    events = seeded.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()[before:]
    setup = [e for e in events if e.action == "token.create" and action == "token.revoke"]
    written = [e for e in events if e not in setup]
    assert [e.action for e in written] == [action]
    event = written[0]
    assert event.actor == "root" and event.address == "testclient"
    if action.startswith("assumptions."):
        assert event.deal_id is not None and event.version is not None


def test_failed_writes_leave_no_row(client: TestClient, seeded: Session) -> None:
    stale = _inputs(client.get(DEAL).text)
    saved = _page_post(client, f"{DEAL}/versions", stale, follow_redirects=False)
    assert saved.status_code == 303
    before = _count(seeded)
    token = csrf_of(client)
    conflict = client.post(
        f"{DEAL}/versions",
        data=stale | {"csrf_token": token},
        headers=ORIGIN | {"X-CSRF-Token": token, "HX-Request": "true"},
    )
    assert conflict.status_code == 409  # based on v1, v2 exists: refused, nothing written
    assert _count(seeded) == before


def test_audit_rows_cannot_be_changed_or_removed(client: TestClient, seeded: Session) -> None:
    client.post(f"/api/v1{DEAL}/valuations")
    event = seeded.scalars(select(AuditEvent)).first()
    event.summary = "rewritten history"
    with pytest.raises(AuditLogIsAppendOnly):
        seeded.flush()
    seeded.rollback()
    for statement in ("UPDATE audit_events SET summary = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"), seeded.begin_nested():
            seeded.execute(text(statement))
    assert _count(seeded) >= 1


def test_admins_can_browse_and_filter_the_log(client: TestClient, seeded: Session) -> None:
    client.post(f"/api/v1{DEAL}/valuations")
    page = client.get("/admin/audit", params={"action": "valuation.run", "deal": SLUG})
    assert page.status_code == 200
    assert "valuation.run" in page.text and "CoreWeave – Core Scientific" in page.text
    assert "Valued v1" in page.text
    none = client.get("/admin/audit", params={"actor": "nobody-at-all"})
    assert "0 events" in none.text
