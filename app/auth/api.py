"""JSON routes about the caller's own account."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from app.auth.access import Viewer

router = APIRouter(prefix="/api/v1", tags=["account"])


class Me(BaseModel):
    username: str
    name: str
    role: str
    authenticated_by: str


@router.get("/me", response_model=Me)
def me(user: Viewer) -> Me:
    """Who this token belongs to, and their role."""
    return Me(
        username=user.username, name=user.display, role=user.role.value, authenticated_by=user.via
    )
