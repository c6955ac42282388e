"""Health for load balancers and orchestrators: the process is up; it can serve.

`/healthz` answers without touching anything (a live process). `/readyz` checks that the
database answers and that its schema is at this release's migrations' head, or at a newer
revision this release does not know (a rolling deploy migrates first, and migrations stay
backward compatible: docs/deploy.md), so a machine is only given traffic once it can really
serve it, and is taken out while the database is away or behind its code.
"""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.migrate import alembic_config

router = APIRouter(tags=["health"], include_in_schema=False)

READY_TIMEOUT_S = 2.0
"""How long /readyz waits for the database: a probe must answer even when the database hangs."""


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up and answering."""
    return {"status": "ok"}


_SCRIPTS = ScriptDirectory.from_config(alembic_config())
HEAD = _SCRIPTS.get_current_head()
KNOWN = frozenset(r.revision for r in _SCRIPTS.walk_revisions())
"""Every revision this release ships; one outside it was made by a newer release."""


def _check(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        session.execute(text("SELECT 1"))
        current = MigrationContext.configure(session.connection()).get_current_revision()
    if current == HEAD:
        return {"database": "ok", "migrations": "head"}
    if current is not None and current not in KNOWN:
        return {"database": "ok", "migrations": f"newer ({current}) than this release's {HEAD}"}
    return {"database": "ok", "migrations": f"at {current}, head is {HEAD}"}


def _retrieve(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()  # read, so a check nobody waited for logs no "never retrieved"


def _pending_check(request: Request) -> asyncio.Task[dict[str, str]]:
    """The check in flight, or a new one: while the database hangs, probes share one check
    (one blocked thread per worker at most) instead of piling up threads."""
    state = request.app.state
    task: asyncio.Task[dict[str, str]] | None = getattr(state, "ready_check", None)
    if task is None or task.done() or task.get_loop() is not asyncio.get_running_loop():
        task = asyncio.ensure_future(run_in_threadpool(_check, state.session_factory))
        task.add_done_callback(_retrieve)
        state.ready_check = task
    return task


@router.get("/readyz", responses={503: {"description": "Not ready: the reason is in the body"}})
async def readyz(request: Request) -> JSONResponse:
    """The database answers (within READY_TIMEOUT_S) and its schema is at the migrations' head."""
    try:
        checks = await asyncio.wait_for(asyncio.shield(_pending_check(request)), READY_TIMEOUT_S)
    except Exception as exc:
        timed_out = isinstance(exc, TimeoutError)
        reason = f"no answer within {READY_TIMEOUT_S:g} s" if timed_out else type(exc).__name__
        return JSONResponse({"status": "unavailable", "database": reason}, status_code=503)
    ready = checks["migrations"] == "head" or checks["migrations"].startswith("newer")
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", **checks}, status_code=200 if ready else 503
    )
