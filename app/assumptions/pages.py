"""Downloads of a deal's assumptions."""

import json

from fastapi import APIRouter
from fastapi.responses import Response

from app.assumptions import service
from app.db import SessionDep
from app.deals.service import get_deal
from app.errors import NotFoundError

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/deals/{slug}/assumptions.json")
def download_json(slug: str, session: SessionDep) -> Response:
    """The current version as a JSON file: the template an analyst edits and uploads back."""
    deal = get_deal(session, slug)
    version = service.current_version(session, deal.id)
    if version is None:
        raise NotFoundError(f"Deal {slug!r} has no saved assumptions yet.", field="slug")
    body = json.dumps(version.payload, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    filename = f"{slug}-assumptions-v{version.version}.json"
    return Response(
        body,
        media_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
