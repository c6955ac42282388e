"""Admin pages: users and their roles, deal teams, and the audit log.

It sits above deals and auth because it shows both (a team is users on a deal).
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.audit import service as audit
from app.auth import service as accounts
from app.auth.access import Admin
from app.auth.models import Role
from app.db import SessionDep
from app.deals import service as deals
from app.errors import DomainError
from app.web.csrf import CsrfDep
from app.web.templating import templates

router = APIRouter(tags=["pages"], include_in_schema=False)


def _fast(request: Request) -> bool:
    return request.app.state.settings.fast_password_hashing


def _users_page(
    request: Request, session: SessionDep, status_code: int = 200, **extra: object
) -> HTMLResponse:
    context = {"users": accounts.list_users(session), "roles": [r.value for r in Role], **extra}
    return templates.TemplateResponse(request, "admin/users.html", context, status_code=status_code)


@router.get("/admin/users", response_class=HTMLResponse)
def users(request: Request, session: SessionDep, admin: Admin) -> HTMLResponse:
    return _users_page(request, session)


def _temporary_password() -> str:
    return secrets.token_urlsafe(12)


@router.post("/admin/users", response_class=HTMLResponse, dependencies=[CsrfDep])
def create_user(
    request: Request,
    session: SessionDep,
    admin: Admin,
    username: Annotated[str, Form(max_length=60)] = "",
    display_name: Annotated[str, Form(max_length=120)] = "",
    role: Annotated[Role, Form()] = Role.VIEWER,
) -> HTMLResponse:
    """A new user with a one-time password, shown once; they choose their own at first login."""
    password = _temporary_password()
    try:
        user = accounts.create_user(
            session,
            username,
            password,
            role,
            display_name=display_name,
            must_change_password=True,
            fast_hash=_fast(request),
        )
    except DomainError as exc:
        return _users_page(request, session, exc.status_code, error=exc.message)
    audit.record(session, admin.actor, "user.create", summary=f"Created {user.username} ({role})")
    return _users_page(
        request, session, 201, issued={"username": user.username, "password": password}
    )


@router.post("/admin/users/{username}/role", dependencies=[CsrfDep])
def set_role(
    username: str, session: SessionDep, admin: Admin, role: Annotated[Role, Form()]
) -> Response:
    user = accounts.get_user(session, username)
    if user.id == admin.user_id and role is not Role.ADMIN:
        raise DomainError("You cannot remove your own admin role; ask another admin.")
    accounts.set_role(session, user, role)
    audit.record(session, admin.actor, "user.role", summary=f"{user.username} is now {role}")
    return RedirectResponse("/admin/users", status_code=303)


@router.post(
    "/admin/users/{username}/password", response_class=HTMLResponse, dependencies=[CsrfDep]
)
def reset_password(
    username: str, request: Request, session: SessionDep, admin: Admin
) -> HTMLResponse:
    """A one-time password for a user who lost theirs; their sessions end."""
    user = accounts.get_user(session, username)
    password = _temporary_password()
    accounts.set_password(session, user, password, must_change=True, fast=_fast(request))
    audit.record(session, admin.actor, "user.password", summary=f"Reset {user.username}'s password")
    return _users_page(request, session, issued={"username": user.username, "password": password})


@router.post("/admin/users/{username}/active", dependencies=[CsrfDep])
def set_active(
    username: str, session: SessionDep, admin: Admin, active: Annotated[bool, Form()]
) -> Response:
    """Disable (or re-enable) a login; nothing they did is removed."""
    user = accounts.get_user(session, username)
    if user.id == admin.user_id:
        raise DomainError("You cannot disable your own account.")
    user.is_active = active
    if not active:
        accounts.revoke_sessions(session, user.id)
    session.flush()
    action = "user.enable" if active else "user.disable"
    audit.record(session, admin.actor, action, summary=f"{action.split('.')[1]}d {user.username}")
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/deals/{slug}/team", response_class=HTMLResponse)
def team(slug: str, request: Request, session: SessionDep, admin: Admin) -> HTMLResponse:
    deal = deals.get_deal(session, slug, viewer=admin)
    members = accounts.team(session, deal.id)
    others = [u for u in accounts.list_users(session) if u.id not in {m.id for m in members}]
    context = {"deal": deal, "members": members, "others": others}
    return templates.TemplateResponse(request, "admin/team.html", context)


@router.post("/deals/{slug}/team", dependencies=[CsrfDep])
def add_member(
    slug: str, session: SessionDep, admin: Admin, username: Annotated[str, Form(max_length=60)]
) -> Response:
    deal = deals.get_deal(session, slug, viewer=admin)
    user = accounts.get_user(session, username)
    accounts.add_member(session, deal.id, user)
    audit.record(
        session, admin.actor, "team.add", deal_id=deal.id, summary=f"Added {user.username}"
    )
    return RedirectResponse(f"/deals/{slug}/team", status_code=303)


@router.post("/deals/{slug}/team/{username}/remove", dependencies=[CsrfDep])
def remove_member(slug: str, username: str, session: SessionDep, admin: Admin) -> Response:
    deal = deals.get_deal(session, slug, viewer=admin)
    user = accounts.get_user(session, username)
    accounts.remove_member(session, deal.id, user)
    audit.record(
        session, admin.actor, "team.remove", deal_id=deal.id, summary=f"Removed {user.username}"
    )
    return RedirectResponse(f"/deals/{slug}/team", status_code=303)


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_log(
    request: Request,
    session: SessionDep,
    admin: Admin,
    actor: Annotated[str, Query(max_length=120)] = "",
    action: Annotated[str, Query(max_length=60)] = "",
    deal: Annotated[str, Query(max_length=120)] = "",
    since: Annotated[str, Query(max_length=10, pattern=r"^(\d{4}-\d{2}-\d{2})?$")] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Every write, newest first, filtered by who, what, which deal and from when."""
    deal_id = deals.get_deal(session, deal, viewer=admin).id if deal else None
    query = audit.AuditQuery(
        actor=actor,
        action=action,
        deal_id=deal_id,
        since=datetime.fromisoformat(since) if since else None,
        page=page,
    )
    rows, total = audit.events(session, query)
    names = {d.id: d for d in deals.list_deals(session, viewer=admin).deals}
    context = {
        "rows": rows,
        "total": total,
        "query": query,
        "filters": {"actor": actor, "action": action, "deal": deal, "since": since},
        "actions": audit.actions(session),
        "deals_by_id": names,
        "pages": max(1, -(-total // query.per_page)),
    }
    return templates.TemplateResponse(request, "admin/audit.html", context)
