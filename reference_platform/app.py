"""``create_app(settings)``: builds the stores, injector, workers and the ASGI application.

Nothing is created at import time; the app owns its workers through its lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from contracts.fault_set import FaultSet, load_profile
from reference_platform.api.edge import EdgeMiddleware
from reference_platform.api.guard import GuardMiddleware
from reference_platform.api.routes import admin, agent, applicant, ops, pages
from reference_platform.clock import PlatformClock
from reference_platform.context import PlatformContext
from reference_platform.domain.security import Passwords
from reference_platform.errors import DomainError
from reference_platform.faults.injector import FaultInjector
from reference_platform.keeper import SessionKeeper
from reference_platform.mail import MailProcess, MailWorker
from reference_platform.metrics import build_metrics
from reference_platform.settings import Settings
from reference_platform.storage.blobs import BlobStore
from reference_platform.storage.db import open_stores
from reference_platform.sync.bridge import SyncBridge

VERSION = "0.1.0"


def build_context(settings: Settings) -> PlatformContext:
    """Open storage and load the fault profile; raises ConfigError on a bad setting."""
    fault_set = load_profile(settings.faults_file) if settings.faults_file else FaultSet()
    stores = open_stores(settings)
    metrics = build_metrics()
    injector = FaultInjector(
        stores.platform,
        seed=settings.fault_seed,
        on_fire=lambda fault_id: metrics.faults_injected.labels(fault_id).inc(),
    )
    injector.replace(fault_set)
    return PlatformContext(
        settings=settings,
        stores=stores,
        blobs=BlobStore(settings.data_dir / "blobs"),
        faults=injector,
        clock=PlatformClock(stores.platform),
        passwords=Passwords(settings.password_cost, settings.synthetic_password_cost),
        metrics=metrics,
    )


def create_app(settings: Settings, *, context: PlatformContext | None = None) -> FastAPI:
    ctx = context or build_context(settings)
    bridge = SyncBridge(ctx)
    mailer = MailProcess(settings) if settings.mail_sender == "process" else MailWorker(settings, ctx.stores.front)
    keeper = SessionKeeper(ctx)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sqlite = ctx.stores.front.engine.dialect.name == "sqlite"
        to_thread.current_default_thread_limiter().total_tokens = settings.worker_threads or (2 if sqlite else 8)
        bridge.start()
        mailer.start()
        keeper.start()
        try:
            yield
        finally:
            bridge.stop()
            mailer.stop()
            keeper.stop()
            ctx.stores.dispose()

    app = FastAPI(
        title="ANEF — plateforme de référence",
        version=VERSION,
        description=(
            "An ANEF-like service with injectable faults, the system under test of anef-harness. "
            "Applicant front office (/api), prefecture back office (/api/agent), admin (/_admin)."
        ),
        lifespan=lifespan,
    )
    app.state.context = ctx
    app.state.bridge = bridge
    app.state.mailer = mailer
    routers = (applicant.router, agent.router, admin.router, ops.router, pages.router)
    for router in routers:
        app.include_router(router)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        error = {"code": exc.code, "message": exc.message}
        if exc.field is not None:
            error["field"] = exc.field
        return JSONResponse({"error": error}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        if first.get("type") == "json_invalid":  # loc is ("body", <character offset>), not a field
            field = "body"
            message = f"malformed JSON at character {first['loc'][-1]} ({first.get('ctx', {}).get('error', 'invalid')})"
        return JSONResponse(
            {"error": {"code": "invalid_input", "message": f"{field}: {message}", "field": field}},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """A body FastAPI cannot even parse (not UTF-8, a broken multipart form) is invalid input like
        malformed JSON, in the documented error shape, not an undocumented 400 ``{"detail": …}``."""
        if exc.status_code == 400:
            message = "body: unreadable (not UTF-8 JSON, or a malformed form)"
            error = {"code": "invalid_input", "message": message, "field": "body"}
            return JSONResponse({"error": error}, status_code=422)
        return await http_exception_handler(request, exc)

    templates = [route for router in routers for route in router.routes]
    app.add_middleware(EdgeMiddleware, context=ctx, routes=templates)
    app.add_middleware(GuardMiddleware, settings=settings)  # added last: the outermost layer
    return app
