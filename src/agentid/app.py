"""create_app(settings): the FastAPI app whose lifespan runs the store, SMTP and workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from contextlib import asynccontextmanager

from fastapi import Depends
from fastapi import FastAPI
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import ASGIApp
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from agentid.api.docs import PUBLIC as DOCS_PUBLIC
from agentid.api.docs import serve_docs
from agentid.api.gate import TokenGate
from agentid.api.limits import WEBHOOKS
from agentid.api.limits import BodyLimit
from agentid.api.limits import body_caps
from agentid.api.mcp_mount import McpMount
from agentid.api.responses import error_response
from agentid.api.store_errors import unavailable
from agentid.auth import RuntimeDep
from agentid.auth import project_path
from agentid.codes.escalation_routes import router as escalations_router
from agentid.codes.routes import router as codes_router
from agentid.codes.totp_routes import router as totp_router
from agentid.config import Settings
from agentid.config import admin_token_path
from agentid.config import load_admin_token
from agentid.config import load_secret_key
from agentid.config import private_dir
from agentid.crypto import SecretBox
from agentid.dns.routes import router as dns_router
from agentid.email.inbound.service import InboundService
from agentid.email.outbound.bounce_routes import router as bounce_router
from agentid.email.outbound.routes import router as sending_router
from agentid.email.outbound.sender import OutboxSender
from agentid.email.retention import RetentionTask
from agentid.email.routes import router as email_router
from agentid.errors import AgentIDError
from agentid.errors import ValidationFailed
from agentid.errors import for_status
from agentid.health import Health
from agentid.phone.collector import NumberCollector
from agentid.phone.routes import router as phone_router
from agentid.phone.webhook_routes import router as sms_webhooks_router
from agentid.phone.webhook_routes import sandbox_router
from agentid.projects.routes import router as projects_router
from agentid.providers.account_routes import router as provider_accounts_router
from agentid.providers.registry import default_transports
from agentid.providers.registry import from_settings as providers_from_settings
from agentid.providers.registry import register_builtins
from agentid.runtime import Runtime
from agentid.store.bus import bus_for
from agentid.store.checkpoint import WalCheckpointer
from agentid.store.db import create_engine
from agentid.store.db import migrate_in_process
from agentid.store.db import session_factory
from agentid.store.leader import Leadership
from agentid.store.repository import ping
from agentid.web import PREFIX as UI_PREFIX
from agentid.webhooks.dispatcher import WebhookDispatcher
from agentid.webhooks.routes import router as webhooks_router
from agentid.webhooks.service import operator_key
from agentid.workers import Worker
from agentid.workers import start_all

log = logging.getLogger("agentid")


class HealthReport(BaseModel):
    status: str
    smtp: bool
    database: bool
    down: dict[str, str]  # part -> why it is down (agentid.health); empty when ok


async def build_runtime(settings: Settings) -> Runtime:
    private_dir(settings.data_dir)
    engine = create_engine(settings)
    await migrate_in_process(settings)
    token, from_file = load_admin_token(settings)
    if from_file:
        log.info("admin token kept in %s", admin_token_path(settings))
    health = Health()
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        secrets=SecretBox(load_secret_key(settings), *settings.previous_keys()),
        admin_token=token,
        bus=bus_for(settings, health),
        health=health,
        leader=Leadership.for_settings(settings),
    )


class LazyUI:
    """The /ui app, built on the first request under it: the page's modules and templates
    (about 9 MB) stay out of a service whose page nobody opens."""

    def __init__(self, state: State) -> None:
        self._state = state
        self._app: ASGIApp | None = None
        self._building = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            async with self._building:
                if self._app is None:
                    self._app = await asyncio.to_thread(self._build)
        await self._app(scope, receive, send)

    def _build(self) -> ASGIApp:
        from agentid.web.ui import create_ui

        return create_ui(self._state)


def create_app(settings: Settings) -> FastAPI:
    """The whole service: API, SMTP listener, spool, parse workers, outbox, retention,
    webhooks."""
    # Provider URLs are resolved now, so a bad one stops `agentid serve` with one line.
    register_builtins()
    transports = default_transports(settings)
    providers = providers_from_settings(settings, transports)
    sandbox = providers.phone is not None and providers.phone.scheme == "sandbox"
    posts_sms = providers.phone is not None and providers.phone.webhook_path is not None
    if posts_sms and not settings.public_url:
        raise ValidationFailed(
            "AGENTID_PUBLIC_URL is required with a phone provider other than the sandbox:"
            " the HTTPS address its SMS webhooks reach"
        )
    operator_key(settings)  # a bad operator webhook setting stops `agentid serve` here
    mcp = McpMount() if settings.mcp_http else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        rt = await build_runtime(settings)
        rt.providers, rt.transports = providers, transports
        app.state.runtime = rt
        async with AsyncExitStack() as stack:
            stack.push_async_callback(transports.aclose)
            if mcp is not None:
                stack.push_async_callback(mcp.aclose)
            stack.push_async_callback(rt.engine.dispose)
            await rt.bus.start()  # before any worker: none misses another process's signal
            stack.push_async_callback(rt.bus.stop)
            await rt.leader.start()  # this process's node lock, before it commits anything
            stack.push_async_callback(rt.leader.close)  # after every worker stopped
            inbound = InboundService(rt)
            app.state.inbound = inbound
            outbox = OutboxSender(rt, transports, inbound.router, inbound.spool)
            app.state.outbox = outbox
            webhooks = WebhookDispatcher(rt)
            app.state.webhooks = webhooks
            # every background worker, in start order (stopped in reverse)
            workers: list[Worker] = [
                WalCheckpointer(settings, scrub=rt.scrub),
                inbound,
                outbox,
                RetentionTask(rt),
                NumberCollector(rt, transports),
                webhooks,
            ]
            await start_all(stack, workers)
            yield

    app = FastAPI(
        title="agentid",
        version="0.1.0",
        summary="Email, phone and verification codes for AI agents.",
        lifespan=lifespan,
        docs_url=None,  # served by agentid.api.docs, from this origin
        redoc_url=None,
    )
    serve_docs(app)
    app.state.transports = transports

    @app.exception_handler(AgentIDError)
    async def _agentid_error(_: Request, exc: AgentIDError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(SQLAlchemyError)
    async def _store(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        """A store error that may pass by itself is 503; any other is a bug (500, below)."""
        if (busy := unavailable(exc)) is None:
            raise exc
        return error_response(busy)

    @app.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> JSONResponse:
        """Whatever escaped: the envelope, not a plain-text 500 (the server logs the trace)."""
        return error_response(AgentIDError("internal error"))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors()[:5]:
            # loc may hold a client's key (an extra field): keep it short and encodable.
            where = ".".join(str(p)[:64] for p in err.get("loc", ()) if p != "body")
            parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else err.get("msg", ""))
        message = "; ".join(parts).encode("utf-8", "backslashreplace").decode("utf-8")
        body = {"error": {"code": "validation_failed", "message": message}}
        return JSONResponse(body, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        # raised by the framework itself (unparseable body, unknown route, wrong method)
        known = for_status(exc.status_code)
        code = known.code if known is not None else "http_error"
        body = {"error": {"code": code, "message": str(exc.detail)}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    @app.get(
        "/healthz",
        response_model=HealthReport,
        tags=["health"],
        responses={503: {"model": HealthReport, "description": "a part is down"}},
    )
    async def healthz(rt: RuntimeDep) -> JSONResponse:
        """200 when SMTP listens, the database answers and no part is down; else 503."""
        database = True
        try:
            await ping(rt.engine)
        except Exception:  # the check reports it; nothing to raise
            database = False
        down = rt.health.down()
        ok = database and rt.smtp_ready and not down
        body = HealthReport(
            status="ok" if ok else "unavailable", smtp=rt.smtp_ready, database=database, down=down
        )
        return JSONResponse(body.model_dump(), status_code=200 if ok else 503)

    checked = [Depends(project_path)]
    app.include_router(projects_router, dependencies=checked)
    app.include_router(email_router, dependencies=checked)
    app.include_router(dns_router, dependencies=checked)
    app.include_router(sending_router, dependencies=checked)
    app.include_router(codes_router, dependencies=checked)
    app.include_router(totp_router, dependencies=checked)
    app.include_router(escalations_router, dependencies=checked)
    app.include_router(provider_accounts_router, dependencies=checked)
    app.include_router(phone_router, dependencies=checked)
    app.include_router(webhooks_router, dependencies=checked)
    app.include_router(bounce_router)  # public: the relay's signature is checked instead
    app.include_router(sms_webhooks_router)  # public: the provider's signature is checked
    if sandbox:
        app.include_router(sandbox_router)  # only while the sandbox provides numbers
    if mcp is not None:  # MCP over streamable HTTP, behind the token gate like the API
        for path in ("/mcp", "/mcp/{project}"):  # the project: the token's, the path's or a header
            app.router.routes.append(Route(path, mcp, methods=["GET", "POST", "DELETE"]))

    if settings.ui:  # the operator's page: its own cookie gate (agentid.web.gate), not the token's
        app.mount(UI_PREFIX, LazyUI(app.state))

    # Limits before work: the token first (TokenGate is outermost), then the body's size,
    # both before a route reads the body.
    public = ["/healthz", WEBHOOKS, *(p for p in (app.openapi_url, *DOCS_PUBLIC) if p)]
    elsewhere = [UI_PREFIX] if settings.ui else []  # the web page's cookie gate decides there
    app.add_middleware(BodyLimit, caps=body_caps(settings))
    failures = settings.api_failed_tokens_per_minute
    app.add_middleware(TokenGate, public=public, elsewhere=elsewhere, failures=failures)
    return app
