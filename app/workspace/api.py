"""JSON routes for uploading assumptions: preview (with a signed token), then confirm."""

from typing import Any

from fastapi import APIRouter, File, Request, UploadFile, status
from pydantic import BaseModel, ConfigDict, Field

from app.assumptions.upload import read_capped
from app.auth.access import Analyst
from app.db import SessionDep
from app.deals.service import get_deal
from app.types import Text, UtcDatetime
from app.web.api_errors import TOO_LARGE, UNREADABLE, errors
from app.workspace import uploads

router = APIRouter(prefix="/api/v1/deals", tags=["assumptions"])


class ChangeOut(BaseModel):
    path: str
    old: Any
    new: Any


class UploadPreview(BaseModel):
    token: str = Field(description="Send it back to /confirm to store this file as a version")
    base_version: int | None
    no_changes: bool
    changes: list[ChangeOut]
    before: dict[str, float | None] | None
    after: dict[str, float | None]


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: Text
    note: Text = Field("", max_length=2000)


class ConfirmedVersion(BaseModel):
    id: int
    version: int
    content_hash: str
    created_at: UtcDatetime


_ERRORS = errors(
    {
        400: UNREADABLE,
        404: "No such deal",
        409: "A newer version was saved since the preview",
        413: TOO_LARGE,
        422: "Every problem with its place (JSON path, CSV line, or sheet and cell) and reason",
    }
)


def limit(request: Request) -> int:
    return request.app.state.settings.max_upload_bytes


@router.post("/{slug}/assumptions", response_model=UploadPreview, responses=_ERRORS)
def preview_upload(
    slug: str,
    request: Request,
    session: SessionDep,
    user: Analyst,
    file: UploadFile = File(...),
) -> UploadPreview:
    """Step 1: what the file (.json, .csv or .xlsx) would change (nothing is stored)."""
    deal = get_deal(session, slug, viewer=user)
    data = read_capped(file, limit(request))
    result = uploads.preview(
        session, deal, data, file.filename or "file", request.app.state.secret_key
    )
    return UploadPreview(
        token=result["token"],
        base_version=result["current"].version if result["current"] else None,
        no_changes=result["no_changes"],
        changes=[ChangeOut(path=c.path, old=c.old, new=c.new) for c in result["changes"]],
        before=result["before"],
        after=result["after"],
    )


@router.post(
    "/{slug}/assumptions/confirm",
    response_model=ConfirmedVersion,
    status_code=status.HTTP_201_CREATED,
    responses=_ERRORS,
)
def confirm_upload(
    slug: str, body: ConfirmIn, request: Request, session: SessionDep, user: Analyst
) -> ConfirmedVersion:
    """Step 2: store the previewed file as a new version, if nothing was saved since."""
    deal = get_deal(session, slug, viewer=user)
    saved = uploads.confirm(
        session, deal, body.token, request.app.state.secret_key, user.actor, body.note
    )
    return ConfirmedVersion(
        id=saved.id,
        version=saved.version,
        content_hash=saved.content_hash,
        created_at=saved.created_at,
    )
