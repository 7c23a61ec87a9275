"""HTTP routes for projects and tokens (HTTP only; behaviour lives in service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Header
from fastapi import Request
from fastapi import status
from sse_starlette import EventSourceResponse

from agentid.api.event_stream import event_stream
from agentid.api.event_stream import resume_point
from agentid.api.paging import IdPaging
from agentid.api.paging import SlugPaging
from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectDep
from agentid.api.project import ProjectReadDep
from agentid.api.responses import DELETES
from agentid.api.responses import GATED
from agentid.api.responses import ON_PROJECT
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.auth import AdminDep
from agentid.auth import PrincipalDep
from agentid.auth import RuntimeDep
from agentid.errors import Conflict
from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.filters import cursor_filter
from agentid.phone.repository import PhoneRepository
from agentid.projects import service
from agentid.projects.identity import identity
from agentid.projects.schemas import Identity
from agentid.projects.schemas import Me
from agentid.projects.schemas import ProjectCreate
from agentid.projects.schemas import ProjectList
from agentid.projects.schemas import ProjectOut
from agentid.projects.schemas import ProjectUpdate
from agentid.projects.schemas import TokenCreate
from agentid.projects.schemas import TokenList
from agentid.projects.schemas import TokenOut

router = APIRouter(tags=["projects"], responses=errors(*GATED))

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


@router.get("/me", response_model=Me)
async def me(who: PrincipalDep) -> Me:
    """Who this token is: the operator, or a project token and its scopes."""
    return Me(admin=who.is_admin, project=who.project_id, scopes=sorted(who.scopes))


@router.get("/projects/{project_id}/identity", response_model=Identity, responses=ON_PROJECT_ERRORS)
async def get_identity(project: ProjectReadDep, session: SessionDep, request: Request) -> Identity:
    """The project's addresses and number, and the constitution for the agent's prompt."""
    number = await PhoneRepository(session).live(project.id)
    return identity(project, number.e164 if number else None, str(request.base_url))


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


@router.delete("/projects/{project_id}/tokens/{token_id}", responses=ON_PROJECT_ERRORS, **DELETES)
async def revoke_token(project: ProjectAdminDep, token_id: str, session: SessionDep) -> None:
    """Revoke a token at once: it is deleted, and answers 401 from the next request on."""
    await service.revoke_token(session, project.id, token_id)


@router.get(
    "/projects/{project_id}/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **ON_PROJECT_ERRORS},
)
async def stream_events(
    project: ProjectReadDep,
    rt: RuntimeDep,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> EventSourceResponse:
    """Server-sent events: message.received, code.found, each with its ``id:``; send
    ``Last-Event-ID`` to resume after it. A comment line every 15 s keeps it open."""
    return await event_stream(rt, project.id, resume_point(last_event_id))


@router.get(
    "/events",
    response_class=EventSourceResponse,
    responses={200: {"content": {"text/event-stream": {}}}, **errors(Forbidden)},
)
async def stream_every_project(
    _: AdminDep,
    rt: RuntimeDep,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> EventSourceResponse:
    """Every project's server-sent events (the operator's token only), as each project's
    stream sends them with ``project_id`` added to the data: escalation.opened tells that
    an agent needs a human. ``Last-Event-ID`` resumes after that event."""
    return await event_stream(rt, None, resume_point(last_event_id))
