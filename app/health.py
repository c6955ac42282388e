"""Health for load balancers and orchestrators: the process is up; it can serve.

`/healthz` answers without touching anything (a live process). `/readyz` checks that the
database answers and that its schema is at the migrations' head, so a machine is only given
traffic once it can really serve it (and is taken out while the database is away).
"""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.migrate import alembic_config

router = APIRouter(tags=["health"], include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


def _head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


HEAD = _head()


def _check(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        session.execute(text("SELECT 1"))
        current = MigrationContext.configure(session.connection()).get_current_revision()
    if current != HEAD:
        return {"database": "ok", "migrations": f"at {current}, head is {HEAD}"}
    return {"database": "ok", "migrations": "head"}


@router.get("/readyz", responses={503: {"description": "Not ready: the reason is in the body"}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers and its schema is at the migrations' head."""
    try:
        checks = await run_in_threadpool(_check, request.app.state.session_factory)
    except Exception as exc:
        reason = type(exc).__name__
        return JSONResponse({"status": "unavailable", "database": reason}, status_code=503)
    ready = checks["migrations"] == "head"
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503
    )
