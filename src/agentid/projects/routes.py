"""HTTP routes for projects and tokens (HTTP only; behaviour lives in service.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Response, status
from fastapi.responses import StreamingResponse

from agentid.api.paging import IdPaging, SlugPaging
from agentid.api.project import ProjectAdminDep, ProjectDep, ProjectReadDep
from agentid.api.responses import GATED, ON_PROJECT, WITH_BODY, errors
from agentid.api.session import SessionDep
from agentid.auth import AdminDep, PrincipalDep, RuntimeDep
from agentid.errors import Conflict, Forbidden, NotFound
from agentid.events import next_event
from agentid.filters import cursor_filter
from agentid.projects import service
from agentid.projects.schemas import (
    ProjectCreate,
    ProjectList,
    ProjectOut,
    ProjectUpdate,
    TokenCreate,
    TokenList,
    TokenOut,
)
from agentid.runtime import Runtime

router = APIRouter(tags=["projects"], responses=errors(*GATED))

KEEPALIVE_SECONDS = 15.0
PRIVATE_EVENT_KEYS = frozenset({"from_address", "header_to"})
ON_PROJECT_ERRORS = errors(*ON_PROJECT)
WITH_BODY_ERRORS = errors(*ON_PROJECT, *WITH_BODY)


@router.post(
    "/projects",
    status_code=status.HTTP_201_CREATED,
    response_model=ProjectOut,
    responses=errors(Forbidden, Conflict, *WITH_BODY),
)
async def create_project(
    body: ProjectCreate, rt: RuntimeDep, session: SessionDep, _: AdminDep
) -> ProjectOut:
    return service.project_out(await service.create_project(rt, session, body))


@router.get("/projects", response_model=ProjectList)
async def list_projects(session: SessionDep, who: PrincipalDep, page: SlugPaging) -> ProjectList:
    """The projects the token sees (a project token: its own), by id; ``before=<next>``
    continues from the previous page."""
    return await service.list_projects(session, who, page.limit, page.before)


@router.get("/projects/{project_id}", response_model=ProjectOut, responses=errors(NotFound))
async def get_project(project: ProjectDep) -> ProjectOut:
    return service.project_out(project)


@router.patch("/projects/{project_id}", response_model=ProjectOut, responses=WITH_BODY_ERRORS)
async def update_project(
    project: ProjectAdminDep, body: ProjectUpdate, rt: RuntimeDep, session: SessionDep
) -> ProjectOut:
    return service.project_out(await service.update_project(rt, session, project, body))


@router.post(
    "/projects/{project_id}/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenOut,
    responses=WITH_BODY_ERRORS,
)
async def create_token(
    project: ProjectAdminDep, body: TokenCreate, session: SessionDep
) -> TokenOut:
    return await service.create_token(session, project.id, body)


@router.get("/projects/{project_id}/tokens", response_model=TokenList, responses=ON_PROJECT_ERRORS)
async def list_tokens(project: ProjectAdminDep, session: SessionDep, page: IdPaging) -> TokenList:
    """The project's tokens, newest first, without their secrets."""
    before = cursor_filter(page.before, "before", "a token id")
    return await service.list_tokens(session, project.id, page.limit, before)


@router.delete(
    "/projects/{project_id}/tokens/{token_id}", status_code=204, responses=ON_PROJECT_ERRORS
)
async def revoke_token(project: ProjectAdminDep, token_id: str, session: SessionDep) -> Response:
    """Revoke a token at once: it is deleted, and answers 401 from the next request on."""
    await service.revoke_token(session, project.id, token_id)
    return Response(status_code=204)


@router.get(
    "/projects/{project_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **ON_PROJECT_ERRORS},
)
async def stream_events(project: ProjectReadDep, rt: RuntimeDep) -> StreamingResponse:
    """Server-sent events: message.received, code.found (a comment line every 15 s)."""
    return StreamingResponse(
        sse_stream(rt, project.id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def sse_stream(rt: Runtime, project_id: str) -> AsyncIterator[str]:
    async with rt.bus.listen(project_id) as listener:
        yield ": connected\n\n"
        while not rt.stopping.is_set():
            event = await next_event(listener, rt.stopping, KEEPALIVE_SECONDS)
            if event is None:
                yield ": keepalive\n\n"
                continue
            data = {k: v for k, v in event.data.items() if k not in PRIVATE_EVENT_KEYS}
            event_id = data.get("id") or data.get("message_id") or ""
            yield f"event: {event.kind}\nid: {event_id}\ndata: {json.dumps(data)}\n\n"
