"""JSON routes for a deal's assumption versions."""

from fastapi import APIRouter
from pydantic import BaseModel

from app.assumptions import service
from app.assumptions.models import AssumptionSet
from app.auth.access import Viewer
from app.db import SessionDep
from app.deals.service import get_deal
from app.types import UtcDatetime
from app.web.api_errors import INVALID, errors

router = APIRouter(prefix="/api/v1/deals", tags=["assumptions"])


class VersionOut(BaseModel):
    id: int
    version: int
    parent_version: int | None
    author: str
    note: str
    created_at: UtcDatetime
    content_hash: str
    current: bool


@router.get(
    "/{slug}/assumptions",
    response_model=list[VersionOut],
    responses=errors({404: "No such deal", 422: INVALID}),
)
def list_versions(slug: str, session: SessionDep, user: Viewer) -> list[VersionOut]:
    """Every saved version of the deal's assumptions, newest first."""
    deal = get_deal(session, slug, viewer=user)
    versions = service.list_versions(session, deal.id)
    current = service.current_version(session, deal.id)
    numbers = {v.id: v.version for v in versions}
    return [_out(v, numbers, current) for v in versions]


def _out(v: AssumptionSet, numbers: dict[int, int], current: AssumptionSet | None) -> VersionOut:
    return VersionOut(
        id=v.id,
        version=v.version,
        parent_version=numbers.get(v.parent_id) if v.parent_id else None,
        author=v.author,
        note=v.note,
        created_at=v.created_at,
        content_hash=v.content_hash,
        current=current is not None and v.id == current.id,
    )
