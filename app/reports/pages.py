"""Report downloads: the Excel model of a deal version."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.db import SessionDep
from app.reports import workbook

router = APIRouter(tags=["reports"])


def _attachment(body: bytes, name: str, media_type: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/deals/{slug}/model.xlsx")
async def model_xlsx(slug: str, session: SessionDep) -> Response:
    """The current version's workbook (built in a worker thread: it may value the version)."""
    body, name = await run_in_threadpool(workbook.download, session, slug)
    return _attachment(body, name, workbook.MEDIA_TYPE)


@router.get("/deals/{slug}/versions/{number}/model.xlsx")
async def version_model_xlsx(slug: str, number: int, session: SessionDep) -> Response:
    body, name = await run_in_threadpool(workbook.download, session, slug, number)
    return _attachment(body, name, workbook.MEDIA_TYPE)
