"""The projects pages: every project the signed-in token sees, and one project."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Query
from fastapi import Request
from starlette.responses import HTMLResponse

from agentid.api.project import ProjectReadDep
from agentid.api.session import SessionDep
from agentid.auth import PrincipalDep
from agentid.auth import RuntimeDep
from agentid.web import overview
from agentid.web.templating import page

router = APIRouter()


@router.get("/projects")
async def projects(
    request: Request,
    who: PrincipalDep,
    session: SessionDep,
    before: Annotated[str | None, Query(max_length=63)] = None,
) -> HTMLResponse:
    found, nxt = await overview.summaries(session, who, before)
    return page(request, "projects.html", summaries=found, next=nxt, title="Projects")


@router.get("/projects/{project_id}")
async def project(
    request: Request,
    project: ProjectReadDep,
    who: PrincipalDep,
    rt: RuntimeDep,
    session: SessionDep,
) -> HTMLResponse:
    shown = await overview.detail(rt, session, who, project)
    return page(
        request, "project.html", d=shown, project_id=project.id, section="", title=project.id
    )
