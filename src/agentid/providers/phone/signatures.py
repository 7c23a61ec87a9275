"""Webhook signatures of the phone providers, computed exactly as their SDKs compute them.

Twilio (``X-Twilio-Signature``): base64 HMAC-SHA1, keyed with the auth token, of the full
URL Twilio called followed by every POST parameter, sorted by name (values of a repeated
name sorted too), each written as name then value with no separator. Twilio may have
signed the URL with or without its default port (``:443`` / ``:80``), so both are tried,
as twilio-python's ``RequestValidator`` does.

Plivo (``X-Plivo-Signature-V3`` and ``X-Plivo-Signature-V3-Nonce``): base64 HMAC-SHA256,
keyed with the auth token, of ``<url>.<nonce>`` where for a POST ``<url>`` is the URL
without its query, then ``?`` and the sorted query (``k=v&...``), then ``.`` when there
was a query, then the sorted POST parameters (``kv...``); the header may carry several
signatures, comma-separated (one per active token), and any one of them will do.

Comparisons are constant-time; nothing here raises on hostile input.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from collections.abc import Sequence
from urllib.parse import SplitResult
from urllib.parse import parse_qsl
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

Params = Sequence[tuple[str, str]]
MAX_SIGNATURES = 8  # Plivo sends one per active auth token: a few at most


def _sorted_pairs(params: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    return sorted(set(params))


def twilio_signature(token: str, url: str, params: Params) -> str:
    """The ``X-Twilio-Signature`` Twilio sends for a POST of ``params`` to ``url``."""
    data = url + "".join(name + value for name, value in _sorted_pairs(params))
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _with_port(parts: SplitResult) -> str:
    if parts.port is not None:
        return urlunsplit(parts)
    port = 443 if parts.scheme == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def _without_port(parts: SplitResult) -> str:
    if parts.port is None:
        return urlunsplit(parts)
    userinfo, at, _ = parts.netloc.rpartition("@")
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    return urlunsplit(parts._replace(netloc=f"{userinfo}{at}{host}"))


def twilio_valid(token: str, url: str, params: Params, signature: str | None) -> bool:
    """Whether ``signature`` is Twilio's for this request, the URL's port given or not."""
    if not signature or not token:
        return False
    try:
        parts = urlsplit(url)
        variants = {_without_port(parts), _with_port(parts)}
    except ValueError:
        return False
    given = signature.strip().encode()
    return any(
        hmac.compare_digest(twilio_signature(token, variant, params).encode(), given)
        for variant in variants
    )


def plivo_v3_base(url: str, params: Params) -> str:
    """What Plivo's V3 signature covers for a POST of ``params`` to ``url`` (before the
    nonce)."""
    parts = urlsplit(url)
    base = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    query_text = "&".join(f"{name}={value}" for name, value in query)
    if params or query_text:
        base += "?" + query_text
    if params and query_text:
        base += "."
    by_name: dict[str, list[str]] = {}
    for name, value in params:
        by_name.setdefault(name, []).append(value)
    return base + "".join(
        "".join(name + value for value in sorted(by_name[name])) for name in sorted(by_name)
    )


def plivo_v3_signature(token: str, url: str, nonce: str, params: Params) -> str:
    data = f"{plivo_v3_base(url, params)}.{nonce}"
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def plivo_v3_valid(
    token: str, url: str, nonce: str | None, params: Params, signatures: str | None
) -> bool:
    """Whether one of the comma-separated ``signatures`` is Plivo's for this POST."""
    if not signatures or not nonce or not token:
        return False
    try:
        expected = plivo_v3_signature(token, url, nonce, params).encode()
    except ValueError:
        return False
    given = [s.strip().encode() for s in signatures.split(",")[:MAX_SIGNATURES]]
    # every candidate compared, so the time taken does not say which one matched
    return sum(hmac.compare_digest(expected, s) for s in given) > 0
