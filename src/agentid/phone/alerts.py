"""Twilio's Debugger webhook (``POST /webhooks/twilio/alerts``): carrier filtering said
at once.

Twilio filters many inbound verification SMS (error 30038, and 30039 for a message
blocked before delivery); the SMS never reaches us, and an agent waiting on ``/codes``
would time out in silence. The Debugger webhook, set once per Twilio account in its
console (Monitor > Debugger > Webhook: ``AGENTID_PUBLIC_URL/webhooks/twilio/alerts``),
posts each alert form-encoded (``Sid``, ``AccountSid``, ``Timestamp``, ``Level``,
``PayloadType``, ``Payload``: JSON with ``resource_sid``, ``error_code``, ``more_info``),
signed like every Twilio webhook. A 30038/30039 alert whose ``more_info`` names one of our
numbers as ``To`` becomes an ``sms.filtered`` event of that number's project; any other
alert is acknowledged and dropped. The signature is checked as for SMS: with the token of
the account that owns the number, else the service's (403 when it does not verify).
"""

from __future__ import annotations

import logging
from typing import Any

from agentid.errors import Forbidden
from agentid.events import Kind
from agentid.events import Signal
from agentid.json_input import json_object
from agentid.phone.repository import PhoneRepository
from agentid.phone.service import account_secret
from agentid.phone.webhooks import NOT_SIGNED
from agentid.phone.webhooks import our_number
from agentid.providers.accounts import phone_for
from agentid.providers.base import WebhookRequest
from agentid.providers.registry import Transports
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.times import json_time
from agentid.times import utcnow

log = logging.getLogger("agentid.phone")
FILTERED = frozenset({"30038", "30039"})


def _payload(hook: WebhookRequest) -> dict[str, Any]:
    return json_object(hook.param("Payload") or "{}") or {}


def _to(payload: dict[str, Any]) -> str | None:
    more = payload.get("more_info")
    if not isinstance(more, dict):
        return None
    to = next((more[k] for k in ("To", "to", "msgTo") if isinstance(more.get(k), str)), None)
    return our_number(to)


async def handle(
    rt: Runtime, session: AsyncSession, transports: Transports, hook: WebhookRequest
) -> bool:
    """Verify one Debugger alert; True when it became an ``sms.filtered`` event."""
    payload = _payload(hook)
    code = str(payload.get("error_code") or "")[:8]
    to = _to(payload)
    row = await PhoneRepository(session).live_by_e164("twilio", to) if to else None
    await session.commit()
    provider = await phone_for(rt, row.project_id, transports) if row else rt.providers.phone
    secret = account_secret(rt, row) if row else None
    if (
        provider is None
        or provider.scheme != "twilio"
        or not provider.check_signature(hook, secret)
    ):
        raise Forbidden(NOT_SIGNED)
    if row is None or code not in FILTERED:
        log.info("twilio alert not about a filtered sms of ours", extra={"error_code": code})
        return False
    notice = {"kind": Kind.SMS_FILTERED.value, "error_code": code, "at": json_time(utcnow())}
    event = event_log.row(row.project_id, Kind.SMS_FILTERED.value, row.id, notice)
    (seq,) = await event_log.append_async(session, [event])
    await session.commit()
    rt.bus.publish(Signal(row.project_id, Kind.SMS_FILTERED, seq))
    log.warning(
        "the provider filtered an sms", extra={"project_id": row.project_id, "error_code": code}
    )
    return True
