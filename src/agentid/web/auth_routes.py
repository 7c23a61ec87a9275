"""Signing in and out of the web page."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter
from fastapi import Form
from fastapi import Request
from starlette.responses import RedirectResponse
from starlette.responses import Response

from agentid.api.session import SessionDep
from agentid.auth import RuntimeDep
from agentid.errors import RateLimited
from agentid.errors import Unauthorized
from agentid.limiter import TokenLimiter
from agentid.times import utcnow
from agentid.web import cookies
from agentid.web.deps import SignedInDep
from agentid.web.sessions import resume
from agentid.web.sessions import sign_in
from agentid.web.sessions import sign_out
from agentid.web.templating import page

router = APIRouter()


def _home(project_id: str | None) -> str:
    return "/ui/projects" if project_id is None else f"/ui/projects/{project_id}"


@router.get("/")
async def home(who: SignedInDep) -> RedirectResponse:
    return RedirectResponse(_home(who.principal.project_id), status_code=303)


def _sign_in_form(request: Request, status_code: int = 200, problem: str | None = None) -> Response:
    """The form, with a fresh CSRF token in it and in its cookie (double submit)."""
    token = secrets.token_urlsafe(32)
    response = page(
        request, "login.html", status_code, signin_csrf=token, problem=problem, title="Sign in"
    )
    cookies.put(response, request.scope, cookies.SIGN_IN, token, cookies.SIGN_IN_SECONDS)
    return response


@router.get("/login")
async def sign_in_form(request: Request, rt: RuntimeDep, session: SessionDep) -> Response:
    known = cookies.read(request.scope, cookies.SESSION)
    if known is not None and (signed := await resume(rt, session, known)) is not None:
        return RedirectResponse(_home(signed.principal.project_id), status_code=303)
    return _sign_in_form(request)


@router.post("/login")
async def sign_in_now(
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    token: Annotated[str, Form(max_length=1024)],
) -> Response:
    limiter: TokenLimiter = request.app.state.ui_sign_ins
    client = request.client.host if request.client else "unknown"
    if (wait := limiter.attempt(client)) is not None:
        raise RateLimited(
            f"too many failed sign-ins: try again in {int(wait)} s",
            resets_at=utcnow() + timedelta(seconds=wait),
        )
    try:
        session_id, signed = await sign_in(rt, session, token)
    except Unauthorized:
        return _sign_in_form(request, 401, "That token is not valid (or was revoked).")
    limiter.succeeded(client)
    response = RedirectResponse(_home(signed.principal.project_id), status_code=303)
    hours = rt.settings.ui_session_hours
    cookies.put(response, request.scope, cookies.SESSION, session_id, int(hours * 3600))
    cookies.drop(response, request.scope, cookies.SIGN_IN)
    return response


@router.post("/logout")
async def sign_out_now(request: Request, signed: SignedInDep, session: SessionDep) -> Response:
    await sign_out(session, signed.id_hash)
    response = RedirectResponse("/ui/login", status_code=303)
    cookies.drop(response, request.scope, cookies.SESSION)
    return response
