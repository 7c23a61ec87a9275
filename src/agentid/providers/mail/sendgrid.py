"""Sending through SendGrid's v3 Web API: ``sendgrid://<api key>@api.sendgrid.com``.

The API key is the URL's user part; the host is ``api.sendgrid.com`` or, for EU
subusers, ``api.eu.sendgrid.com``. ``sendgrid+http://<key>@127.0.0.1:9000`` calls a
local server speaking the same contract instead. ``timeout=S`` bounds the call
(default 30). ``webhook_key=<base64>``: the Signed Event Webhook's verification key, so
bounces SendGrid reports later reach the project's suppression list
(``agentid.providers.mail.sendgrid_events``).

SendGrid takes JSON, not MIME, so the finished message is read back with the stdlib
``email`` package and rewritten as a ``POST /v3/mail/send`` body, the rule being that
SendGrid delivers to exactly the envelope recipients:

- ``from``, ``reply_to`` (``reply_to_list`` for several) and ``subject`` from the
  headers, names decoded; one From address, or the message is refused.
- ``personalizations[0]``: ``to`` and ``cc`` are the To and Cc addresses that are
  envelope recipients; every other envelope recipient is a ``bcc``. SendGrid delivers
  to everyone it lists, so a To or Cc address outside the envelope is left out. With
  no To address left (a Bcc-only message), each recipient gets a personalization of
  its own, addressed to itself: SendGrid needs a ``to``, and no one sees another.
- ``content``: the text/plain body, then the text/html one (SendGrid's order), then
  other alternatives (text/calendar...); line ends LF; empty ones left out.
- ``attachments``: every other part, base64, with its filename (``;`` and ``,``,
  which SendGrid refuses there, become ``_``; a nameless part gets ``part-N.ext``),
  and ``disposition`` "inline" with its ``content_id`` when it has a Content-ID.
- ``headers``: every other header (Message-ID, In-Reply-To, References, Date,
  List-Unsubscribe...) with its encoded value, the first of a repeated one; not the
  ones SendGrid reserves or writes itself (the MIME ones, Return-Path), nor trace and
  signature headers: SendGrid rebuilds the message, so a DKIM signature made before
  would no longer verify; SendGrid signs with the sender's authenticated domain.

The envelope sender cannot be given: SendGrid uses its own bounce address. An answer
``202`` is success, its ``X-Message-Id`` becoming ``Sent.message_id``; a failure goes
through the one table (``agentid.providers.failures``) with the first of SendGrid's
``errors`` as the detail. Messages never show the key.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import re
from collections.abc import Iterator
from collections.abc import Sequence
from datetime import datetime
from email import policy
from email.errors import MessageError
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.message import MIMEPart
from email.parser import BytesParser
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric import ec

from agentid.errors import ProviderRejected
from agentid.errors import ValidationFailed
from agentid.providers.base import Bounce
from agentid.providers.base import DnsRecord
from agentid.providers.base import Sent
from agentid.providers.base import WebhookRequest
from agentid.providers.failures import scrub
from agentid.providers.mail import sendgrid_domains
from agentid.providers.mail import sendgrid_events
from agentid.providers.registry import HttpReach
from agentid.providers.registry import ProviderUrl
from agentid.providers.registry import Transports
from agentid.providers.vendor_api import VendorApi
from agentid.providers.vendor_api import failure_body

Json = dict[str, Any]

VENDOR_HOSTS = ("api.sendgrid.com", "api.eu.sendgrid.com")
SEND_PATH = "/v3/mail/send"
MAX_RECIPIENTS = 1000  # to, cc and bcc of every personalization together, per request
# SendGrid answers 400 to any of these in "headers": it writes them from the JSON.
RESERVED_HEADERS = frozenset(
    {
        *("x-sg-id", "x-sg-eid", "received", "dkim-signature", "content-type"),
        *("content-transfer-encoding", "to", "from", "subject", "reply-to", "cc", "bcc"),
    }
)
# Not passed on either: written by SendGrid, or untrue once it has rebuilt the message.
_NOT_PASSED = RESERVED_HEADERS | {
    *("mime-version", "return-path", "authentication-results", "received-spf"),
    *("arc-seal", "arc-message-signature", "arc-authentication-results"),
}
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_NOT_IN_FILENAME = re.compile(r"[;,\r\n]")
_TYPES = mimetypes.MimeTypes()  # the built-in table only: names do not vary by host
_AS_READ = policy.SMTP.clone(refold_source="none")  # headers written back as they came


class Unsendable(ValueError):
    """The message cannot be said in SendGrid's JSON (no From address...)."""


class SendGridRelay:
    """A ``MailRelay`` over SendGrid's ``POST /v3/mail/send``, through the HTTP client
    it is given; ``endpoint`` is the base URL (``https://api.sendgrid.com``)."""

    max_recipients = MAX_RECIPIENTS
    signs_dkim = True  # it rebuilds the message and signs with the authenticated domain
    spf_include = "sendgrid.net"  # the SPF include its sending servers are listed in

    def __init__(
        self,
        *,
        api_key: str,
        reach: HttpReach,
        webhook_key: ec.EllipticCurvePublicKey | None = None,
    ) -> None:
        self.endpoint = reach.endpoint
        self._webhook_key = webhook_key
        headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._api = VendorApi("sendgrid", reach, first_error, (api_key,), headers=headers)
        self.name = self._api.name

    def __repr__(self) -> str:  # never the key
        return f"SendGridRelay({self.endpoint!r})"

    async def send(self, sender: str, recipients: Sequence[str], message: bytes) -> Sent:
        if not recipients:
            raise ProviderRejected(f"{self.name}: a message needs at least one recipient")
        try:
            body = mail_send_body(recipients, message)
        except (ValueError, LookupError, MessageError) as exc:  # unreadable or unsayable
            reason = scrub(str(exc), self._api.secrets)
            raise ProviderRejected(f"{self.name} cannot take this message: {reason}") from None
        response = await self._api.request(
            "POST",
            self.endpoint + SEND_PATH,
            content=_utf8(json.dumps(body, ensure_ascii=False)),
            headers={**self._api.headers, "Content-Type": "application/json"},
        )
        self._api.check(response)
        return Sent(
            message_id=response.headers.get("x-message-id") or None,
            reply=f"{response.status_code} {response.reason_phrase}".strip(),
        )

    async def domain_records(self, domain: str) -> list[DnsRecord]:
        """A ``SendingDomain``: the domain authenticated with SendGrid, its CNAMEs."""
        return await sendgrid_domains.domain_records(self._api, domain)

    async def check_bounce_signature(self, request: WebhookRequest, now: datetime) -> bool:
        """A ``BounceReports``: only with ``webhook_key`` in the URL can SendGrid's Event
        Webhook be believed (``agentid.providers.mail.sendgrid_events``)."""
        return self._webhook_key is not None and sendgrid_events.signed(
            self._webhook_key, request, now
        )

    async def read_bounces(self, request: WebhookRequest) -> Sequence[Bounce]:
        return sendgrid_events.bounces(request.body)


def from_url(url: ProviderUrl, transports: Transports) -> SendGridRelay:
    """The ``sendgrid://`` factory."""
    url.only_params(("timeout", "webhook_key"))
    if not url.username:
        raise ValidationFailed(
            "sendgrid:// needs the API key as its user: sendgrid://<api key>@api.sendgrid.com"
        )
    if url.password is not None:
        raise ValidationFailed("sendgrid:// takes the API key alone as its user, no password")
    if not url.username.isascii():
        raise ValidationFailed("a SendGrid API key is ASCII")
    if not url.http:
        if url.host not in VENDOR_HOSTS:
            raise ValidationFailed(
                "sendgrid:// host must be api.sendgrid.com or api.eu.sendgrid.com"
                " (sendgrid+http:// for a local server)"
            )
        if url.port is not None or url.path not in ("", "/"):
            raise ValidationFailed("sendgrid:// takes no port or path")
    return SendGridRelay(
        api_key=url.username,
        reach=url.reach(f"https://{url.host}", transports),
        webhook_key=sendgrid_events.public_key(url.query["webhook_key"])
        if "webhook_key" in url.query
        else None,
    )


def first_error(response: httpx.Response) -> str | None:
    """What SendGrid said about a failure: the first of ``{"errors": [{"message",
    "field"}]}``, and how many more there are; None for a success or another body."""
    try:
        errors = failure_body(response).get("errors")
        first = errors[0]
        message = first["message"]
    except (ValueError, AttributeError, LookupError, TypeError):
        return None
    if not isinstance(message, str):
        return None
    field = first.get("field")
    said = f"{field}: {message}" if isinstance(field, str) and field else message
    return said + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")


# --- RFC 5322 → mail/send JSON -------------------------------------------------------------


def mail_send_body(recipients: Sequence[str], message: bytes) -> Json:
    """The ``/v3/mail/send`` body saying ``message`` to the envelope ``recipients``;
    ``Unsendable`` (a ValueError) when SendGrid's JSON cannot say it."""
    msg = BytesParser(EmailMessage, policy=policy.default).parsebytes(message)
    senders = _addresses(msg, "from")
    if len(senders) != 1:
        raise Unsendable(f"SendGrid takes one From address; the message has {len(senders)}")
    body: Json = {"personalizations": _personalizations(msg, recipients)}
    body["from"] = _email(senders[0])
    if replies := _addresses(msg, "reply-to"):
        if len(replies) == 1:
            body["reply_to"] = _email(replies[0])
        else:
            body["reply_to_list"] = [_email(a) for a in replies]
    if subject := str(msg.get("subject", "")):
        body["subject"] = subject
    content, attachments = _parts(msg)
    if content:
        body["content"] = content
    if attachments:
        body["attachments"] = attachments
    if headers := _headers(msg):
        body["headers"] = headers
    return body


def _addresses(msg: EmailMessage, field: str) -> list[Address]:
    """Every address in every ``field`` header (groups flattened)."""
    return [a for header in msg.get_all(field, []) for a in header.addresses if a.addr_spec]


def _email(address: Address) -> Json:
    found: Json = {"email": address.addr_spec}
    if address.display_name:
        found["name"] = address.display_name
    return found


def _personalizations(msg: EmailMessage, recipients: Sequence[str]) -> list[Json]:
    envelope: dict[str, str] = {}  # one each, first spelling, in order
    for recipient in recipients:
        envelope.setdefault(recipient.lower(), recipient)
    placed: set[str] = set()

    def listed(field: str) -> list[Json]:
        out = []
        for address in _addresses(msg, field):
            key = address.addr_spec.lower()
            if key in envelope and key not in placed:
                placed.add(key)
                out.append(_email(address))
        return out

    to, cc = listed("to"), listed("cc")
    bcc = [{"email": r} for key, r in envelope.items() if key not in placed]
    if not to:
        return [{"to": [one]} for one in (*cc, *bcc)]
    personalization: Json = {"to": to}
    if cc:
        personalization["cc"] = cc
    if bcc:
        personalization["bcc"] = bcc
    return [personalization]


def _leaves(part: MIMEPart, in_alternative: bool = False) -> Iterator[tuple[MIMEPart, bool]]:
    """The message's non-multipart parts (a message/rfc822 is one), each with whether
    its parent is a multipart/alternative."""
    if part.get_content_maintype() == "multipart":
        alternative = part.get_content_subtype() == "alternative"
        for child in part.iter_parts():
            yield from _leaves(child, alternative)
    else:
        yield part, in_alternative


def _parts(msg: EmailMessage) -> tuple[list[Json], list[Json]]:
    """``content`` (text/plain, text/html, other alternatives) and ``attachments``."""
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    content = [
        {"type": f"text/{kind}", "value": value}
        for kind, part in (("plain", text), ("html", html))
        if part is not None and (value := _text_of(part))
    ]
    attachments: list[Json] = []
    for part, in_alternative in _leaves(msg):
        if part is text or part is html:
            continue
        if (
            in_alternative
            and part.get_content_maintype() == "text"
            and part.get_content_disposition() != "attachment"
        ):
            if value := _text_of(part):
                content.append({"type": part.get_content_type(), "value": value})
        else:
            attachments.append(_attachment(part, len(attachments) + 1))
    return content, attachments


def _text_of(part: MIMEPart) -> str:
    """A text part's content, LF line ends (an unknown charset read as UTF-8)."""
    try:
        text = str(part.get_content())
    except LookupError:
        text = _payload(part).decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


def _payload(part: MIMEPart) -> bytes:
    """A part's content as bytes (a message/rfc822 one: the message, CRLF ends)."""
    payload = part.get_payload(0) if part.get_content_type() == "message/rfc822" else None
    if isinstance(payload, EmailMessage):
        return payload.as_bytes(policy=_AS_READ)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _attachment(part: MIMEPart, number: int) -> Json:
    kind = part.get_content_type()
    data = _payload(part)
    filename = part.get_filename() or f"part-{number}{_TYPES.guess_extension(kind) or ''}"
    attachment: Json = {
        "content": base64.b64encode(data).decode("ascii"),
        "filename": _NOT_IN_FILENAME.sub("_", filename),
        "type": kind,
        "disposition": "attachment",
    }
    content_id = str(part.get("content-id", "")).strip().strip("<>")
    if content_id and part.get_content_disposition() != "attachment":
        attachment |= {"disposition": "inline", "content_id": content_id}
    return attachment


def _headers(msg: EmailMessage) -> dict[str, str]:
    """The headers SendGrid is handed as they are: unfolded, encoded, the first of
    each name."""
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for name, raw in msg.raw_items():
        key = name.lower()
        if key in _NOT_PASSED or key.startswith("content-") or key in seen:
            continue
        seen.add(key)
        value = _FOLD.sub("", str(raw)).strip()
        if not value.isascii():  # 8-bit (SMTPUTF8) text: RFC 2047, as SendGrid asks
            value = Header(_unescape(value), "utf-8").encode(linesep=" ")
        headers[name] = value
    return headers


def _unescape(text: str) -> str:
    """``text`` with the undecodable bytes the parser kept as surrogates read as
    UTF-8, and any other lone surrogate replaced: JSON for SendGrid is UTF-8."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogatepass")
    return data.decode("utf-8", "replace")


def _utf8(text: str) -> bytes:
    return _unescape(text).encode("utf-8")
