"""Provider SMS webhooks: whose number, whose credential, whose signature, then store.

The rules this module keeps:

- The URL a signature is checked against is the public one, ``AGENTID_PUBLIC_URL`` + the
  path and query the request came with: never the address the server was reached at,
  which a proxy or a tunnel changes.
- The project is found from ``To``, then its provider (its own account, or the
  service-wide one), and only that provider's credential verifies the request: a
  project's own Twilio or Plivo account signs with its own token.
- Missing or wrong signature: ``Forbidden`` (403, the same for every provider), nothing
  stored. A ``To`` that is no live number of ours: nothing stored and a warning logged,
  answered 200 (so the provider does not retry forever) once the service-wide provider
  of that kind has verified the signature, 403 when it cannot.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

from agentid.errors import Forbidden
from agentid.errors import ValidationFailed
from agentid.phone.inbound import Recipient
from agentid.phone.inbound import receive
from agentid.phone.repository import PhoneRepository
from agentid.phone.schemas import E164
from agentid.phone.service import account_secret
from agentid.providers.accounts import phone_for
from agentid.providers.base import WebhookRequest
from agentid.providers.registry import Transports
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession

log = logging.getLogger("agentid.phone")
MAX_FIELDS = 500
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'
NOT_SIGNED = "the provider's signature is missing or wrong"


def form_params(body: bytes) -> tuple[tuple[str, str], ...]:
    """The form fields of a webhook body, in order; ``Forbidden`` when it is no form
    (its signature could not be checked)."""
    try:
        text = body.decode("utf-8")
        pairs = parse_qsl(
            text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise Forbidden(NOT_SIGNED) from None
    return tuple(pairs)


def public_url(rt: Runtime, path: str, query: str) -> str:
    base = rt.settings.public_url
    if not base:  # nothing could have been signed for us
        raise Forbidden("AGENTID_PUBLIC_URL is not set: no provider webhook can be checked")
    return base.rstrip("/") + path + (f"?{query}" if query else "")


def our_number(to: str | None) -> str | None:
    """``to`` as the E.164 it may be one of ours under; None when it cannot be one (our
    numbers are E.164: a NUL, a lone surrogate or stray text never reaches a lookup that
    PostgreSQL or the driver would answer with an error)."""
    if to is None:
        return None
    number = to if to.startswith("+") else "+" + to  # E.164 as some providers write it (Plivo)
    return number if re.fullmatch(E164, number) else None


async def handle(
    rt: Runtime,
    session: AsyncSession,
    transports: Transports,
    scheme: str,
    hook: WebhookRequest,
) -> str | None:
    """Verify and store one SMS webhook of ``scheme``; the stored SMS's id, or None when
    nothing new was stored (a retry, or a number that is not ours)."""
    to = our_number(hook.param("To"))
    row = await PhoneRepository(session).live_by_e164(scheme, to) if to else None
    await session.commit()
    if row is None:
        service = rt.providers.phone
        if service is None or service.scheme != scheme or not service.check_signature(hook):
            raise Forbidden(NOT_SIGNED)
        log.warning("sms for a number that is not ours", extra={"provider": scheme})
        return None
    provider = await phone_for(rt, row.project_id, transports)
    secret = account_secret(rt, row)
    if provider is None or provider.scheme != scheme or not provider.check_signature(hook, secret):
        raise Forbidden(NOT_SIGNED)
    try:
        sms = provider.read_sms(hook)
    except ValidationFailed:
        log.warning("signed sms webhook without an sms", extra={"provider": scheme})
        raise
    return await receive(rt, session, Recipient(row.project_id, row.id, scheme), sms)
