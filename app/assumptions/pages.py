"""Downloads of a deal's assumptions: the current version as JSON, CSV or XLSX."""

from fastapi import APIRouter
from fastapi.responses import Response

from app.assumptions import formats, service
from app.auth.access import Analyst
from app.db import SessionDep
from app.deals.service import get_deal
from app.errors import NotFoundError

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/deals/{slug}/assumptions.{kind}")
def download(slug: str, kind: str, session: SessionDep, user: Analyst) -> Response:
    """The current version as a file: the template an analyst edits and uploads back
    (uploading it unchanged is "no changes")."""
    if kind not in formats.KINDS:
        raise NotFoundError(f"Assumptions come as .json, .csv or .xlsx, not .{kind}.", field="kind")
    deal = get_deal(session, slug, viewer=user)
    version = service.current_version(session, deal.id)
    if version is None:
        raise NotFoundError(f"Deal {slug!r} has no saved assumptions yet.", field="slug")
    body = formats.render(version.payload, kind)  # a sync route: FastAPI runs it in a thread
    filename = f"{slug}-assumptions-v{version.version}.{kind}"
    return Response(
        body,
        media_type=formats.MEDIA_TYPES[kind],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
