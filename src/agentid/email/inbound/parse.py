"""Turning raw bytes into the fields the inbox shows, through the one MIME reader.

Never raises: a message that cannot be parsed comes back with ``error`` set and as much
as could be read, so it is still stored raw, flagged and readable. A message over one of
the reader's limits is flagged with that limit and keeps what was read within it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field
from email.utils import getaddresses
from typing import Any

from agentid.extract.mime import extract_mime
from agentid.mime import DEFAULT_LIMITS
from agentid.mime import Attachment
from agentid.mime import Limits
from agentid.mime import Mime
from agentid.mime import clean
from agentid.mime import read

MAX_ADDRESS = 320  # the stored column's length


@dataclass(slots=True)
class Parsed:
    """What ``parse_message`` reads from a raw message: who it is from and to (as the
    headers say), what it is, its bodies and attachments, and the codes and links found."""

    from_header: str | None = None
    from_address: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    subject: str | None = None
    message_id: str | None = None
    date: str | None = None
    headers: list[list[str]] = field(default_factory=list)
    text: str | None = None
    html: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    codes: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    files: list[Attachment] = field(default_factory=list)  # the attachments' bytes


# An <angle-address>, or a run of characters that cannot separate addresses (linear).
_TOKEN = re.compile(r"<([^<>\s]*)>|([^\s,<>\"()\[\]:;]+)")


def addresses_in(value: str) -> list[str]:
    """The addresses in an address-list header, lower-cased. Plain lists (``a@x, B <b@y>``)
    take a fast path; quoted names and comments go through the standard library."""
    if '"' in value or "(" in value or "\\" in value:
        found = [addr for _, addr in getaddresses([value]) if "@" in addr]
    else:
        found = [a or b for a, b in _TOKEN.findall(value) if "@" in (a or b)]
    return [addr.lower()[:MAX_ADDRESS] for addr in found]


def _addresses(mime: Mime, name: str) -> list[str]:
    return [addr for value in mime.all(name) for addr in addresses_in(value)]


def claims_to_be_ours(name: str, value: str, authserv_id: str | None) -> bool:
    """An Authentication-Results header naming agentid's own authserv-id: a forgery (RFC
    8601 section 5), since agentid writes none on the way in."""
    if authserv_id is None or name.lower() != "authentication-results":
        return False
    first = value.split(";", 1)[0].split()  # authserv-id [version]
    return bool(first) and first[0].lower() == authserv_id.lower()


def parse_message(
    raw: bytes, limits: Limits = DEFAULT_LIMITS, authserv_id: str | None = None
) -> Parsed:
    out = Parsed()
    mime = read(raw, limits)
    try:
        _fill(out, mime, authserv_id)
    except Exception as exc:
        out.error = clean(f"{type(exc).__name__}: {str(exc)[:200]}")
    found = extract_mime(mime, limits).as_dict()  # from clean text: clean too
    out.codes, out.links = found["codes"], found["links"]
    if out.error is None and mime.problems:
        out.error = clean("; ".join(mime.problems))[:500]
    if out.error is None and mime.no_header_section:
        out.error = "no header section"
    return out


def _fill(out: Parsed, mime: Mime, authserv_id: str | None) -> None:
    out.headers = [
        [name, value]
        for name, value in mime.headers
        if not claims_to_be_ours(name, value, authserv_id)
    ]
    out.from_header = mime.header("from")
    if out.from_header:
        out.from_address = next(iter(addresses_in(out.from_header)), None)
    out.subject = mime.header("subject")
    out.message_id = mime.header("message-id")
    out.date = mime.header("date")
    out.to = _addresses(mime, "to")
    out.cc = _addresses(mime, "cc")
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
