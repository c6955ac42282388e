"""Login, logout and the account page (password, API tokens)."""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from itsdangerous import BadSignature

from app.audit.service import Actor, record
from app.auth import service
from app.auth.access import SESSION_COOKIE, Account, MaybePrincipal, client_address, cookie_signer
from app.db import SessionDep
from app.errors import UnprocessableError
from app.types import RowNumber
from app.web.csrf import CsrfDep
from app.web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)


def _safe_next(target: str) -> str:
    """Only a path on this site (never //elsewhere or a scheme): no open redirects."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


def _fast(request: Request) -> bool:
    return request.app.state.settings.fast_password_hashing


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request, user: MaybePrincipal, next: Annotated[str, Query(max_length=500)] = "/"
) -> Response:
    if user is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return templates.TemplateResponse(request, "auth/login.html", {"next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse, dependencies=[CsrfDep])
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=60)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check the password; on success start a session (a fresh cookie, never a reused one)."""
    address = client_address(request)
    try:
        user = service.authenticate(session, username, password, address, fast=_fast(request))
    except service.LoginRefused as exc:
        # The attempt is kept (the session commits), so lockout counts it.
        context = {"next": _safe_next(next), "error": exc.message, "username": username}
        return templates.TemplateResponse(request, "auth/login.html", context, status_code=401)
    settings = request.app.state.settings
    lifetime = timedelta(hours=settings.session_max_hours)
    started = service.start_session(session, user, address, lifetime)
    record(session, Actor(user.name, user.id, address), "auth.login", summary="Logged in")
    target = "/account/password" if user.must_change_password else _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie_signer(request).dumps(started.token),
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/logout", dependencies=[CsrfDep])
def logout(request: Request, session: SessionDep, user: MaybePrincipal) -> Response:
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        with suppress(BadSignature):  # a forged cookie is simply dropped below
            service.end_session(session, str(cookie_signer(request).loads(raw)))
    if user is not None:
        record(session, user.actor, "auth.logout", summary="Logged out")
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


def _account(request: Request, session: SessionDep, user: Account, **extra: object) -> dict:
    return {
        "me": user,
        "tokens": service.user_tokens(session, user.user_id),
        **extra,
    }


@router.get("/account", response_class=HTMLResponse)
def account_page(request: Request, session: SessionDep, user: Account) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "auth/account.html", _account(request, session, user)
    )


@router.get("/account/password", response_class=HTMLResponse)
def password_page(request: Request, user: Account) -> HTMLResponse:
    return templates.TemplateResponse(request, "auth/password.html", {"me": user})


@router.post("/account/password", response_class=HTMLResponse, dependencies=[CsrfDep])
def change_password(
    request: Request,
    session: SessionDep,
    user: Account,
    current: Annotated[str, Form(max_length=1000)] = "",
    new: Annotated[str, Form(max_length=1000)] = "",
    again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """A new password; every other session of the user ends (this one starts afresh)."""
    account = session.get(service.User, user.user_id)
    assert account is not None
    errors: dict[str, str] = {}
    if not service.hasher(_fast(request)).verify(current, account.password_hash):
        errors["current"] = "That is not your current password."
    elif new != again:
        errors["again"] = "The two new passwords differ."
    elif new == current:
        errors["new"] = "Choose a password you have not used here."
    else:
        try:
            service.set_password(session, account, new, fast=_fast(request))
        except UnprocessableError as exc:
            errors["new"] = exc.message
    if errors:
        context = {"me": user, "errors": errors}
        return templates.TemplateResponse(request, "auth/password.html", context, status_code=422)
    record(session, user.actor, "auth.password", summary="Changed their password")
    # set_password ended every session, this one too: log in again with the new password.
    response = RedirectResponse("/login?next=/account", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


@router.post("/account/tokens", response_class=HTMLResponse, dependencies=[CsrfDep])
def create_token(
    request: Request,
    session: SessionDep,
    user: Account,
    name: Annotated[str, Form(max_length=80)] = "",
) -> HTMLResponse:
    """A new API token, shown this once (only its digest is kept)."""
    account = session.get(service.User, user.user_id)
    assert account is not None
    new = service.create_token(session, account, name)
    record(session, user.actor, "token.create", summary=f"Created API token {new.row.prefix}…")
    context = _account(request, session, user, new_token=new.token, new_name=new.row.name)
    return templates.TemplateResponse(request, "auth/account.html", context, status_code=201)


@router.post("/account/tokens/{token_id}/revoke", dependencies=[CsrfDep])
def revoke_token(token_id: RowNumber, session: SessionDep, user: Account) -> Response:
    row = service.revoke_token(session, user.user_id, token_id)
    record(session, user.actor, "token.revoke", summary=f"Revoked API token {row.prefix}…")
    return RedirectResponse("/account", status_code=303)
