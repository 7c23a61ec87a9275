"""SendGrid's Signed Event Webhook: which recipients bounced, told by SendGrid itself.

SendGrid POSTs a JSON array of events; with signing on, it signs ``timestamp + body`` with
ECDSA P-256 / SHA-256 and sends the signature (base64 DER) in
``X-Twilio-Email-Event-Webhook-Signature`` and the timestamp (Unix seconds) in
``X-Twilio-Email-Event-Webhook-Timestamp``. The verification key SendGrid shows under
Mail Settings (base64 SubjectPublicKeyInfo) goes in the relay URL as ``webhook_key``.
A timestamp more than ``TOLERANCE_SECONDS`` away from now is refused (a replay).

A ``bounce`` event whose ``type`` is not ``blocked`` (a blocked message is a temporary,
reputation-related refusal) and a ``dropped`` event for a bounced, spam-reporting or
invalid address are permanent: the recipient's address bounced (or reported spam before),
and nothing was delivered. A ``spamreport`` is a complaint: the reader
marked the message as spam. ``sg_message_id`` starts with the ``X-Message-Id`` the send
got (``<id>.filter...``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_der_public_key

from agentid.errors import ValidationFailed
from agentid.providers.base import Bounce
from agentid.providers.base import WebhookRequest

SIGNATURE = "x-twilio-email-event-webhook-signature"
TIMESTAMP = "x-twilio-email-event-webhook-timestamp"
TOLERANCE_SECONDS = 300
MAX_EVENTS = 1000
# a dropped event's reasons that mean the address (not "Invalid SMTPAPI header": ours)
_DROPPED_FOR_GOOD = ("bounced address", "spam reporting address", "invalid address")


def public_key(value: str) -> ec.EllipticCurvePublicKey:
    """The verification key SendGrid shows (base64 DER), or ``ValidationFailed``."""
    try:
        key = load_der_public_key(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        raise ValidationFailed("webhook_key must be SendGrid's verification key (base64)") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValidationFailed("webhook_key must be an ECDSA public key")
    return key


def signed(key: ec.EllipticCurvePublicKey, request: WebhookRequest, now: datetime) -> bool:
    signature, stamp = request.header(SIGNATURE), request.header(TIMESTAMP)
    if not signature or not stamp or not stamp.isdigit() or len(stamp) > 12:
        return False
    if abs(now.timestamp() - int(stamp)) > TOLERANCE_SECONDS:
        return False
    try:
        key.verify(
            base64.b64decode(signature, validate=True),
            stamp.encode() + request.body,
            ec.ECDSA(hashes.SHA256()),
        )
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def bounces(body: bytes) -> Sequence[Bounce]:
    """The permanent bounces and the complaints among the events; ``ValidationFailed``
    for a body that is not SendGrid's array of events."""
    try:
        events: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValidationFailed("not JSON: SendGrid posts an array of events") from None
    if not isinstance(events, list) or len(events) > MAX_EVENTS:
        raise ValidationFailed(f"SendGrid posts an array of at most {MAX_EVENTS} events")
    found: list[Bounce] = []
    for event in events:
        if not isinstance(event, dict) or not isinstance(event.get("email"), str):
            continue
        kind, reason = event.get("event"), str(event.get("reason") or "")
        why = reason.strip().lower()
        permanent = (kind == "bounce" and event.get("type") != "blocked") or (
            kind == "dropped" and (why == "invalid" or why.startswith(_DROPPED_FOR_GOOD))
        )
        complaint = kind == "spamreport"
        if not (permanent or complaint):
            continue
        sg_id = event.get("sg_message_id")
        message_id = sg_id.split(".", 1)[0] if isinstance(sg_id, str) and sg_id else None
        status = str(event.get("status") or "")
        said = " ".join(part for part in (status, reason) if part)[:500] or kind
        found.append(
            Bounce(event["email"][:320], message_id, f"sendgrid {kind}: {said}", complaint)
        )
    return found
