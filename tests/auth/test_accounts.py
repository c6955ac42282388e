"""Logging in and out, lockout, session expiry, forced password change, API tokens, CSRF and
the security headers; both databases."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth.models import ApiToken, LoginSession, Role, User
from app.auth.service import LOCKOUT_FAILURES
from app.types import utcnow
from app.web.csrf import COOKIE, HEADER, SESSION_COOKIE
from tests.conftest import PASSWORD, csrf_of, login

REFUSED = "That name and password did not work."


def _login(client: TestClient, username: str, password: str):
    client.get("/login")
    token = client.cookies[COOKIE]
    form = {"csrf_token": token, "username": username, "password": password, "next": "/"}
    return client.post("/login", data=form, follow_redirects=False)


def test_login_sets_a_hardened_cookie_and_logout_ends_the_session(
    anonymous: TestClient, make_user, session: Session
) -> None:
    make_user("ana", Role.ANALYST)
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/login?next=/"
    response = _login(anonymous, "ANA ", PASSWORD)  # names are not case sensitive
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert anonymous.get("/").status_code == 200
    stored = session.scalars(select(LoginSession)).one()
    assert stored.token_hash not in cookie  # the cookie holds the token, the row its digest
    raw = anonymous.cookies[SESSION_COOKIE]
    token = csrf_of(anonymous)
    anonymous.post("/logout", data={"csrf_token": token}, headers={"Origin": "http://testserver"})
    anonymous.cookies.set(SESSION_COOKIE, raw)  # replaying the old cookie does not work
    assert anonymous.get("/", follow_redirects=False).status_code == 303


def test_over_https_the_cookie_is_secure(
    engine, session_factory: sessionmaker[Session], make_user
) -> None:
    from tests.conftest import _app

    make_user("ana", Role.ANALYST)
    with TestClient(_app(engine, session_factory), base_url="https://testserver") as client:
        response = _login(client, "ana", PASSWORD)
        assert "Secure" in response.headers["set-cookie"]
        assert "strict-transport-security" in client.get("/login").headers


def test_refusals_do_not_tell_a_wrong_password_from_an_unknown_user(
    anonymous: TestClient, make_user
) -> None:
    make_user("ana", Role.ANALYST)
    wrong = _login(anonymous, "ana", "not the password at all")
    unknown = _login(anonymous, "nobody", "not the password at all")
    assert wrong.status_code == unknown.status_code == 401
    assert REFUSED in wrong.text and REFUSED in unknown.text
    strip = lambda html: re.sub(r'value="[^"]*"|nonce="[^"]*"', "", html)  # noqa: E731
    assert strip(wrong.text) == strip(unknown.text)


def test_lockout_after_repeated_failures_even_for_the_right_password(
    anonymous: TestClient, make_user, session: Session
) -> None:
    make_user("ana", Role.ANALYST)
    for _ in range(LOCKOUT_FAILURES):
        assert _login(anonymous, "ana", "wrong password, really").status_code == 401
    locked = _login(anonymous, "ana", PASSWORD)
    assert locked.status_code == 401 and REFUSED in locked.text  # the same words as ever
    for _ in range(LOCKOUT_FAILURES):  # an unknown name locks the same way
        _login(anonymous, "ghost", "wrong password, really")
    assert REFUSED in _login(anonymous, "ghost", PASSWORD).text


def test_sessions_expire_when_idle_and_at_their_end(
    anonymous: TestClient, make_user, session: Session
) -> None:
    make_user("ana", Role.ANALYST)
    _login(anonymous, "ana", PASSWORD)
    assert anonymous.get("/", follow_redirects=False).status_code == 200
    session.execute(update(LoginSession).values(last_seen_at=utcnow() - timedelta(hours=3)))
    session.commit()
    assert anonymous.get("/", follow_redirects=False).status_code == 303  # idle too long
    _login(anonymous, "ana", PASSWORD)
    session.execute(update(LoginSession).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert anonymous.get("/", follow_redirects=False).status_code == 303  # past its end


def test_a_password_set_by_someone_else_must_be_changed_first(
    anonymous: TestClient, make_user, session: Session
) -> None:
    user = make_user("ana", Role.ANALYST)
    session.execute(update(User).where(User.id == user.id).values(must_change_password=True))
    session.commit()
    response = _login(anonymous, "ana", PASSWORD)
    assert response.headers["location"] == "/account/password"
    assert anonymous.get("/", follow_redirects=False).headers["location"] == "/account/password"
    token = csrf_of(anonymous)
    form = {"csrf_token": token, "current": PASSWORD, "new": "a much better secret", "again": "x"}
    headers = {"Origin": "http://testserver"}
    assert anonymous.post("/account/password", data=form, headers=headers).status_code == 422
    form["again"] = form["new"]
    changed = anonymous.post(
        "/account/password", data=form, headers=headers, follow_redirects=False
    )
    assert changed.status_code == 303
    assert _login(anonymous, "ana", "a much better secret").headers["location"] == "/"
    assert anonymous.get("/").status_code == 200


def test_api_tokens_are_shown_once_stored_hashed_and_revocable(
    client: TestClient, session: Session
) -> None:
    token = csrf_of(client)
    headers = {"Origin": "http://testserver"}
    page = client.post(
        "/account/tokens", data={"csrf_token": token, "name": "model refresh"}, headers=headers
    )
    assert page.status_code == 201
    new = re.search(r'<code id="new-token">(dbk_[^<]+)</code>', page.text).group(1)
    assert new not in client.get("/account").text  # shown only when created
    rows = session.scalars(select(ApiToken)).all()
    assert all(new not in (r.token_hash + r.prefix) or r.prefix == new[:12] for r in rows)
    api = TestClient(client.app, headers={"Authorization": f"Bearer {new}"})
    me = api.get("/api/v1/me")
    assert me.status_code == 200 and me.json()["authenticated_by"] == "token"
    row = next(r for r in rows if r.name == "model refresh")
    client.post(f"/account/tokens/{row.id}/revoke", data={"csrf_token": token}, headers=headers)
    refused = api.get("/api/v1/me")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
    assert TestClient(client.app).get("/api/v1/deals").status_code == 401  # no token at all


def test_the_openapi_schema_declares_the_bearer_scheme(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["ApiToken"]
    assert scheme == {"type": "http", "scheme": "bearer", "description": scheme["description"]}
    assert {"ApiToken": []} in schema["paths"]["/api/v1/deals"]["get"]["security"]


@pytest.mark.parametrize(
    ("headers", "use_token"),
    [
        ({}, False),  # no token at all
        ({"Origin": "http://testserver"}, "other"),  # another session's token
        ({"Origin": "https://evil.example"}, True),  # a foreign origin, even with the token
        ({"Referer": "https://evil.example/page"}, True),
        ({"Sec-Fetch-Site": "cross-site"}, True),
    ],
)
def test_state_changing_pages_refuse_forged_requests(
    client: TestClient, seeded: Session, make_user, session_factory, headers, use_token
) -> None:
    other = TestClient(client.app)
    other_token = login(other, make_user("eve", Role.ANALYST), session_factory)
    token = {True: csrf_of(client), "other": other_token, False: None}[use_token]
    body = {"csrf_token": token} if token else {}
    sent = headers | ({HEADER: token} if token else {})
    response = client.post(
        "/deals/coreweave-core-scientific/delete", data=body, headers=sent, follow_redirects=False
    )
    assert response.status_code == 403
    assert client.get("/api/v1/deals/coreweave-core-scientific").status_code == 200  # not deleted


def test_the_json_api_needs_no_csrf_token(client: TestClient, seeded: Session) -> None:
    response = client.post("/api/v1/calc/exchange", json={"structure": "fixed_ratio"})
    assert response.status_code == 422  # reached validation: no CSRF check for bearer calls


def test_security_headers_on_every_response(client: TestClient, seeded: Session) -> None:
    for url in ("/", "/deals/coreweave-core-scientific", "/api/v1/deals", "/login", "/nope"):
        headers = client.get(url).headers
        csp = headers["content-security-policy"]
        assert "unsafe-eval" not in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        assert re.search(r"script-src 'self' 'nonce-[\w-]{16,}'", csp)
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["cache-control"] == "no-store"
    page = client.get("/deals/coreweave-core-scientific")
    nonce = re.search(r"'nonce-([\w-]+)'", page.headers["content-security-policy"]).group(1)
    # Every element with htmx attributes carries this response's nonce (hx-csp strips others),
    # and every script tag too; there is no inline script and no inline style.
    for tag in re.findall(r"<[a-z]+\s[^>]*\shx-[a-z][^>]*>", page.text):
        assert f'hx-nonce="{nonce}"' in tag, tag
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts and all(f'nonce="{nonce}"' in s and "src=" in s for s in scripts)
    assert " style=" not in page.text and "<style" not in page.text


def test_next_never_leaves_the_site(anonymous: TestClient, make_user) -> None:
    make_user("ana", Role.ANALYST)
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        anonymous.cookies.clear()
        anonymous.get("/login")
        form = {"csrf_token": anonymous.cookies[COOKIE], "username": "ana", "password": PASSWORD}
        response = anonymous.post("/login", data=form | {"next": target}, follow_redirects=False)
        assert response.headers["location"] == "/"
