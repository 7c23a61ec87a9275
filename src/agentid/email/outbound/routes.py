"""HTTP routes for sending: send, the outbox, suppressions and the send policy."""

from __future__ import annotations

from typing import Annotated

from fastapi import Header
from fastapi import status

from agentid.api.paging import IdPaging
from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectReadDep
from agentid.api.project import ProjectSendDep
from agentid.api.project import ProjectWriteDep
from agentid.api.project import project_router
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.api.state import SenderDep
from agentid.auth import PrincipalDep
from agentid.auth import RuntimeDep
from agentid.email.outbound import policy as send_policy
from agentid.email.outbound import service
from agentid.email.outbound.schemas import OutboundOut
from agentid.email.outbound.schemas import Outbox
from agentid.email.outbound.schemas import SendAccepted
from agentid.email.outbound.schemas import SendPolicyIn
from agentid.email.outbound.schemas import SendPolicyOut
from agentid.email.outbound.schemas import SendRequest
from agentid.email.outbound.schemas import SuppressionList
from agentid.email.outbound.signing import sign_for
from agentid.errors import Conflict
from agentid.errors import ContainsReceivedCode
from agentid.errors import NotFound
from agentid.errors import RateLimited
from agentid.errors import ValidationFailed
from agentid.filters import address_filter
from agentid.filters import cursor_filter
from agentid.filters import path_id

router = project_router("/email", "sending")


@router.post(
    "/send",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SendAccepted,
    responses=errors(Conflict, ContainsReceivedCode, RateLimited, *WITH_BODY),
)
async def send(
    project: ProjectSendDep,
    body: SendRequest,
    rt: RuntimeDep,
    who: PrincipalDep,
    session: SessionDep,
    sender: SenderDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> SendAccepted:
    """Queue a message (202): delivered by the outbox, retried while it may pass; read its
    fate in ``/outbox``. ``Idempotency-Key`` (header or body) names it for 24 hours."""
    if idempotency_key is not None:
        if body.idempotency_key not in (None, idempotency_key):
            raise ValidationFailed("Idempotency-Key and idempotency_key differ")
        body = body.model_copy(update={"idempotency_key": idempotency_key})
    chosen = await sender.relays.choose(project.id)
    accepted = await service.queue(
        rt, session, project, body, who,
        hosted=sender.hosted, sign=sign_for(rt, session, chosen), relay=chosen.source,
    )  # fmt: skip
    sender.wake()
    return accepted


@router.get("/outbox", response_model=Outbox, response_model_by_alias=True)
async def read_outbox(project: ProjectReadDep, session: SessionDep, page: IdPaging) -> Outbox:
    """Sent and sending messages, newest first, each with every recipient's status."""
    before = cursor_filter(page.before, "before", "a message id")
    messages, nxt = await service.outbox(session, project.id, before, page.limit)
    return Outbox(messages=messages, next=nxt)


@router.post(
    "/outbox/{mid}/retry",
    response_model=OutboundOut,
    response_model_by_alias=True,
    responses=errors(Conflict),
)
async def retry(
    project: ProjectSendDep, mid: str, session: SessionDep, sender: SenderDep
) -> OutboundOut:
    """Send a message's failed recipients again (a fresh round of attempts, the same
    bytes); 409 when none failed, or only suppressed addresses did."""
    again = await service.retry(session, project.id, path_id(mid, "sent message"))
    sender.wake()
    return again


@router.get("/suppressions", response_model=SuppressionList)
async def list_suppressions(project: ProjectReadDep, session: SessionDep) -> SuppressionList:
    """Addresses a relay refused for good: sends to them fail at once."""
    return await send_policy.suppressions(session, project.id)


@router.delete(
    "/suppressions/{address:path}", status_code=status.HTTP_204_NO_CONTENT, response_model=None
)
async def lift_suppression(project: ProjectWriteDep, address: str, session: SessionDep) -> None:
    checked = address_filter(address, "address")
    if checked is None or not await send_policy.lift(session, project.id, checked):
        raise NotFound(f"{address[:320]!r} is not suppressed")


@router.get("/policy", response_model=SendPolicyOut)
async def read_policy(project: ProjectReadDep, session: SessionDep) -> SendPolicyOut:
    return await send_policy.read(session, project.id)


@router.put("/policy", response_model=SendPolicyOut, responses=errors(*WITH_BODY))
async def put_policy(
    project: ProjectAdminDep, body: SendPolicyIn, session: SessionDep
) -> SendPolicyOut:
    """The operator sets where the project may send (admin token)."""
    return await send_policy.write(session, project.id, body)
