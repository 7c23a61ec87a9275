"""Turning raw bytes into the fields the inbox shows (standard library, policy.default).

Never raises: a message that cannot be parsed comes back with ``error`` set and as much
as could be read, so it is still stored raw, flagged and readable.
"""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field, fields
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import Any

from agentid.extract import extract_message

AUTH_HEADERS = (
    "authentication-results",
    "arc-authentication-results",
    "received-spf",
    "dkim-signature",
    "arc-seal",
)
MAX_HEADER_VALUE = 8192
MAX_ADDRESS = 320  # the stored column's length


@dataclass(slots=True)
class Parsed:
    from_header: str | None = None
    from_address: str | None = None
    subject: str | None = None
    message_id: str | None = None
    date: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    headers: list[list[str]] = field(default_factory=list)
    text: str | None = None
    html: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    auth_results: dict[str, list[str]] = field(default_factory=dict)
    codes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def parse_bytes(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def _header(msg: Message, name: str) -> str | None:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot fold into a value
        raw = msg.get_all(name, failobj=[])
        value = str(raw[0]) if raw else None
    return None if value is None else str(value)[:MAX_HEADER_VALUE]


def _addresses(msg: Message, name: str) -> list[str]:
    values = [str(v) for v in _safe_all(msg, name)]
    return [addr.lower() for _, addr in getaddresses(values) if "@" in addr]


def _safe_all(msg: Message, name: str) -> list[Any]:
    try:
        return list(msg.get_all(name, failobj=[]))
    except Exception:
        return []


def _text_of(part: Message) -> str | None:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except Exception:
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            return None
        content = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    return content if isinstance(content, str) else None


def attachment_parts(msg: EmailMessage) -> list[EmailMessage]:
    """The parts listed as attachments, in a stable order (their index is the API's ``n``)."""
    try:
        return [p for p in msg.iter_attachments() if isinstance(p, EmailMessage)]
    except Exception:
        return []


def _body(msg: EmailMessage, kind: str) -> str | None:
    try:
        part = msg.get_body(preferencelist=(kind,))
    except Exception:
        return None
    return None if part is None else _text_of(part)


def parse_message(raw: bytes) -> Parsed:
    out = Parsed()
    try:
        msg = parse_bytes(raw)
    except Exception as exc:  # the stdlib parser is lenient; this is the last resort
        out.error = f"unparseable message: {type(exc).__name__}"
        return out
    try:
        _fill(out, msg)
    except Exception as exc:
        out.error = f"{type(exc).__name__}: {str(exc)[:200]}"
    for name in (f.name for f in fields(out)):
        setattr(out, name, _cleaned(getattr(out, name)))
    try:
        found = extract_message(msg).as_dict()
        out.codes, out.links = _cleaned(found["codes"]), _cleaned(found["links"])
    except Exception as exc:
        out.error = out.error or clean(f"{type(exc).__name__}: {str(exc)[:200]}")
    defects = [type(d).__name__ for d in msg.defects]
    if out.error is None and "MissingHeaderBodySeparatorDefect" in defects and not out.headers:
        out.error = "no header section"
    return out


def _fill(out: Parsed, msg: EmailMessage) -> None:
    for name, value in msg.raw_items():
        out.headers.append([name, str(value)[:MAX_HEADER_VALUE]])
    out.from_header = _header(msg, "from")
    if out.from_header:
        out.from_address = parseaddr(out.from_header)[1].lower()[:MAX_ADDRESS] or None
    out.subject = _header(msg, "subject")
    out.message_id = _header(msg, "message-id")
    out.date = _header(msg, "date")
    out.to = _addresses(msg, "to")
    out.cc = _addresses(msg, "cc")
    for name in AUTH_HEADERS:
        values = [str(v)[:MAX_HEADER_VALUE] for v in _safe_all(msg, name)]
        if values:
            out.auth_results[name] = values
    out.text = _body(msg, "plain")
    out.html = _body(msg, "html")
    for index, part in enumerate(attachment_parts(msg)):
        payload = part.get_payload(decode=True)
        out.attachments.append(
            {
                "index": index,
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "size": len(payload) if isinstance(payload, bytes) else 0,
            }
        )


def clean(value: str) -> str:
    """Text safe to store and to serve as JSON: bytes the parser kept undecoded (as lone
    surrogates) are read as UTF-8 or become U+FFFD, and NUL (which PostgreSQL cannot hold in
    text or jsonb) becomes U+FFFD too."""
    try:
        data = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that were never bytes
        data = value.encode("utf-8", "replace")
    return data.decode("utf-8", "replace").replace("\x00", "\ufffd")


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    return value
