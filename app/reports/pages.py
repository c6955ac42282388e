"""Report downloads: the valuation PDF and the Excel model of a saved version.

These are pages: the session cookie signs them in, an API token does not. So they stay out of
the OpenAPI document, which would otherwise offer them to token clients that get a redirect.
"""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response
from sqlalchemy.orm import Session

from app.auth.access import Analyst
from app.auth.principal import Principal
from app.db import SessionDep
from app.reports import pdf, workbook
from app.reports.service import ReportSource, report_source
from app.types import RowNumber

router = APIRouter(tags=["reports"], include_in_schema=False)

Paper = Query("a4", pattern="^(a4|letter)$", description="Page size: A4 or US Letter")
Token = Query(
    None,
    pattern="^[A-Za-z0-9]{1,40}$",
    description="Echoed in a `download_token` cookie when the file is ready (the page's "
    "progress indicator waits for it)",
)


def download(body: bytes, media_type: str, filename: str, token: str | None) -> Response:
    """An attachment; with `token`, a cookie saying it has started (ends the page's wait)."""
    response = Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
    if token:
        response.set_cookie("download_token", token, max_age=120, samesite="lax")
    return response


def _loaded(session: Session, slug: str, number: int | None, user: Principal) -> ReportSource:
    """Everything the report shows, read now, and the transaction ended before the layout.

    The layout takes seconds; a transaction left open through it would hold any row lock
    the request took (the login session's once-a-minute `last_seen_at`), and under load every
    other request of that login waited for the PDF.
    """
    source = report_source(session, slug, number, viewer=user)
    _ = source.run.results  # deferred: loaded here, not inside the layout
    session.commit()
    return source


def _pdf(
    session: SessionDep,
    user: Principal,
    slug: str,
    number: int | None,
    paper: str,
    token: str | None,
) -> Response:
    # Layout takes a second or two: these routes are plain `def`s, so FastAPI runs them in its
    # threadpool and other requests keep flowing.
    source = _loaded(session, slug, number, user)
    body = pdf.render(source, paper)
    filename = f"{slug}-valuation-v{source.version.version}-{paper}.pdf"
    return download(body, "application/pdf", filename, token)


@router.get("/deals/{slug}/report.pdf", response_class=Response)
def current_report(
    slug: str,
    session: SessionDep,
    user: Analyst,
    paper: str = Paper,
    download_token: str | None = Token,
) -> Response:
    """The board-ready valuation report of the current assumption version."""
    return _pdf(session, user, slug, None, paper, download_token)


@router.get("/deals/{slug}/versions/{number}/report.pdf", response_class=Response)
def version_report(
    slug: str,
    number: RowNumber,
    session: SessionDep,
    user: Analyst,
    paper: str = Paper,
    download_token: str | None = Token,
) -> Response:
    """The valuation report of one saved version (reproducible: same run, same numbers)."""
    return _pdf(session, user, slug, number, paper, download_token)


def _xlsx(
    session: SessionDep, user: Principal, slug: str, number: int | None, token: str | None
) -> Response:
    # Building (and perhaps first valuing) the version blocks: the threadpool runs it.
    body, name = workbook.download(session, slug, number, viewer=user)
    return download(body, workbook.MEDIA_TYPE, name, token)


@router.get("/deals/{slug}/model.xlsx", response_class=Response)
def model_xlsx(
    slug: str, session: SessionDep, user: Analyst, download_token: str | None = Token
) -> Response:
    """The current version's Excel model: live formulas on the inputs, results as values."""
    return _xlsx(session, user, slug, None, download_token)


@router.get("/deals/{slug}/versions/{number}/model.xlsx", response_class=Response)
def version_model_xlsx(
    slug: str,
    number: RowNumber,
    session: SessionDep,
    user: Analyst,
    download_token: str | None = Token,
) -> Response:
    """One saved version's Excel model."""
    return _xlsx(session, user, slug, number, download_token)
