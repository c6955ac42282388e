"""Application factory: routers, static files, error handlers, database lifecycle."""

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp

from app.admin import pages as admin_pages
from app.assumptions import api as assumptions_api
from app.assumptions import pages as assumptions_pages
from app.assumptions.upload import UploadError
from app.auth import api as auth_api
from app.auth import pages as auth_pages
from app.auth.access import NotLoggedIn, PasswordChangeRequired, login_url
from app.db import make_engine, make_session_factory
from app.deals import api as deals_api
from app.deals import pages as deals_pages
from app.engine import EngineInputError
from app.errors import DomainError
from app.health import router as health_router
from app.paths import STATIC_DIR
from app.reports import layout as report_layout
from app.reports import pages as reports_pages
from app.settings import Settings, get_settings, secret_key
from app.valuation import api as valuation_api
from app.web import connections
from app.web.api_errors import COMMON
from app.web.csrf import CsrfCookieMiddleware
from app.web.observe import RequestLogMiddleware, configure_logging
from app.web.openapi import standard_bounds
from app.web.security import BodySizeLimitMiddleware, SecurityHeadersMiddleware
from app.web.templating import compile_all, templates
from app.workspace import api as workspace_api
from app.workspace import pages as workspace_pages


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_response(
    request: Request,
    status: int,
    message: str,
    field: str | None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    if _wants_json(request):
        reference = getattr(request.state, "request_id", None)
        if status >= 500 and reference:  # what a client quotes when it reports the failure
            message += f" Reference: {reference}."
        detail = [{"loc": [field] if field else [], "msg": message, "type": "domain_error"}]
        return JSONResponse({"detail": detail}, status_code=status, headers=headers)
    template = "errors/404.html" if status == 404 else "errors/error.html"
    return templates.TemplateResponse(
        request,
        template,
        {"status": status, "message": message},
        status_code=status,
        headers=headers,
    )


def _redirect(request: Request, location: str) -> Response:
    """Send the browser elsewhere; an htmx request is told to navigate, not to swap."""
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=200, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(request: Request) -> str:
    """Every method the path takes, for a 405's `Allow`: Starlette names only those of the
    first route that matched the path, and a path such as /api/v1/deals has one per method."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    )


def create_app(
    settings: Settings | None = None, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """Build the app; servers build the engine from settings at startup, tests pass sessions."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if session_factory is not None:
            app.state.session_factory = session_factory
            yield
            return
        engine = make_engine(
            settings.database_url,
            echo=settings.sql_echo,
            **(
                {
                    "pool_size": settings.db_pool_size,
                    "max_overflow": settings.db_max_overflow,
                    "pool_timeout": settings.db_pool_timeout,
                    "pool_recycle": settings.db_pool_recycle,
                }
                if not settings.database_url.startswith("sqlite")
                else {}
            ),
        )
        app.state.session_factory = make_session_factory(engine)
        compile_all()
        # What start-up loaded (modules, the ORM's mappers, compiled templates: ~150,000
        # objects) lives as long as the process. Frozen, the collector stops scanning it:
        # a full collection took 130-230 ms a worker under load, the deal page's p99.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            report_layout.shutdown()
            engine.dispose()

    key = secret_key(settings)
    app = FastAPI(
        title="Dealbook",
        summary="Acquisition valuation: deals, assumptions, valuation runs.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/docs", include_in_schema=False)
    async def api_docs(request: Request) -> Response:
        """The API reference, its Swagger UI served from this site (works offline, under CSP)."""
        return templates.TemplateResponse(
            request, "api_docs.html", {"openapi_url": app.openapi_url}
        )

    @app.exception_handler(DomainError)
    async def _domain_error(request: Request, exc: DomainError) -> Response:
        return _error_response(request, exc.status_code, exc.message, exc.field)

    @app.exception_handler(NotLoggedIn)
    async def _not_logged_in(request: Request, exc: NotLoggedIn) -> Response:
        if _wants_json(request):
            detail = [{"loc": ["header", "Authorization"], "msg": exc.message, "type": "auth"}]
            return JSONResponse(
                {"detail": detail}, status_code=401, headers={"WWW-Authenticate": "Bearer"}
            )
        return _redirect(request, login_url(request))

    @app.exception_handler(PasswordChangeRequired)
    async def _password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        if _wants_json(request):
            return _error_response(request, 403, exc.message, None)
        return _redirect(request, "/account/password")

    @app.exception_handler(UploadError)
    async def _upload_error(request: Request, exc: UploadError) -> Response:
        if _wants_json(request):
            detail = [
                {"loc": [p.place], "msg": p.reason, "type": "upload_error"} for p in exc.problems
            ]
            return JSONResponse({"detail": detail}, status_code=exc.status)
        return _error_response(request, exc.status, str(exc), None)

    @app.exception_handler(EngineInputError)
    async def _engine_input(request: Request, exc: EngineInputError) -> Response:
        if _wants_json(request):
            loc = ["body", *exc.field.split(".")]
            detail = [{"loc": loc, "msg": exc.reason, "type": "value_error"}]
            return JSONResponse({"detail": detail}, status_code=422)
        return _error_response(request, 422, str(exc), exc.field)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _database_away(request: Request, exc: Exception) -> Response:
        structlog.get_logger("dealbook.error").warning(
            "database unavailable",
            request_id=getattr(request.state, "request_id", None),
            error=str(exc).splitlines()[0][:300],
        )
        message = (
            "The database is not answering right now; nothing was lost. Try again in a moment."
        )
        response = _error_response(request, 503, message, None)
        response.headers["Retry-After"] = "5"
        return response

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(request: Request, exc: ClientDisconnect) -> Response:
        """The client hung up before its request was all sent: nothing was read, so nothing
        was done; not a bug (the request's log line says 499, disconnected)."""
        return Response("The request was not complete.", status_code=400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        """A bug: logged with its traceback and request id; the person sees the id only."""
        structlog.get_logger("dealbook.error").exception(
            "unhandled", request_id=getattr(request.state, "request_id", None)
        )
        message = "The error has been logged; quote the reference below if you report it."
        return _error_response(request, 500, message, None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        message = "Page not found." if exc.status_code == 404 else str(exc.detail)
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = _allowed_methods(request)
        if _wants_json(request):
            detail = [{"loc": [], "msg": str(exc.detail), "type": "http_error"}]
            return JSONResponse({"detail": detail}, exc.status_code, headers=headers)
        return _error_response(request, exc.status_code, message, None, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        if _wants_json(request):
            return JSONResponse({"detail": errors}, status_code=422)
        message = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors)
        return _error_response(request, 422, message, None)

    generate_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's document with numeric bounds in JSON Schema's terms (app/web/openapi.py)."""
        return standard_bounds(generate_openapi())

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.settings = settings
    app.state.secret_key = key
    app.add_middleware(CsrfCookieMiddleware)
    app.add_middleware(BodySizeLimitMiddleware, limit=settings.max_upload_bytes)
    app.add_middleware(
        connections.KeepAliveLimitMiddleware,
        requests=settings.keepalive_requests,
        load=connections.shared,
    )
    if settings.log_requests:
        configure_logging(settings.log_level)
    build_stack = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        """Starlette answers an unhandled error (the 500 page) from its outermost layer,
        outside every added middleware; these two wrap even that, so every response carries
        its request id and the security headers, and is timed and logged (if asked to)."""
        return RequestLogMiddleware(
            SecurityHeadersMiddleware(build_stack()), log_requests=settings.log_requests
        )

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(health_router)
    app.include_router(auth_pages.router)
    app.include_router(deals_pages.router)
    app.include_router(assumptions_pages.router)
    app.include_router(workspace_pages.router)
    app.include_router(reports_pages.router)
    app.include_router(admin_pages.router)
    for api in (auth_api, deals_api, assumptions_api, valuation_api, workspace_api):
        app.include_router(api.router, responses=COMMON)
    return app
