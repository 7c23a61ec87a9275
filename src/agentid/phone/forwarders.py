"""A human's own phone as an SMS source: an SMS-forwarding app POSTs what arrives.

Many services refuse VoIP numbers, Twilio filters inbound OTPs (error 30038), and several
providers' policies forbid receiving identity codes on rented numbers: the dependable path
for a phone-bound wall is often the operator's own mobile. Common Android forwarding apps
can only POST a fixed body template to a URL, so the credential is the unguessable URL
itself (``/webhooks/forwarder/<token>``; only the token's SHA-256 is stored): a wrong or
revoked URL is 404.

Where the sender can sign, Standard Webhooks are honoured: ``webhook-id``,
``webhook-timestamp`` and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">``, keyed with the ``whsec_`` secret shown once). When any of
those headers is present, all must be, and a wrong signature or a timestamp more than five
minutes away is 403 with nothing stored.

A repeated ``webhook-id``, or the same ``from`` + ``body`` + ``sent_at`` again, stores
nothing new. The body is JSON or a form, with the fields of ``FIELDS`` (agentid's own
``from``/``body``/``sent_at`` and those of the apps the README names).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from agentid.crypto import SecretBox
from agentid.errors import Forbidden
from agentid.errors import ValidationFailed
from agentid.phone.schemas import MAX_SMS_CHARS
from agentid.providers.base import InboundSms

TOLERANCE_SECONDS = 300
MAX_SIGNATURES = 8
# What each field is called by agentid's own format and by the apps the README names:
# SMS Forwarder (bogkonstantin): from, text, sentStamp; SmsForwarder (pppscn): from,
# content, timestamp; SMS Gateway for Android (capcom6): payload.phoneNumber,
# payload.message, payload.receivedAt.
FIELDS = {
    "from": ("from", "phoneNumber", "sender", "phone"),
    "body": ("body", "text", "content", "message", "msg"),
    "sent_at": ("sent_at", "sentStamp", "timestamp", "receivedAt", "receivedStamp"),
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def new_secret() -> tuple[str, bytes]:
    """A signing secret as shown (``whsec_<base64>``) and its key."""
    key = secrets.token_bytes(24)
    return "whsec_" + base64.b64encode(key).decode(), key


@dataclass(frozen=True, slots=True)
class Posted:
    """What a forwarding app posted."""

    sender: str
    body: str
    sent_at: str | None


def _fields(body: bytes, content_type: str) -> dict[str, Any]:
    text = body.decode("utf-8")
    if "json" in content_type or text.lstrip().startswith("{"):
        found = json.loads(text)
        if not isinstance(found, dict):
            raise ValueError("not an object")
        payload = found.get("payload")
        return {**found, **payload} if isinstance(payload, dict) else found
    return dict(parse_qsl(text, keep_blank_values=True, max_num_fields=100))


def read(body: bytes, content_type: str) -> Posted:
    """The SMS a forwarding app posted; ``ValidationFailed`` when it holds none."""
    try:
        fields = _fields(body, content_type)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ValidationFailed("a forwarded SMS is JSON or a form") from None

    def first(name: str) -> str | None:
        for key in FIELDS[name]:
            value = fields.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool):
                return str(value)
        return None

    sender, text = first("from"), first("body")
    if not sender or text is None:
        raise ValidationFailed('a forwarded SMS needs "from" and "body"')
    if len(sender) > 64 or len(text) > MAX_SMS_CHARS:
        raise ValidationFailed(f'"from" is at most 64 characters, "body" {MAX_SMS_CHARS}')
    sent_at = first("sent_at")
    return Posted(sender, text, sent_at[:64] if sent_at else None)


def check_signature(
    box: SecretBox, sealed: bytes, headers: dict[str, str], body: bytes, now: datetime
) -> str | None:
    """The ``webhook-id`` of a signed request (None when unsigned); ``Forbidden`` for a
    signature that is partial, wrong or stale."""
    wid, stamp, signatures = (
        headers.get(h) for h in ("webhook-id", "webhook-timestamp", "webhook-signature")
    )
    if wid is None and stamp is None and signatures is None:
        return None
    if not wid or not stamp or not signatures or not stamp.isdigit() or len(stamp) > 12:
        raise Forbidden("the webhook signature headers are incomplete")
    if abs(now.timestamp() - int(stamp)) > TOLERANCE_SECONDS:
        raise Forbidden("the webhook timestamp is more than five minutes away")
    key = box.open(sealed)
    signed = wid.encode() + b"." + stamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest())
    given = []
    for part in signatures.split()[:MAX_SIGNATURES]:
        version, _, value = part.partition(",")
        if version == "v1":
            given.append(value.encode())
    if not sum(hmac.compare_digest(expected, value) for value in given):
        raise Forbidden("the webhook signature is wrong")
    return wid[:256]


def sms_of(
    forwarder_id: str, number: str, posted: Posted, webhook_id: str | None, now: datetime
) -> InboundSms:
    """The SMS to store: its id is the webhook id when signed, else the hash of what
    was posted when it says when it was sent (a repost is then the same SMS)."""
    if webhook_id is not None:
        key = f"id\0{webhook_id}"
    elif posted.sent_at is not None:
        key = f"sms\0{posted.sender}\0{posted.body}\0{posted.sent_at}"
    else:
        key = f"new\0{secrets.token_hex(16)}"
    digest = hashlib.sha256(f"{forwarder_id}\0{key}".encode("utf-8", "surrogatepass"))
    params = [("from", posted.sender), ("body", posted.body)]
    params += [("sent_at", posted.sent_at)] if posted.sent_at else []
    return InboundSms(
        from_number=posted.sender,
        to_number=number,
        body=posted.body,
        provider_id="fw" + digest.hexdigest()[:62],
        received_at=now.astimezone(UTC),
        params=tuple(params),
    )


def secret_key(secret: str) -> bytes:
    """The key of a ``whsec_`` secret (for tests and senders)."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except binascii.Error:
        raise ValidationFailed("not a whsec_ secret") from None
