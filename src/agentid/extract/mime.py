"""Reading subject, sender, headers and text/html bodies out of (possibly broken) MIME."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Mapping
from email.message import EmailMessage, Message

from .extractor import extract_email
from .models import EMPTY, Extraction

MAX_PARTS = 64
_HEADER_NAMES = (
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "precedence",
    "auto-submitted",
)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:
        try:
            raw = msg.get_all(name, failobj=[]) if isinstance(msg, Message) else []
            value = raw[0] if raw else None
        except Exception:
            return ""
    if value is None:
        return ""
    try:
        return str(value)
    except Exception:
        return ""


def _content_type(part: Message) -> tuple[str, str | None]:
    """(type/subtype, charset) from one parse of Content-Type (each access re-parses it)."""
    header = part.get("content-type")
    if header is None:
        return "text/plain", None
    ctype = getattr(header, "content_type", None)
    params = getattr(header, "params", None)
    if not isinstance(ctype, str):
        ctype = str(header).split(";", 1)[0].strip().lower() or "text/plain"
    charset = params.get("charset") if isinstance(params, Mapping) else None
    return ctype.lower(), (charset if isinstance(charset, str) else None)


def _wanted(part: Message) -> tuple[str, str | None] | None:
    """(content type, charset) of an inline text/plain or text/html part, else None."""
    try:
        ctype, charset = _content_type(part)
        if ctype not in ("text/plain", "text/html"):
            return None
        if "content-disposition" in part and part.get_content_disposition() == "attachment":
            return None
    except Exception:
        return None
    return ctype, charset


def _decode_part(part: Message, charset: str | None) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    for cs in (charset or "utf-8", "utf-8"):
        try:
            return payload.decode(cs, errors="replace")
        except (LookupError, ValueError):
            continue
    return payload.decode("latin-1", errors="replace")


def _bodies(msg: Message) -> tuple[str | None, str | None]:
    texts: list[str] = []
    htmls: list[str] = []
    count = 0
    for part in msg.walk():
        count += 1
        if count > MAX_PARTS:
            break
        if part.is_multipart():
            continue
        wanted = _wanted(part)
        if wanted is not None:
            ctype, charset = wanted
            (texts if ctype == "text/plain" else htmls).append(_decode_part(part, charset))
    return ("\n\n".join(texts) if texts else None, "\n".join(htmls) if htmls else None)


def extract_message(msg: EmailMessage) -> Extraction:
    """Extract from a parsed message (``policy=email.policy.default``); never raises."""
    try:
        subject = _header(msg, "subject")
        from_ = _header(msg, "from")
        headers = {name: v for name in _HEADER_NAMES if (v := _header(msg, name))}
        text, html = _bodies(msg)
        return extract_email(subject=subject, from_=from_, headers=headers, text=text, html=html)
    except Exception:
        return EMPTY


def extract_eml(raw: bytes) -> Extraction:
    """Parse RFC 5322 bytes with ``email.policy.default`` and extract; never raises."""
    try:
        msg = email.message_from_bytes(raw, policy=email.policy.default)
    except Exception:
        return EMPTY
    if not isinstance(msg, EmailMessage):
        return EMPTY
    return extract_message(msg)
