"""Public routes SMS come in by: ``POST /webhooks/{scheme}/sms`` for every phone provider
that posts them (``/webhooks/twilio/sms``, ``/webhooks/plivo/sms``: no token, the
provider's signature is the proof, checked in ``agentid.phone.webhooks``),
and the sandbox's ``POST /sandbox/sms`` (the operator's token), served only when the
service-wide phone provider is the sandbox."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Path
from fastapi import Request
from fastapi import Response
from fastapi import status

from agentid.api.responses import GATED
from agentid.api.responses import WITH_BODY
from agentid.api.responses import Responses
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.api.state import TransportsDep
from agentid.auth import PrincipalDep
from agentid.auth import RuntimeDep
from agentid.auth import admin
from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.ids import new_id
from agentid.phone import alerts
from agentid.phone import forwarder_service
from agentid.phone import webhooks
from agentid.phone.inbound import Recipient
from agentid.phone.inbound import receive
from agentid.phone.inbound import sms_out
from agentid.phone.repository import PhoneRepository
from agentid.phone.schemas import Forwarded
from agentid.phone.schemas import SandboxSms
from agentid.phone.schemas import SmsOut
from agentid.providers.base import InboundSms
from agentid.providers.base import WebhookRequest
from agentid.times import utcnow

router = APIRouter(prefix="/webhooks", tags=["phone"])
sandbox_router = APIRouter(tags=["phone"], responses=errors(*GATED))
XML: Responses = {
    200: {"description": "an empty TwiML/Plivo XML answer", "content": {"application/xml": {}}}
}
# what a route a provider posts to answers: a signature that does not check out is a 403
SIGNED: Responses = {**XML, **errors(*GATED, Forbidden, *WITH_BODY)}
SCHEME = r"^[a-z][a-z0-9]{0,31}$"  # a provider's URL scheme (the registry's names)


async def _hook(request: Request, rt: RuntimeDep) -> WebhookRequest:
    body = await request.body()
    return WebhookRequest(
        method=request.method,
        url=webhooks.public_url(rt, request.url.path, request.url.query),
        headers=tuple((k.lower(), v) for k, v in request.headers.items()),
        body=body,
        params=webhooks.form_params(body),
    )


@router.post("/twilio/alerts", response_class=Response, responses=SIGNED)
async def twilio_alerts(
    request: Request, rt: RuntimeDep, session: SessionDep, made: TransportsDep
) -> Response:
    """Twilio's Debugger webhook: a 30038/30039 alert for one of our numbers becomes an
    ``sms.filtered`` event, which ends a wait on ``/codes`` at once."""
    hook = await _hook(request, rt)
    await alerts.handle(rt, session, made, hook)
    return Response(webhooks.EMPTY_TWIML, media_type="application/xml")


@router.post(
    "/forwarder/{token}",
    response_model=Forwarded,
    responses=errors(*GATED, Forbidden, NotFound, *WITH_BODY),
)
async def forwarded_sms(
    token: str, request: Request, rt: RuntimeDep, session: SessionDep
) -> Forwarded:
    """An SMS a forwarding app on a human's phone posts: JSON ``{"from", "body",
    "sent_at"?}`` or a listed app's fields; the URL is the credential (404 when wrong or
    revoked); Standard Webhooks signatures are checked when present (403)."""
    headers = {k.lower(): v for k, v in request.headers.items()}
    body = await request.body()
    content_type = headers.get("content-type", "")
    sms_id = await forwarder_service.take(rt, session, token, headers, body, content_type)
    return Forwarded(stored=sms_id is not None, id=sms_id)


@sandbox_router.post(
    "/sandbox/sms",
    status_code=status.HTTP_201_CREATED,
    response_model=SmsOut,
    response_model_by_alias=True,
    responses=errors(Forbidden, NotFound, *WITH_BODY),
)
async def sandbox_sms(
    body: SandboxSms, who: PrincipalDep, rt: RuntimeDep, session: SessionDep
) -> SmsOut:
    """Deliver an SMS to a sandbox number, as a provider would (admin only)."""
    await admin(who)
    row = await PhoneRepository(session).live_by_e164("sandbox", body.to)
    await session.commit()
    if row is None:
        raise NotFound(f"{body.to} is no sandbox number of a project")
    now = utcnow()
    sms = InboundSms(
        from_number=body.from_,
        to_number=body.to,
        body=body.body,
        provider_id="SB" + new_id(),
        received_at=now,
        params=(("From", body.from_), ("To", body.to), ("Body", body.body)),
    )
    sms_id = await receive(rt, session, Recipient(row.project_id, row.id, "sandbox"), sms)
    stored = await PhoneRepository(session).sms(sms_id) if sms_id else None
    if stored is None:  # a fresh id is never stored before; gone only if purged meanwhile
        raise NotFound("the SMS is gone")
    return sms_out(stored)


# Last: a vendor's own routes (``/twilio/alerts``) and ``/forwarder/{token}`` come first.
@router.post("/{scheme}/sms", response_class=Response, responses=SIGNED)
async def provider_sms(
    scheme: Annotated[str, Path(pattern=SCHEME, description="twilio, plivo")],
    request: Request,
    rt: RuntimeDep,
    session: SessionDep,
    made: TransportsDep,
) -> Response:
    """An SMS a phone provider delivers to its ``webhook_path``, signed as that provider
    signs (Twilio: ``X-Twilio-Signature``; Plivo: ``X-Plivo-Signature-V3`` and its nonce);
    a retry stores nothing, and a scheme that signs nothing is 403."""
    hook = await _hook(request, rt)
    await webhooks.handle(rt, session, made, scheme, hook)
    return Response(webhooks.EMPTY_TWIML, media_type="application/xml")
