"""Standard Webhooks signing: a ``whsec_<base64>`` secret per webhook, and the three headers
each delivery carries.

``webhook-id`` names the message (the same for every retry and replay, so a receiver can
drop a repeat), ``webhook-timestamp`` is when this attempt was signed (seconds since the
epoch: a receiver refuses one too old, so it is signed again at every attempt), and
``webhook-signature`` is ``v1,<base64 of HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

from agentid.errors import ValidationFailed

PREFIX = "whsec_"
KEY_BYTES = 32
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64  # what an operator's own secret may hold


def new_secret() -> tuple[str, bytes]:
    """A signing secret as shown once (``whsec_<base64>``) and the key it holds."""
    key = secrets.token_bytes(KEY_BYTES)
    return PREFIX + base64.b64encode(key).decode(), key


def secret_key(secret: str) -> bytes:
    """The key of a ``whsec_`` secret; ``ValidationFailed`` (never repeating it) when it is
    not one, or holds fewer than 24 or more than 64 bytes."""
    if not secret.startswith(PREFIX):
        raise ValidationFailed("a webhook secret is whsec_ followed by base64")
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise ValidationFailed("a webhook secret is whsec_ followed by base64") from None
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        raise ValidationFailed(
            f"a webhook secret holds {MIN_KEY_BYTES} to {MAX_KEY_BYTES} random bytes"
        )
    return key


def signature(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``{id}.{timestamp}.{body}``."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def headers(key: bytes, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one attempt, signed at ``timestamp``."""
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(key, message_id, timestamp, body),
    }
