"""Extraction from a whole message: the MIME reader's parts in, codes and links out."""

from __future__ import annotations

from email.message import EmailMessage

from agentid.mime import DEFAULT_LIMITS
from agentid.mime import Limits
from agentid.mime import Mime
from agentid.mime import read

from .extractor import extract_email
from .models import EMPTY
from .models import Extraction

# Headers that tell a verification message from a newsletter.
_HEADER_NAMES = (
    "list-unsubscribe",
    "list-unsubscribe-post",
    "list-id",
    "precedence",
    "auto-submitted",
)


def extract_mime(mime: Mime, limits: Limits = DEFAULT_LIMITS) -> Extraction:
    """Extract from a message the MIME reader has read; never raises. Codes and links sit
    near the top of a message: the text is read up to the same limit as the HTML."""
    try:
        headers = {name: v for name in _HEADER_NAMES if (v := mime.header(name))}
        text = mime.text[: limits.html_bytes] if mime.text else mime.text
        return extract_email(
            subject=mime.header("subject") or "",
            from_=mime.header("from") or "",
            headers=headers,
            text=text,
            html=mime.html,
        )
    except Exception:
        return EMPTY


def extract_eml(raw: bytes) -> Extraction:
    """Read RFC 5322 bytes and extract; never raises."""
    return extract_mime(read(raw))


def extract_message(msg: EmailMessage) -> Extraction:
    """Extract from a message built with the standard library; never raises."""
    try:
        raw = msg.as_bytes()
    except Exception:
        return EMPTY
    return extract_eml(raw)
