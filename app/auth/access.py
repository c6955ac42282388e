"""Who is asking, and what they may do: the dependencies every route declares.

A page request is authenticated by the session cookie (signed, HttpOnly, SameSite=Lax, Secure
over HTTPS), a JSON API request by an `Authorization: Bearer` token. Anonymous page requests
are sent to the login page; anonymous API requests get 401. What a role may do is decided
here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from app.auth import service
from app.auth.models import Role, User
from app.auth.principal import Principal
from app.db import SessionDep
from app.errors import DomainError
from app.web.csrf import SESSION_COOKIE

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiToken",
    description="A Dealbook API token: `dealbook token create --user NAME`, or the account page.",
)


class NotLoggedIn(DomainError):
    """No valid session or token: pages redirect to the login page, the API answers 401."""

    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class PasswordChangeRequired(DomainError):
    """A user whose password must change may do nothing else first."""

    status_code = 403


def principal_of(user: User, via: str, address: str, session_id: int | None = None) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        display=user.name,
        role=Role(user.role),
        via=via,
        must_change_password=user.must_change_password,
        session_id=session_id,
        address=address,
    )


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def cookie_signer(request: Request) -> URLSafeSerializer:
    return URLSafeSerializer(request.app.state.secret_key, salt="dealbook.session")


def _settings(request: Request) -> Any:
    return request.app.state.settings


def _from_cookie(request: Request, session: Session) -> Principal | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        token = cookie_signer(request).loads(raw)
    except BadSignature:
        return None
    idle = timedelta(minutes=_settings(request).session_idle_minutes)
    found = service.session_user(session, str(token), idle)
    if found is None:
        return None
    row, user = found
    return principal_of(user, "session", client_address(request), row.id)


def _from_token(
    request: Request, session: Session, credentials: HTTPAuthorizationCredentials | None
) -> Principal | None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        return None
    found = service.token_user(session, credentials.credentials)
    if found is None:
        return None
    _, user = found
    return principal_of(user, "token", client_address(request))


def current_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal | None:
    """The request's user, or None; looked up once per request."""
    if "principal" not in request.scope.setdefault("state", {}):
        is_api = request.url.path.startswith("/api/")
        found = (
            _from_token(request, session, credentials) if is_api else _from_cookie(request, session)
        )
        request.state.principal = found
    return request.state.principal


MaybePrincipal = Annotated[Principal | None, Depends(current_principal)]


def require(
    role: Role, *, allow_password_change: bool = False
) -> Callable[..., Awaitable[Principal]]:
    """A dependency: the request's principal, if logged in with at least `role`."""

    async def dependency(request: Request, principal: MaybePrincipal) -> Principal:
        # async: a pure check, so it runs on the event loop, not in a worker thread
        if principal is None:
            raise NotLoggedIn("Log in to continue.")
        if principal.must_change_password and not allow_password_change:
            raise PasswordChangeRequired("Choose a new password before going on.")
        if not principal.at_least(role):
            raise Forbidden(
                f"Your role ({principal.role.value}) cannot do this; it needs {role.value}."
            )
        return principal

    dependency.__name__ = f"require_{role.value}"
    return dependency


Viewer = Annotated[Principal, Depends(require(Role.VIEWER))]
"""Any logged-in user: may read the deals on their teams."""
Analyst = Annotated[Principal, Depends(require(Role.ANALYST))]
"""May also edit, upload and export."""
Admin = Annotated[Principal, Depends(require(Role.ADMIN))]
"""May also manage users and teams."""
Account = Annotated[Principal, Depends(require(Role.VIEWER, allow_password_change=True))]
"""Logged in, even with a password that must change: the account pages."""


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target)}"
