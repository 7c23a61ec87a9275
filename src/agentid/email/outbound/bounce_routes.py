"""``POST /webhooks/mail/{project_id}``: bounces the project's relay reports after the fact
(SendGrid's Signed Event Webhook). No token: the relay's signature is the proof, checked
with the key in the project's relay URL; without a valid one, 401 and nothing changes."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from agentid.api.responses import GATED, WITH_BODY, errors
from agentid.api.session import SessionDep
from agentid.auth import RuntimeDep
from agentid.email.outbound import policy
from agentid.email.outbound.routes import SenderDep
from agentid.errors import NotFound, Unauthorized, ValidationFailed
from agentid.names import SLUG
from agentid.projects.repository import ProjectRepository
from agentid.providers.accounts import relay_for
from agentid.providers.base import BounceReports, WebhookRequest
from agentid.times import utcnow

router = APIRouter(prefix="/webhooks/mail", tags=["sending"])


@router.post(
    "/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_model=None,
    responses=errors(*GATED, NotFound, *WITH_BODY),
)
async def bounces(
    project_id: str, request: Request, rt: RuntimeDep, session: SessionDep, sender: SenderDep
) -> None:
    """The relay's bounce reports: each bounced address is suppressed for the project."""
    relay = None
    if SLUG.fullmatch(project_id) and await ProjectRepository(session).get(project_id):
        await session.commit()
        try:
            relay = await relay_for(rt, project_id, sender.transports)
        except ValidationFailed:
            relay = None
    if not isinstance(relay, BounceReports):
        raise NotFound("no relay that reports bounces for this project")
    body = await request.body()
    hook = WebhookRequest(
        method=request.method,
        url=str(request.url),
        headers=tuple((k.lower(), v) for k, v in request.headers.items()),
        body=body,
    )
    if not relay.check_bounce_signature(hook, utcnow()):
        raise Unauthorized("the relay's signature is missing, stale or wrong")
    await policy.record_bounces(session, project_id, relay.read_bounces(hook))
