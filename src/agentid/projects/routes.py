"""HTTP routes for projects and tokens (HTTP only; behaviour lives in service.py)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from fastapi.responses import StreamingResponse

from agentid.auth import AdminDep, PrincipalDep, ReaderDep, RuntimeDep, visible_project
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
from agentid.store.tables import Project

router = APIRouter(tags=["projects"])

KEEPALIVE_SECONDS = 15.0
MAX_TOKENS_PAGE = 500
PRIVATE_EVENT_KEYS = frozenset({"from_address", "header_to"})


def _out(project: Project) -> ProjectOut:
    return ProjectOut.model_validate(project, from_attributes=True)


@router.post("/projects", status_code=status.HTTP_201_CREATED, response_model=ProjectOut)
async def create_project(body: ProjectCreate, rt: RuntimeDep, _: AdminDep) -> ProjectOut:
    return _out(await service.create_project(rt, body))


@router.get("/projects", response_model=ProjectList)
async def list_projects(rt: RuntimeDep, who: PrincipalDep) -> ProjectList:
    projects = await service.list_projects(rt, only=who.project_id)
    return ProjectList(projects=[_out(p) for p in projects])


@router.get("/projects/{project_id}", response_model=ProjectOut)
async def get_project(project_id: str, rt: RuntimeDep, who: PrincipalDep) -> ProjectOut:
    visible_project(who, project_id)
    return _out(await service.get_project(rt, project_id))


@router.patch("/projects/{project_id}", response_model=ProjectOut)
async def update_project(
    project_id: str, body: ProjectUpdate, rt: RuntimeDep, _: AdminDep
) -> ProjectOut:
    return _out(await service.update_project(rt, project_id, body))


@router.post(
    "/projects/{project_id}/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenOut
)
async def create_token(project_id: str, body: TokenCreate, rt: RuntimeDep, _: AdminDep) -> TokenOut:
    return await service.create_token(rt, project_id, body)


@router.get("/projects/{project_id}/tokens", response_model=TokenList)
async def list_tokens(
    project_id: str,
    rt: RuntimeDep,
    _: AdminDep,
    before: Annotated[str | None, Query(max_length=26)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TOKENS_PAGE)] = 100,
) -> TokenList:
    """The project's tokens, newest first, without their secrets."""
    return await service.list_tokens(
        rt, project_id, limit, cursor_filter(before, "before", "a token id")
    )


@router.delete("/projects/{project_id}/tokens/{token_id}", status_code=204)
async def revoke_token(project_id: str, token_id: str, rt: RuntimeDep, _: AdminDep) -> Response:
    """Revoke a token at once: it is deleted, and answers 401 from the next request on."""
    await service.revoke_token(rt, project_id, token_id)
    return Response(status_code=204)


@router.get(
    "/projects/{project_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(project_id: str, rt: RuntimeDep, _: ReaderDep) -> StreamingResponse:
    """Server-sent events: message.received, code.found (a comment line every 15 s)."""
    await service.get_project(rt, project_id)
    return StreamingResponse(
        sse_stream(rt, project_id),
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
