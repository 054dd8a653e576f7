"""The ASGI application: REST API, admin, health check; optionally the worker beside it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from patron import __version__
from patron.config import Settings, get_settings
from patron.errors import PatronError
from patron.identity import rules_from
from patron.storage.engine import make_engine, transaction
from patron.web import admin, api, errors, public, tracking
from patron.web.admin.pages import upload_too_large
from patron.web.admin.render import page
from patron.web.limits import BodyLimit
from patron.worker import start_in_thread

log = logging.getLogger("patron.web")


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, run_worker: bool = False
) -> FastAPI:
    """Build the application; `run_worker` starts a worker thread for the app's lifetime."""
    settings = settings or get_settings()
    engine = engine or make_engine(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker = start_in_thread(engine, settings) if run_worker else None
        yield
        if worker is not None:
            thread, stop = worker
            stop.set()
            thread.join(timeout=30)

    app = FastAPI(
        title="Patron",
        version=__version__,
        description="Customer data and marketing automation. REST API for admins under /api/v1.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.rules = rules_from(settings)
    app.state.write_keys = tracking.WriteKeys(engine, ttl_s=settings.tracking_key_cache_s)
    app.state.rate_limiter = tracking.RateLimiter(settings.tracking_rate_limit_per_s)
    app.state.plan_cache = tracking.PlanCache(engine, ttl_s=settings.tracking_plan_cache_s)
    errors.install(app)
    _install_admin_errors(app)
    app.add_middleware(
        BodyLimit,
        default_bytes=settings.max_body_bytes,
        limits={
            "/admin/imports": settings.max_upload_bytes,
            "/api/v1/imports": settings.max_upload_bytes,
            # The tracking routes answer 400 past 500 KB themselves (Segment's limit); this
            # only stops a body large enough to hurt before it is read.
            "/v1/": 4 * settings.tracking_max_request_bytes,
        },
        refusals={"/admin/imports": upload_too_large},
    )
    app.add_middleware(tracking.TrackingCors)
    app.include_router(tracking.router)
    app.include_router(api.router)
    app.include_router(admin.router)
    app.include_router(public.router)
    app.mount("/admin/static", StaticFiles(directory=admin.STATIC_DIR), name="admin-static")
    app.mount("/public/static", StaticFiles(directory=public.STATIC_DIR), name="public-static")

    @app.get("/healthz", tags=["health"])
    def healthz() -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        try:
            with transaction(engine, write=False) as conn:
                conn.execute(text("SELECT 1"))
        except SQLAlchemyError as exc:
            log.error("health check: database unavailable: %s", exc)
            return errors.error_response(503, "unavailable", "the database is not answering")
        return JSONResponse({"status": "ok", "database": engine.dialect.name, "version": __version__})

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/admin/", status_code=307)

    return app


def _install_admin_errors(app: FastAPI) -> None:
    """Admin pages answer with HTML (or a redirect to login), not JSON."""
    domain_handler = app.exception_handlers[PatronError]

    @app.exception_handler(admin.LoginRequired)
    async def _login(request: Request, exc: admin.LoginRequired) -> Response:
        return RedirectResponse(f"/admin/login?next={quote(exc.next_path)}", status_code=303)

    @app.exception_handler(admin.CsrfFailed)
    async def _csrf(request: Request, exc: admin.CsrfFailed) -> HTMLResponse:
        message = (
            "This form was not sent by your session (it may have expired). Go back, reload and try again."
        )
        return page(request, "error.html", {"title": "Form expired", "message": message}, status_code=403)

    @app.exception_handler(PatronError)
    async def _domain(request: Request, exc: PatronError) -> Response:
        if request.url.path.startswith("/admin") and not request.url.path.endswith(".json"):
            title = "Not found" if errors.status_of(exc) == 404 else "Something is not right"
            return page(
                request,
                "error.html",
                {"title": title, "message": exc.message},
                status_code=errors.status_of(exc),
            )
        return await domain_handler(request, exc)
