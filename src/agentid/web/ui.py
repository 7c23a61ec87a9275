"""create_ui(): the web page as an app of its own, mounted at /ui by ``create_app``.

It shares the API's state (the runtime, the outbox, the webhook dispatcher) and its
dependencies, but not its door: the API's token gate lets /ui through, and the cookie gate
(agentid.web.gate) decides here. Errors are pages, not JSON.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import State
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from agentid.api.store_errors import unavailable
from agentid.errors import AgentIDError
from agentid.errors import Unauthorized
from agentid.limiter import TokenLimiter
from agentid.web import PREFIX as PREFIX  # re-exported: where the page lives
from agentid.web.activity_routes import router as activity_router
from agentid.web.auth_routes import router as auth_router
from agentid.web.code_routes import router as code_router
from agentid.web.gate import SIGN_IN_PATH
from agentid.web.gate import CookieGate
from agentid.web.headers import SecurityHeaders
from agentid.web.mail_routes import router as mail_router
from agentid.web.project_routes import router as project_router
from agentid.web.templating import HERE
from agentid.web.templating import error_page


def create_ui(state: State) -> FastAPI:
    """The /ui app, reading ``state`` (the API app's: its runtime is set by its lifespan)."""
    ui = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    ui.state = state
    state.ui_sign_ins = TokenLimiter()

    @ui.exception_handler(AgentIDError)
    async def _agentid_error(request: Request, exc: AgentIDError) -> Response:
        if isinstance(exc, Unauthorized) and request.method in ("GET", "HEAD"):
            return RedirectResponse(SIGN_IN_PATH, status_code=303)
        return error_page(exc.status, exc.message, exc.headers())

    @ui.exception_handler(SQLAlchemyError)
    async def _store(_: Request, exc: SQLAlchemyError) -> Response:
        if (busy := unavailable(exc)) is None:
            raise exc
        return error_page(busy.status, busy.message)

    @ui.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p)[:64] for p in err.get("loc", ()) if p not in ("body", "query"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return error_page(422, "; ".join(parts) or "invalid input")

    @ui.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> Response:
        return error_page(exc.status_code, str(exc.detail))

    @ui.exception_handler(Exception)
    async def _internal(_: Request, exc: Exception) -> Response:
        return error_page(500, "Something went wrong on our side; the server log says what.")

    ui.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    for router in (auth_router, project_router, mail_router, code_router, activity_router):
        ui.include_router(router)
    ui.add_middleware(CookieGate)
    ui.add_middleware(SecurityHeaders)  # outermost: the gate's own answers get them too
    return ui
