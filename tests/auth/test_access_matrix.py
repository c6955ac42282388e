"""The access matrix: every route of the app x {anonymous, viewer, analyst, non-member, admin}.

The routes come from the app's own route table, so a new route without an entry below fails
this test. Each request runs in a savepoint that is rolled back, so one principal's write
(a delete, say) never changes what the next one sees. The PDF and workbook builders are
replaced by stubs here: this test is about who may ask, and they have their own tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import ApiToken, Role
from app.web.csrf import COOKIE, HEADER
from tests.conftest import csrf_of, login

SLUG = "coreweave-core-scientific"

PUBLIC, ACCOUNT, VIEWER, ANALYST, DEAL_VIEWER, DEAL_ANALYST, ADMIN = (
    "public",
    "account",
    "viewer",
    "analyst",
    "deal-viewer",
    "deal-analyst",
    "admin",
)
ACCESS = {
    ("GET", "/docs"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("GET", "/account"): ACCOUNT,
    ("GET", "/account/password"): ACCOUNT,
    ("POST", "/account/password"): ACCOUNT,
    ("POST", "/account/tokens"): ACCOUNT,
    ("POST", "/account/tokens/{token_id}/revoke"): ACCOUNT,
    ("GET", "/"): VIEWER,
    ("GET", "/deals/new"): ANALYST,
    ("POST", "/deals"): ANALYST,
    ("GET", "/deals/{slug}/edit"): DEAL_ANALYST,
    ("POST", "/deals/{slug}/edit"): DEAL_ANALYST,
    ("POST", "/deals/{slug}/delete"): DEAL_ANALYST,
    ("GET", "/deals/{slug}/assumptions.{kind}"): DEAL_ANALYST,
    ("GET", "/deals/{slug}"): DEAL_VIEWER,
    ("GET", "/deals/{slug}/valuation"): DEAL_VIEWER,
    ("POST", "/deals/{slug}/preview"): DEAL_ANALYST,
    ("POST", "/deals/{slug}/versions"): DEAL_ANALYST,
    ("GET", "/deals/{slug}/versions"): DEAL_VIEWER,
    ("POST", "/deals/{slug}/versions/{number}/revert"): DEAL_ANALYST,
    ("GET", "/deals/{slug}/versions/compare"): DEAL_VIEWER,
    ("POST", "/deals/{slug}/upload"): DEAL_ANALYST,
    ("POST", "/deals/{slug}/upload/confirm"): DEAL_ANALYST,
    ("GET", "/deals/{slug}/report.pdf"): DEAL_ANALYST,
    ("GET", "/deals/{slug}/versions/{number}/report.pdf"): DEAL_ANALYST,
    ("GET", "/deals/{slug}/model.xlsx"): DEAL_ANALYST,
    ("GET", "/deals/{slug}/versions/{number}/model.xlsx"): DEAL_ANALYST,
    ("GET", "/admin/users"): ADMIN,
    ("POST", "/admin/users"): ADMIN,
    ("POST", "/admin/users/{username}/role"): ADMIN,
    ("POST", "/admin/users/{username}/password"): ADMIN,
    ("POST", "/admin/users/{username}/active"): ADMIN,
    ("GET", "/deals/{slug}/team"): ADMIN,
    ("POST", "/deals/{slug}/team"): ADMIN,
    ("POST", "/deals/{slug}/team/{username}/remove"): ADMIN,
    ("GET", "/admin/audit"): ADMIN,
    ("GET", "/api/v1/me"): VIEWER,
    ("GET", "/api/v1/deals"): VIEWER,
    ("GET", "/api/v1/deals/{slug}"): DEAL_VIEWER,
    ("POST", "/api/v1/deals"): ANALYST,
    ("GET", "/api/v1/deals/{slug}/assumptions"): DEAL_VIEWER,
    ("POST", "/api/v1/calc/dcf"): VIEWER,
    ("POST", "/api/v1/calc/exchange"): VIEWER,
    ("GET", "/api/v1/deals/{slug}/valuation"): DEAL_VIEWER,
    ("POST", "/api/v1/deals/{slug}/valuations"): DEAL_ANALYST,
    ("POST", "/api/v1/deals/{slug}/assumptions"): DEAL_ANALYST,
    ("POST", "/api/v1/deals/{slug}/assumptions/confirm"): DEAL_ANALYST,
}
PRINCIPALS = ("anonymous", "viewer", "analyst", "outsider", "admin")
ALLOWED, LOGIN, FORBIDDEN, HIDDEN = "allowed", "login", "forbidden", "hidden"
EXPECTED = {
    PUBLIC: dict.fromkeys(PRINCIPALS, ALLOWED),
    ACCOUNT: {"anonymous": LOGIN} | dict.fromkeys(PRINCIPALS[1:], ALLOWED),
    VIEWER: {"anonymous": LOGIN} | dict.fromkeys(PRINCIPALS[1:], ALLOWED),
    ANALYST: {"anonymous": LOGIN, "viewer": FORBIDDEN}
    | dict.fromkeys(("analyst", "outsider", "admin"), ALLOWED),
    DEAL_VIEWER: {
        "anonymous": LOGIN,
        "viewer": ALLOWED,
        "analyst": ALLOWED,
        "outsider": HIDDEN,
        "admin": ALLOWED,
    },
    DEAL_ANALYST: {
        "anonymous": LOGIN,
        "viewer": FORBIDDEN,
        "analyst": ALLOWED,
        "outsider": HIDDEN,
        "admin": ALLOWED,
    },
    ADMIN: {"anonymous": LOGIN}
    | dict.fromkeys(("viewer", "analyst", "outsider"), FORBIDDEN)
    | {"admin": ALLOWED},
}


def app_routes(app) -> Iterator[tuple[str, str]]:
    """(method, path) of every route, through included routers."""

    def walk(routes, prefix: str = "") -> Iterator[tuple[str, str]]:
        for route in routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods - {"HEAD"}):
                    yield method, prefix + route.path
            elif hasattr(route, "original_router"):
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)

    yield from walk(app.routes)


@dataclass
class Who:
    client: TestClient
    token_id: int | None


@pytest.fixture
def principals(
    anonymous: TestClient, seeded: Session, make_user, session_factory: sessionmaker[Session]
) -> dict[str, Who]:
    app = anonymous.app
    users = {
        "viewer": make_user("viewer", Role.VIEWER, teams=(SLUG,)),
        "analyst": make_user("analyst", Role.ANALYST, teams=(SLUG,)),
        "outsider": make_user("outsider", Role.ANALYST),
        "admin": make_user("boss", Role.ADMIN),
    }
    anonymous.get("/login")  # the anonymous CSRF cookie
    who = {"anonymous": Who(anonymous, None)}
    for name, user in users.items():
        client = TestClient(app)
        login(client, user, session_factory)
        with session_factory() as db:
            token = db.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).first()
        who[name] = Who(client, token.id)
    return who


def _url(path: str, who: Who) -> str:
    values = {"slug": SLUG, "number": "1", "kind": "json", "username": "viewer"}
    values["token_id"] = str(who.token_id or 1)
    url = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
    return url + ("?a=1&b=1" if path.endswith("/compare") else "")


def _request(method: str, path: str, who: Who):
    client = who.client
    url = _url(path, who)
    if method == "GET":
        return client.get(url, follow_redirects=False)
    if path.startswith("/api/"):
        if path.endswith("/assumptions"):
            return client.post(url, files={"file": ("a.json", b"{}", "application/json")})
        # A body that passes validation where the route reads one, so the deal lookup runs.
        return client.post(url, json={"token": "x"} if path.endswith("/confirm") else {})
    token = csrf_of(client) if "dealbook_session" in client.cookies else client.cookies[COOKIE]
    headers = {HEADER: token, "Origin": "http://testserver"}
    if path.endswith("/upload"):
        files = {"file": ("a.json", b"{}", "application/json")}
        return client.post(url, files=files, headers=headers, follow_redirects=False)
    form = {"csrf_token": token, "role": "viewer", "active": "true", "username": "viewer"}
    return client.post(url, data=form, headers=headers, follow_redirects=False)


def outcome(response, path: str) -> str:
    if response.status_code == 401 and path != "/login":  # the login form's own refusal
        return LOGIN
    location = response.headers.get("location", "")
    if response.status_code == 303 and location.startswith("/login?next="):
        return LOGIN
    if response.status_code == 403:
        return FORBIDDEN
    if response.status_code == 404 and "No deal called" in response.text:
        return HIDDEN
    return ALLOWED


def test_every_route_has_an_entry(anonymous: TestClient) -> None:
    routes = set(app_routes(anonymous.app))
    assert routes - ACCESS.keys() == set(), "new routes need an entry in ACCESS"
    assert ACCESS.keys() - routes == set(), "ACCESS names routes the app no longer has"


def test_access_matrix(
    principals: dict[str, Who], connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.reports.pdf.render", lambda source, paper="a4": b"%PDF-stub")
    monkeypatch.setattr("app.reports.workbook.build_workbook", lambda source: b"PK-stub")
    wrong = []
    checked = 0
    for (method, path), kind in sorted(ACCESS.items()):
        for name in PRINCIPALS:
            savepoint = connection.begin_nested()
            try:
                response = _request(method, path, principals[name])
            finally:
                savepoint.rollback()
            got, expected = outcome(response, path), EXPECTED[kind][name]
            checked += 1
            if got != expected:
                wrong.append(
                    f"{method} {path} as {name}: {got} ({response.status_code}), "
                    f"expected {expected}"
                )
    assert checked == len(ACCESS) * len(PRINCIPALS)
    assert wrong == [], "\n".join(wrong)
