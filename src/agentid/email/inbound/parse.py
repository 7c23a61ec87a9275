"""Turning raw bytes into the fields the inbox shows, through the one MIME reader.

Never raises: a message that cannot be parsed comes back with ``error`` set and as much
as could be read, so it is still stored raw, flagged and readable. A message over one of
the reader's limits is flagged with that limit and keeps what was read within it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from email.utils import getaddresses, parseaddr
from typing import Any

from agentid.extract.mime import extract_mime
from agentid.mime import DEFAULT_LIMITS, Attachment, Limits, Mime, read

AUTH_HEADERS = (
    "authentication-results",
    "arc-authentication-results",
    "received-spf",
    "dkim-signature",
    "arc-seal",
)
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
    files: list[Attachment] = field(default_factory=list)  # the attachments' bytes


def _addresses(mime: Mime, name: str) -> list[str]:
    values = mime.all(name)
    return [addr.lower()[:MAX_ADDRESS] for _, addr in getaddresses(values) if "@" in addr]


def parse_message(raw: bytes, limits: Limits = DEFAULT_LIMITS) -> Parsed:
    out = Parsed()
    mime = read(raw, limits)
    try:
        _fill(out, mime)
    except Exception as exc:
        out.error = f"{type(exc).__name__}: {str(exc)[:200]}"
    for f in fields(out):
        if f.name != "files":
            setattr(out, f.name, _cleaned(getattr(out, f.name)))
    found = extract_mime(mime, limits).as_dict()
    out.codes, out.links = _cleaned(found["codes"]), _cleaned(found["links"])
    if out.error is None and mime.problems:
        out.error = clean("; ".join(mime.problems))[:500]
    if out.error is None and mime.no_header_section:
        out.error = "no header section"
    return out


def _fill(out: Parsed, mime: Mime) -> None:
    out.headers = [[name, value] for name, value in mime.headers]
    out.from_header = mime.header("from")
    if out.from_header:
        out.from_address = parseaddr(out.from_header)[1].lower()[:MAX_ADDRESS] or None
    out.subject = mime.header("subject")
    out.message_id = mime.header("message-id")
    out.date = mime.header("date")
    out.to = _addresses(mime, "to")
    out.cc = _addresses(mime, "cc")
    for name in AUTH_HEADERS:
        if values := mime.all(name):
            out.auth_results[name] = values
    out.text = mime.text
    out.html = mime.html
    out.files = mime.attachments
    out.attachments = [
        {
            "index": a.index,
            "filename": a.filename,
            "content_type": a.content_type,
            "size": a.size,
            "content_id": a.content_id,
        }
        for a in mime.attachments
    ]


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
