"""``POST /webhooks/mail/{project_id}``: bounces the project's relay reports after the fact
(SendGrid's Signed Event Webhook; SES through an SNS topic). No token: the relay's
signature is the proof, checked with what the project's relay URL names (SendGrid's
verification key; SNS's signing certificate and the topics allowed); without a valid
one, 403 and nothing changes. Which project a bounce is filed under:
``agentid.email.outbound.bounces``."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi import Request
from fastapi import status

from agentid.api.responses import GATED
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.api.state import SenderDep
from agentid.auth import RuntimeDep
from agentid.email.outbound import bounces as reported
from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.errors import ProviderError
from agentid.names import SLUG
from agentid.projects.repository import ProjectRepository
from agentid.providers.base import BounceReports
from agentid.providers.base import WebhookRequest
from agentid.times import utcnow

router = APIRouter(prefix="/webhooks/mail", tags=["sending"])


@router.post(
    "/{project_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_model=None,
    responses=errors(*GATED, Forbidden, NotFound, ProviderError, *WITH_BODY),
)
async def bounces(
    project_id: str, request: Request, rt: RuntimeDep, session: SessionDep, sender: SenderDep
) -> None:
    """The relay's bounce reports: each bounced address is suppressed for the project
    that sent the message, and its recipient fails."""
    chosen = None
    if SLUG.fullmatch(project_id) and await ProjectRepository(session).get(project_id):
        await session.commit()
        chosen = await sender.relays.choose(project_id)
    relay = chosen.relay if chosen is not None else None
    if chosen is None or not isinstance(relay, BounceReports):
        raise NotFound("no relay that reports bounces for this project")
    body = await request.body()
    hook = WebhookRequest(
        method=request.method,
        url=str(request.url),
        headers=tuple((k.lower(), v) for k, v in request.headers.items()),
        body=body,
    )
    if not await relay.check_bounce_signature(hook, utcnow()):
        raise Forbidden("the relay's signature is missing, stale or wrong")
    await reported.record(rt, session, project_id, chosen.source, await relay.read_bounces(hook))
