"""Email shapes shared by the API, the client and (later) MCP."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import model_validator

from agentid.dns.schemas import DnsApplyOut
from agentid.dns.schemas import DnsVerifyOut
from agentid.times import as_utc


class ProvisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: str | None = Field(
        default=None, max_length=320, description="Primary address (local part or full)."
    )


class DNSRecord(BaseModel):
    type: str
    name: str
    value: str
    priority: int | None = None


class ProvisionOut(BaseModel):
    address: str
    domain: str
    dns_records: list[DNSRecord]
    dns: DnsApplyOut | None = None  # how applying them went (the project's own domain)
    verification: DnsVerifyOut | None = None  # when a DNS provider published them
    dns_error: str | None = None  # why they could not be applied (hosting stays)


class AliasCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, max_length=32, pattern=r"^[a-z0-9](?:[a-z0-9-]*)$")
    local_part: str | None = Field(default=None, max_length=64)
    expires_at: datetime | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AliasCreate:
        if self.label is not None and self.local_part is not None:
            raise ValueError("give either label or local_part, not both")
        if self.expires_at is not None:
            self.expires_at = as_utc(self.expires_at, "expires_at")
        return self


class AliasOut(BaseModel):
    address: str
    label: str | None
    enabled: bool
    expires_at: datetime | None
    created_at: datetime


class AliasList(BaseModel):
    aliases: list[AliasOut]  # oldest first
    next: str | None = None  # pass as ``before`` for the next page


class InboxEntry(BaseModel):
    id: str
    received_at: datetime
    from_: str | None = Field(serialization_alias="from", validation_alias="from")
    to: list[str]
    subject: str | None
    size: int
    has_attachments: bool
    unread: bool
    codes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    parse_error: bool = False

    model_config = ConfigDict(populate_by_name=True)


class Inbox(BaseModel):
    messages: list[InboxEntry]
    next: str | None


class Attachment(BaseModel):
    index: int
    filename: str | None
    content_type: str
    size: int
    content_id: str | None = None  # for inline images: the cid: the HTML refers to


class DkimVerdict(BaseModel):
    domain: str | None  # None: a signature too malformed to name one (permerror)
    selector: str | None = None
    result: str


class AuthVerdict(BaseModel):
    """agentid's own SPF, DKIM and DMARC verdicts on a message (filled in by inbound
    authentication; never copied from headers the sender wrote)."""

    spf: str | None = None  # the MAIL FROM identity's (the HELO's for a null sender)
    spf_helo: str | None = None
    dkim: list[DkimVerdict] = Field(default_factory=list)
    arc: str | None = None  # the ARC chain's validation: pass, fail, none
    arc_sealers: list[str] = Field(default_factory=list)  # newest first
    dmarc: str | None = None
    from_domain: str | None = None
    aligned_domain: str | None = None  # what DMARC (or, without a policy, DKIM) aligned
    authenticated: bool = False  # what codes' ``authenticated`` says


class MessageAuthenticated(BaseModel):
    """``message.authenticated``: a message with codes got its verdict."""

    message_id: str
    authenticated: bool
    auth_results: AuthVerdict


class MessageOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str
    received_at: datetime
    direction: str
    from_: str | None = Field(serialization_alias="from", validation_alias="from")
    to: list[str]
    mail_from: str
    peer: str | None
    helo: str | None
    size: int
    subject: str | None
    message_id: str | None
    date: str | None
    headers: list[list[str]]
    text: str | None
    html: str | None
    attachments: list[Attachment]
    auth_results: AuthVerdict | None = None  # agentid's own verdict, or null
    codes: list[dict[str, Any]]
    links: list[dict[str, Any]]
    unread: bool
    status: str
    parse_error: str | None
    thread_id: str | None = None  # the conversation's first message (/email/threads/{id})


class MessagePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unread: bool = False


class ThreadMessage(BaseModel):
    """One message of a conversation, either way: ``id`` reads it in ``/messages/{id}``."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    direction: str  # inbound | outbound
    at: datetime  # received, or queued to send
    from_: str | None = Field(serialization_alias="from", validation_alias="from")
    to: list[str]
    subject: str | None


class Thread(BaseModel):
    thread_id: str  # the id of its first message
    messages: list[ThreadMessage]  # oldest first


class ThreadSummary(BaseModel):
    thread_id: str
    messages: int
    last_at: datetime


class ThreadList(BaseModel):
    threads: list[ThreadSummary]  # newest thread first (by its first message)
    next: str | None = None  # pass as ``before`` for the next page
