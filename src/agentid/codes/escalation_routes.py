"""HTTP routes for escalations: an agent asks a human (``write``), reads what it asked
(``read``); the operator lists what is open everywhere and answers (admin only, so an
agent can never answer itself). Behaviour in ``agentid.codes.escalations``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path
from fastapi import Query
from fastapi import status

from agentid.api.paging import IdPaging
from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectReadDep
from agentid.api.project import ProjectWriteDep
from agentid.api.responses import GATED
from agentid.api.responses import ON_PROJECT
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.auth import AdminDep
from agentid.auth import RuntimeDep
from agentid.codes import escalations
from agentid.codes.schemas import EscalationAnswer
from agentid.codes.schemas import EscalationCreate
from agentid.codes.schemas import EscalationList
from agentid.codes.schemas import EscalationOut
from agentid.errors import Conflict
from agentid.errors import Forbidden
from agentid.filters import cursor_filter

router = APIRouter(tags=["escalations"], responses=errors(*GATED))
ON_PROJECT_ERRORS = errors(*ON_PROJECT)
EscalationId = Annotated[str, Path(max_length=26)]
PATH = "/projects/{project_id}/escalations"


@router.post(
    PATH,
    status_code=status.HTTP_201_CREATED,
    response_model=EscalationOut,
    responses=errors(*ON_PROJECT, Conflict, *WITH_BODY),
)
async def open_escalation(
    project: ProjectWriteDep, body: EscalationCreate, rt: RuntimeDep, session: SessionDep
) -> EscalationOut:
    """Ask the operator for a ``code``, a ``link`` or ``other`` help, saying ``reason``
    (and the ``service``, e.g. notion.so), open for ``expires_in`` seconds (an hour by
    default). An answered code or link arrives in ``/codes``: wait there as for any code."""
    return await escalations.open_escalation(rt, session, project.id, body)


@router.get(PATH, response_model=EscalationList, responses=ON_PROJECT_ERRORS)
async def list_escalations(
    project: ProjectReadDep, session: SessionDep, page: IdPaging
) -> EscalationList:
    """The project's escalations, newest first: open, answered or expired."""
    before = cursor_filter(page.before, "before", "an escalation id")
    return await escalations.listed(session, project.id, before, page.limit)


@router.get(PATH + "/{escalation_id}", response_model=EscalationOut, responses=ON_PROJECT_ERRORS)
async def read_escalation(
    project: ProjectReadDep,
    escalation_id: EscalationId,
    rt: RuntimeDep,
    session: SessionDep,
    wait: Annotated[float, Query(ge=0, le=300)] = 0,
) -> EscalationOut:
    """One escalation; with ``wait=N`` an open one is held until it is answered or
    expires (at most N seconds)."""
    return await escalations.one(rt, session, project.id, escalation_id, wait)


@router.post(
    PATH + "/{escalation_id}/answer",
    response_model=EscalationOut,
    responses=errors(*ON_PROJECT, Conflict, *WITH_BODY),
)
async def answer_escalation(
    project: ProjectAdminDep,
    escalation_id: EscalationId,
    body: EscalationAnswer,
    rt: RuntimeDep,
    session: SessionDep,
) -> EscalationOut:
    """The operator's answer (admin only); a code or link joins the project's codes at
    once. 409 when it was answered already or has expired."""
    return await escalations.answer(rt, session, project.id, escalation_id, body.value)


@router.get("/escalations", response_model=EscalationList, responses=errors(Forbidden))
async def open_escalations(_: AdminDep, session: SessionDep, page: IdPaging) -> EscalationList:
    """Every project's open escalations, newest first (the operator's token only)."""
    before = cursor_filter(page.before, "before", "an escalation id")
    return await escalations.open_everywhere(session, before, page.limit)
