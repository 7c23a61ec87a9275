"""TOTP (RFC 6238): the codes an authenticator app shows, for the sites that offer one
instead of SMS.

What a site gives is read here: its ``otpauth://totp/ISSUER:ACCOUNT?secret=...`` URI (the
QR code's text, Google's Key URI Format) or the base32 secret with its parameters. The
rule this module keeps: what it accepts, ``code_at`` can always compute, so a stored
authenticator never fails later. Secrets are base32 (any case, spaces and ``=`` padding
ignored) of 10 to 128 bytes: 80 bits is short by today's advice, and pyotp refuses it as a
verifier, but sites still issue it and an authenticator has to take what the site gave.
The HMAC and truncation are pyotp's.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from urllib.parse import unquote
from urllib.parse import urlsplit

import pyotp

from agentid.errors import ValidationFailed

DIGESTS: dict[str, Callable[..., Any]] = {
    "SHA1": hashlib.sha1,
    "SHA256": hashlib.sha256,
    "SHA512": hashlib.sha512,
}
MIN_SECRET_BYTES = 10  # 80 bits: 16 base32 characters, what many sites still issue
MAX_SECRET_BYTES = 128
DIGITS = range(6, 9)  # 6, 7 or 8 (RFC 6238's vectors are 8)
PERIODS = range(10, 121)  # seconds; sites use 30, a few 60
_BASE32 = re.compile(r"[A-Z2-7]+")
MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class Authenticator:
    """One authenticator: its secret (base32, upper case, no padding) and parameters."""

    secret: str
    algorithm: str = "SHA1"
    digits: int = 6
    period: int = 30
    issuer: str | None = None
    account: str | None = None


class _Totp(pyotp.TOTP):
    min_secret_length_bits = MIN_SECRET_BYTES * 8


def code_at(auth: Authenticator, timestamp: float) -> tuple[str, int]:
    """The code at ``timestamp`` (Unix seconds) and the seconds it stays the code (1 to
    the period)."""
    totp = _Totp(
        auth.secret, digits=auth.digits, digest=DIGESTS[auth.algorithm], interval=auth.period
    )
    return totp.at(int(timestamp)), auth.period - int(timestamp) % auth.period


def secret_of(given: str) -> str:
    """A base32 secret as stored: upper case, without spaces or padding; 422 when it is
    not base32 or not 10 to 128 bytes long."""
    text = "".join(given.split()).upper().rstrip("=")
    if not _BASE32.fullmatch(text):
        raise ValidationFailed("secret must be base32 (letters A-Z and digits 2-7)")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except binascii.Error:
        raise ValidationFailed("secret is not valid base32 (its length is wrong)") from None
    if not MIN_SECRET_BYTES <= len(raw) <= MAX_SECRET_BYTES:
        raise ValidationFailed(
            f"secret must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes "
            f"({MIN_SECRET_BYTES * 8 // 5} or more base32 characters), not {len(raw)}"
        )
    return text


def from_fields(
    secret: str, algorithm: str | None = None, digits: int | None = None, period: int | None = None
) -> Authenticator:
    """An authenticator from its secret and parameters (RFC 6238's defaults otherwise)."""
    return Authenticator(
        secret=secret_of(secret),
        algorithm=_algorithm(algorithm or "SHA1"),
        digits=_number(digits if digits is not None else 6, DIGITS, "digits"),
        period=_number(period if period is not None else 30, PERIODS, "period"),
    )


def parse_uri(uri: str) -> Authenticator:
    """An ``otpauth://totp/...`` URI as an authenticator; 422 for another scheme, HOTP, a
    missing or bad secret, an algorithm other than SHA1/SHA256/SHA512, digits other than
    6 to 8, or a period outside 10 to 120 seconds."""
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        raise ValidationFailed("uri is not a URI") from None
    if parts.scheme.lower() != "otpauth":
        raise ValidationFailed("uri must be an otpauth://totp/... URI")
    if parts.netloc.lower() != "totp":
        kind = parts.netloc.lower()[:10] or "none"
        raise ValidationFailed(f"only otpauth://totp/ URIs are taken (this one is {kind!r})")
    query = parse_qs(parts.query, keep_blank_values=True)
    params = {key.lower(): values[0] for key, values in query.items()}
    if "secret" not in params:
        raise ValidationFailed("uri has no secret= parameter")
    issuer, account = _label(unquote(parts.path.lstrip("/")))
    auth = from_fields(
        params["secret"],
        algorithm=params.get("algorithm"),
        digits=_integer(params.get("digits"), "digits"),
        period=_integer(params.get("period"), "period"),
    )
    named = params.get("issuer")
    return Authenticator(
        auth.secret,
        auth.algorithm,
        auth.digits,
        auth.period,
        issuer=_plain(named, "issuer") if named else issuer,
        account=account,
    )


def _label(label: str) -> tuple[str | None, str | None]:
    """(issuer, account) of a URI's label, ``ISSUER:ACCOUNT`` or ``ACCOUNT``."""
    issuer, sep, account = label.partition(":")
    if not sep:
        issuer, account = "", issuer
    return _plain(issuer.strip(), "issuer") or None, _plain(account.strip(), "account") or None


def _plain(text: str, what: str) -> str:
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise ValidationFailed(f"uri's {what} holds control characters")
    return text[:MAX_NAME]


def _algorithm(name: str) -> str:
    upper = name.strip().upper()
    if upper not in DIGESTS:
        raise ValidationFailed(f"algorithm must be SHA1, SHA256 or SHA512, not {name[:20]!r}")
    return upper


def _integer(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    if not value.strip().isascii() or not value.strip().isdigit() or len(value) > 6:
        raise ValidationFailed(f"uri's {name} must be a number")
    return int(value)


def _number(value: int, allowed: range, name: str) -> int:
    if value not in allowed:
        raise ValidationFailed(f"{name} must be {allowed.start} to {allowed.stop - 1}, not {value}")
    return value
