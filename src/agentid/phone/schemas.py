"""Shapes of the phone API (shared by the routes, the client and the CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AliasChoices
from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from agentid.names import ONE_LINE
from agentid.providers.base import LineType

E164 = r"^\+[1-9][0-9]{6,14}$"
MAX_SMS_CHARS = 1600  # what Twilio and Plivo deliver at most (10 segments)


class ProvisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")  # ISO 3166-1 alpha-2
    area_code: str | None = Field(default=None, pattern=r"^[0-9]{1,6}$")
    type: LineType = LineType.LOCAL


class PhoneNumberOut(BaseModel):
    """A project's number; ``warning`` says what may keep codes from reaching it."""

    # Read from its stored row too (from_attributes): ``number`` and ``sid`` are the
    # columns ``e164`` and ``provider_sid``.
    id: str
    number: str = Field(validation_alias=AliasChoices("number", "e164"))  # E.164
    provider: str  # twilio, plivo, sandbox
    # the provider's handle for it
    sid: str = Field(validation_alias=AliasChoices("sid", "provider_sid"))
    status: str  # pending, active, released
    capabilities: list[str]
    line_type: str | None = None
    keep: bool = False  # pinned: the inactivity collector leaves it
    created_at: datetime
    last_activity_at: datetime | None = None
    released_at: datetime | None = None
    warning: str | None = None


class PhonePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    keep: bool


class GcRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    inactive_days: int = Field(ge=1, le=36500)
    dry_run: bool = False


class GcResult(BaseModel):
    """The numbers released (or, with ``dry_run``, that would be)."""

    dry_run: bool
    numbers: list[PhoneNumberOut]


class SmsOut(BaseModel):
    """One inbound SMS: also the payload of ``sms.received`` events."""

    # Read from its stored row too (from_attributes): ``from`` and ``to`` are the columns
    # ``from_number`` and ``to_number``.
    model_config = ConfigDict(populate_by_name=True)

    id: str
    from_: str = Field(
        serialization_alias="from", validation_alias=AliasChoices("from", "from_number")
    )
    to: str = Field(validation_alias=AliasChoices("to", "to_number"))
    body: str
    received_at: datetime
    provider: str
    media: list[str] = []
    codes: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []


class SmsDetail(SmsOut):
    """One SMS with every field its provider sent, as sent (``[[name, value], ...]``)."""

    params: list[list[str]] = []


class SmsList(BaseModel):
    messages: list[SmsOut]
    next: str | None = None  # pass as ``before`` for the next (older) page


class SandboxSms(BaseModel):
    """An SMS injected into the sandbox: to one of its numbers, from anyone."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    to: str = Field(pattern=E164)
    from_: str = Field(alias="from", min_length=1, max_length=64)
    body: str = Field(max_length=MAX_SMS_CHARS)


class ForwarderCreate(BaseModel):
    """A human's own phone, registered as an SMS source."""

    model_config = ConfigDict(extra="forbid")

    number: str = Field(pattern=E164)
    label: str | None = Field(default=None, min_length=1, max_length=64, pattern=ONE_LINE)


class ForwarderOut(BaseModel):
    id: str
    number: str
    label: str | None = None
    created_at: datetime


class ForwarderCreated(ForwarderOut):
    """Shown once: the URL the forwarding app POSTs to (it is the credential) and the
    Standard Webhooks secret for a sender that can sign."""

    webhook_url: str
    secret: str


class ForwarderList(BaseModel):
    forwarders: list[ForwarderOut]


class Forwarded(BaseModel):
    """What a forwarder's POST did: ``stored`` false for a repeat."""

    stored: bool
    id: str | None = None
