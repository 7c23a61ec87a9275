"""Codes and escalations: every code and link from email, SMS and human answers; the
questions agents put to the operator, and the operator's answers (the operator's session
only, as in the API: an agent's token can never answer its own question)."""

from __future__ import annotations

from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import Form
from fastapi import Path
from fastapi import Query
from fastapi import Request
from pydantic import ValidationError
from starlette.responses import HTMLResponse
from starlette.responses import RedirectResponse
from starlette.responses import Response

from agentid.api.paging import IdCursor
from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectReadDep
from agentid.api.session import SessionDep
from agentid.auth import AdminDep
from agentid.auth import RuntimeDep
from agentid.codes import escalations
from agentid.codes import service as codes
from agentid.codes.repository import CodeQuery
from agentid.codes.schemas import EscalationAnswer
from agentid.errors import ValidationFailed
from agentid.filters import cursor_filter
from agentid.store.db import AsyncSession
from agentid.web.deps import Checkbox
from agentid.web.templating import filtered
from agentid.web.templating import page

router = APIRouter()

PAGE = 50
Channel = Literal["email", "sms", "escalation"]


@router.get("/projects/{project_id}/codes")
async def codes_page(
    request: Request,
    project: ProjectReadDep,
    session: SessionDep,
    channel: Channel | Literal[""] = "",
    unused: Checkbox = None,
    before: IdCursor = None,
    part: Annotated[str | None, Query(max_length=8)] = None,
) -> HTMLResponse:
    """Newest first, used or not; ``part=rows`` answers the rows alone (the live update)."""
    before = cursor_filter(before or None, "before", "a code id")
    position = await codes.cursor(session, project.id, before) if before else None
    q = CodeQuery(channel=channel or None, unused=bool(unused), before=position, limit=PAGE)
    found, nxt = await codes.find(session, project.id, q)
    await session.commit()
    kept: dict[str, str] = {"channel": channel} if channel else {}
    kept |= {"unused": "1"} if unused else {}
    return page(
        request, "_codes_rows.html" if part == "rows" else "codes.html",
        codes=found, next=nxt, channel=channel, unused=bool(unused), paged=before is not None,
        **filtered(f"/ui/projects/{project.id}/codes", kept), project_id=project.id,
        section="codes",
        title=f"{project.id}: codes",
    )  # fmt: skip


@router.get("/projects/{project_id}/escalations")
async def escalations_page(
    request: Request,
    project: ProjectReadDep,
    session: SessionDep,
    before: IdCursor = None,
) -> HTMLResponse:
    """The project's escalations, open or answered, newest first."""
    return await _escalations(request, session, before, project.id)


@router.get("/escalations")
async def open_everywhere(
    request: Request, _: AdminDep, session: SessionDep, before: IdCursor = None
) -> HTMLResponse:
    """Every project's open escalations (the operator's session only)."""
    return await _escalations(request, session, before, None)


async def _escalations(
    request: Request, session: AsyncSession, before: str | None, project_id: str | None
) -> HTMLResponse:
    """One project's escalations, or (``project_id`` None) every project's open ones."""
    cursor = cursor_filter(before or None, "before", "an escalation id")
    if project_id is None:
        listed = await escalations.open_everywhere(session, cursor, PAGE)
        title = "Escalations waiting for an answer"
    else:
        listed = await escalations.listed(session, project_id, cursor, PAGE)
        title = f"{project_id}: escalations"
    await session.commit()
    return page(
        request, "escalations.html", escalations=listed.escalations, next=listed.next,
        everywhere=project_id is None, project_id=project_id, section="escalations",
        title=title,
    )  # fmt: skip


@router.post("/projects/{project_id}/escalations/{escalation_id}/answer")
async def answer(
    project: ProjectAdminDep,
    escalation_id: Annotated[str, Path(max_length=26)],
    rt: RuntimeDep,
    session: SessionDep,
    value: Annotated[str, Form(max_length=2048)],
    back: Annotated[str, Form(max_length=16)] = "project",
) -> Response:
    """The operator's answer: the agent's wait for a code returns it."""
    try:
        checked = EscalationAnswer(value=value.strip())
    except ValidationError as exc:
        raise ValidationFailed("an answer is one line of 1 to 2,048 characters") from exc
    await escalations.answer(rt, session, project.id, escalation_id, checked.value)
    where = "/ui/escalations" if back == "everywhere" else f"/ui/projects/{project.id}/escalations"
    return RedirectResponse(where, status_code=303)
