"""The outgoing message, built once: addresses checked, headers set, MIME assembled.

Addresses are checked for syntax only (email-validator, no DNS): special-use test
domains such as ``.test`` are allowed so a local setup can write to itself. The message is
RFC 5322 with CRLF line ends; Bcc recipients are envelope-only, never a header. Replying
to a stored message sets ``In-Reply-To``, ``References`` (its own, then its Message-ID)
and a ``Re:`` subject unless it already has one.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from email.utils import make_msgid

from email_validator import EmailNotValidError
from email_validator import validate_email

from agentid.email.outbound.schemas import SendRequest
from agentid.errors import PayloadTooLarge
from agentid.errors import ValidationFailed


@dataclass(frozen=True, slots=True)
class Original:
    """The stored message a reply answers: what threading needs of it."""

    message_id_header: str | None
    references: str | None
    subject: str | None


@dataclass(slots=True)
class Composed:
    mail_from: str
    to: list[str]
    cc: list[str]
    bcc: list[str]
    subject: str
    message_id: str  # the Message-ID header, with its angle brackets
    raw: bytes
    recipients: list[str] = field(default_factory=list)  # the envelope: to, cc, bcc, once each


def address(value: str, what: str) -> str:
    """``value`` as a valid address (normalised domain), or ``ValidationFailed``."""
    try:
        checked = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError as err:
        raise ValidationFailed(f"{what}: {value[:320]!r} is not a valid address: {err}") from None
    return checked.normalized


def domain_of(value: str) -> str:
    return value.rpartition("@")[2].lower()


def _attachments(request: SendRequest, max_bytes: int) -> list[tuple[str, str, bytes]]:
    out, total = [], 0
    for n, a in enumerate(request.attachments):
        try:
            data = base64.b64decode(a.content_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ValidationFailed(f"attachments.{n}.content_base64 is not base64") from None
        total += len(data)
        if total > max_bytes:
            raise PayloadTooLarge(f"attachments are over {max_bytes} bytes together")
        out.append((a.filename, a.content_type, data))
    return out


def _reply_headers(msg: EmailMessage, subject: str, original: Original | None) -> str:
    if original is None:
        return subject
    if original.message_id_header:
        msg["In-Reply-To"] = original.message_id_header
        refs = " ".join(filter(None, (original.references, original.message_id_header)))
        msg["References"] = refs
    base = subject or original.subject or ""
    return base if base[:3].lower() == "re:" else f"Re: {base}".rstrip()


def compose(
    request: SendRequest,
    mail_from: str,
    *,
    now: datetime,
    max_attachment_bytes: int,
    original: Original | None = None,
) -> Composed:
    """The message ``request`` describes, from ``mail_from`` (checked by the caller)."""
    to = [address(a, "to") for a in request.to]
    cc = [address(a, "cc") for a in request.cc]
    bcc = [address(a, "bcc") for a in request.bcc]
    if not (to or cc or bcc):
        raise ValidationFailed("a message needs at least one recipient (to, cc or bcc)")
    if request.text is None and request.html is None:
        raise ValidationFailed("a message needs text, html or both")
    files = _attachments(request, max_attachment_bytes)
    msg = EmailMessage(policy=policy.SMTPUTF8)
    msg["From"] = mail_from
    if to:
        msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if request.reply_to:
        msg["Reply-To"] = address(request.reply_to, "reply_to")
    msg["Date"] = format_datetime(now)
    message_id = make_msgid(domain=domain_of(mail_from))
    msg["Message-ID"] = message_id
    msg["Subject"] = _reply_headers(msg, request.subject, original)
    if request.text is not None:
        msg.set_content(request.text, cte="quoted-printable")
    if request.html is not None:
        if request.text is None:
            msg.set_content(request.html, subtype="html", cte="quoted-printable")
        else:
            msg.add_alternative(request.html, subtype="html", cte="quoted-printable")
    for filename, content_type, data in files:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    raw = msg.as_bytes(policy=policy.SMTPUTF8.clone(linesep="\r\n"))
    envelope = list(dict.fromkeys(a.lower() for a in [*to, *cc, *bcc]))
    return Composed(
        mail_from=mail_from,
        to=to,
        cc=cc,
        bcc=bcc,
        subject=str(msg["Subject"]),
        message_id=message_id,
        raw=raw,
        recipients=envelope,
    )


__all__ = ["Address", "Composed", "Original", "address", "compose", "domain_of"]
