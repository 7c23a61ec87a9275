"""The SMS in a vendor's webhook form (Twilio's, Plivo's): what ``read_sms`` answers.

Both vendors post the sender as ``From`` and our number as ``To``, and the message's id
and text under names of their own; a form without the id (at most 64 characters),
``From`` or ``To`` is refused. The message counts as received when it is read, and every
field the vendor sent stays in ``InboundSms.params``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from datetime import datetime

from agentid.errors import ValidationFailed
from agentid.providers.base import InboundSms
from agentid.providers.base import WebhookRequest


def read_sms_form(
    request: WebhookRequest,
    *,
    ids: tuple[str, ...],
    text: str,
    media: tuple[str, ...] = (),
    e164: Callable[[str], str] = str,
) -> InboundSms:
    """The SMS in ``request``'s form: its id from the first of ``ids`` given, its text
    from ``text``; ``e164`` writes the vendor's numbers as E.164 (Twilio's already are)."""
    provider_id = next((value for name in ids if (value := request.param(name))), None)
    sender, to = request.param("From"), request.param("To")
    if not provider_id or not sender or not to or len(provider_id) > 64:
        raise ValidationFailed(f"an SMS webhook needs {ids[0]}, From and To")
    return InboundSms(
        from_number=e164(sender),
        to_number=e164(to),
        body=request.param(text) or "",
        provider_id=provider_id,
        received_at=datetime.now(UTC),
        media=media,
        params=request.params,
    )
