"""Shapes of the codes API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class CodeSource(BaseModel):
    type: Literal["email", "sms", "escalation"]
    id: str  # the message, the SMS or the escalation the code came from


class CodeOut(BaseModel):
    """A code or link, whatever it came from: also the payload of ``code.found`` events."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    value: str
    kind: str  # code | link
    channel: str  # email | sms
    source: CodeSource
    message_id: str = Field(deprecated=True)  # source.id; goes in the next release
    group_id: str  # the candidates of one kind from one source: consuming one, all go
    from_: str | None = Field(serialization_alias="from", validation_alias="from")
    to: list[str]
    received_at: datetime
    confidence: float
    used: bool
    authenticated: bool | None = None  # the sender's domain proved it (None: not checked)
    expires_at: datetime | None = None  # when the message said it stops working
    # "found": the source's one clear code; "ambiguous": several candidates scored close,
    # all handed out (best first) as one group: consuming one consumes the others
    status: Literal["found", "ambiguous"] = "found"


class Notice(BaseModel):
    """Why a code may not come: ``sms.filtered`` when the provider reports it filtered an
    SMS to the project's number (Twilio 30038, 30039). Also the ``sms.filtered`` event."""

    kind: Literal["sms.filtered"]
    error_code: str
    at: datetime


SkipReason = Literal["other site", "before since", "not authenticated", "used", "expired"]


class Skipped(BaseModel):
    """Something that arrived in the window of an empty answer, and why it was left out."""

    model_config = ConfigDict(populate_by_name=True)

    message_id: str  # the message (or SMS) the code came from
    from_: str | None = Field(serialization_alias="from", validation_alias="from")
    received_at: datetime
    reason: SkipReason


class CodeList(BaseModel):
    codes: list[CodeOut]
    next: str | None = None  # pass as ``before`` for the next (older) page
    notices: list[Notice] = []  # SMS filtered since ``since`` or while this request waited
    # when no code matched: what did arrive (the hour before ``since`` until now) and why it
    # was not returned, newest first, one entry per message
    skipped: list[Skipped] = Field(default_factory=list)
