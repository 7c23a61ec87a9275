"""Shapes of the sending API: the request, the outbox and what each recipient became."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import field_validator

MAX_RECIPIENTS = 50  # To, Cc and Bcc together
# Every str of the request has a bound: pydantic checks a bounded string (a lone surrogate
# is 422 there) but passes a bare ``str`` through, to fail later when the request is
# hashed. The body cap (AGENTID_MAX_MAIL_BODY_BYTES, 10 MiB by default) is what limits a
# part's size, as a JSON body holds no string longer than itself; this bound is set past
# any cap a relay would carry (they refuse messages over 25 to 50 MB), so it never
# refuses what the cap let in.
MAX_PART_CHARS = 64 * 1024 * 1024
AddressStr = Annotated[str, Field(max_length=320)]
_FORBIDDEN = ("\r", "\n", "\x00")

RecipientStatus = Literal["queued", "sending", "sent", "deferred", "failed", "suppressed"]
OverallStatus = Literal["queued", "sending", "sent", "partial", "failed"]


def _one_line(value: str) -> str:
    """A header value or address: CR, LF or NUL would start a header of its own."""
    if any(ch in value for ch in _FORBIDDEN):
        raise ValueError("must not contain CR, LF or NUL (no header injection)")
    return value


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")

    filename: str = Field(min_length=1, max_length=255)
    content_type: str = Field(
        default="application/octet-stream",
        max_length=255,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
    )
    content_base64: str = Field(max_length=MAX_PART_CHARS)

    _line = field_validator("filename")(_one_line)


class SendRequest(BaseModel):
    """``POST /projects/{id}/email/send``. ``from`` defaults to the project's primary
    address; ``in_reply_to`` is the id of a stored message this one answers."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: AddressStr | None = Field(default=None, alias="from")
    to: list[AddressStr] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    cc: list[AddressStr] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    bcc: list[AddressStr] = Field(default_factory=list, max_length=MAX_RECIPIENTS)
    reply_to: AddressStr | None = None
    subject: str = Field(default="", max_length=998)
    text: str | None = Field(default=None, max_length=MAX_PART_CHARS)
    html: str | None = Field(default=None, max_length=MAX_PART_CHARS)
    attachments: list[Attachment] = Field(default_factory=list, max_length=20)
    in_reply_to: str | None = Field(default=None, max_length=26)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=255)
    allow_received_codes: bool = False  # the operator's (admin token) override of the guard

    @field_validator("from_", "reply_to", "subject", "idempotency_key")
    @classmethod
    def _no_breaks(cls, value: str | None) -> str | None:
        return None if value is None else _one_line(value)

    @field_validator("to", "cc", "bcc")
    @classmethod
    def _no_breaks_in_addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            _one_line(address)
        return value


class SendAccepted(BaseModel):
    id: str
    status: OverallStatus


class RecipientOut(BaseModel):
    address: str
    route: Literal["local", "relay"]
    status: RecipientStatus
    attempts: int
    next_attempt_at: datetime | None
    provider_message_id: str | None
    error: str | None


class OutboundOut(BaseModel):
    """A sent message as the outbox shows it: overall status and each recipient's."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    direction: Literal["outbound"] = "outbound"
    created_at: datetime
    status: OverallStatus
    from_: str = Field(serialization_alias="from", validation_alias="from")
    to: list[str]
    cc: list[str]
    subject: str
    message_id_header: str
    in_reply_to: str | None
    thread_id: str  # the conversation's first message (/email/threads/{id})
    size: int
    attempts: int  # the most any recipient took
    next_attempt_at: datetime | None  # the soonest retry, when one is due
    provider_message_id: str | None  # the first the relay gave
    error: str | None  # the first recipient's error, when any failed
    recipients: list[RecipientOut]


class Outbox(BaseModel):
    messages: list[OutboundOut]  # newest first
    next: str | None = None  # pass as ``before`` for the next (older) page


class SuppressionOut(BaseModel):
    address: str
    reason: str
    created_at: datetime


class SuppressionList(BaseModel):
    suppressions: list[SuppressionOut]


class SendPolicyIn(BaseModel):
    """Recipient domains a project may send to (empty: any) and may not (checked first).
    A domain also covers its subdomains."""

    model_config = ConfigDict(extra="forbid")

    send_allow: list[str] = Field(default_factory=list, max_length=1000)
    send_block: list[str] = Field(default_factory=list, max_length=1000)


class SendPolicyOut(SendPolicyIn):
    pass
