"""Shapes of the codes API: codes and links, TOTP authenticators, human escalations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import field_validator
from pydantic import model_validator

from agentid.names import ONE_LINE
from agentid.names import SLUG

# Text whose lines may be separated (and indented with tabs); otherwise as ONE_LINE.
TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class CodeSource(BaseModel):
    type: Literal["email", "sms", "escalation"]
    id: str  # the message, the SMS or the escalation the code came from


class CodeOut(BaseModel):
    """A code or link, whatever it came from: also the payload of ``code.found`` events."""

    model_config = ConfigDict(populate_by_name=True)

    id: str
    value: str
    kind: str  # code | link
    channel: str  # email | sms | escalation (a human's answer)
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


# -- TOTP authenticators ------------------------------------------------------------------

TotpAlgorithm = Literal["SHA1", "SHA256", "SHA512"]


class TotpCreate(BaseModel):
    """An authenticator secret: the ``otpauth://totp/...`` URI a site shows as a QR code,
    or its base32 ``secret`` with the parameters (RFC 6238 defaults: 6 digits, 30 s,
    SHA1)."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(max_length=63, description="a slug naming it, e.g. github")
    uri: str | None = Field(default=None, max_length=2048, pattern=ONE_LINE)
    secret: str | None = Field(default=None, max_length=512, pattern=ONE_LINE)
    digits: int | None = Field(default=None, ge=6, le=8)
    period: int | None = Field(default=None, ge=10, le=120)
    algorithm: TotpAlgorithm | None = None

    @field_validator("label")
    @classmethod
    def _slug(cls, label: str) -> str:
        if not SLUG.fullmatch(label):
            raise ValueError("label must be a slug: a-z, 0-9 and inner hyphens")
        return label

    @model_validator(mode="after")
    def _one_source(self) -> TotpCreate:
        if (self.uri is None) == (self.secret is None):
            raise ValueError("give uri or secret, not both")
        if self.uri is not None and (self.digits or self.period or self.algorithm):
            raise ValueError("the uri says digits, period and algorithm itself")
        return self


class TotpOut(BaseModel):
    """A stored authenticator, never its secret."""

    label: str
    issuer: str | None = None  # from the URI, when it named one
    account: str | None = None
    algorithm: TotpAlgorithm
    digits: int
    period: int  # seconds
    created_at: datetime


class TotpList(BaseModel):
    totp: list[TotpOut]  # by label


class TotpCode(BaseModel):
    code: str
    valid_for_seconds: int  # until the next code (1 to the period)


# -- human escalations --------------------------------------------------------------------

EscalationKind = Literal["code", "link", "other"]
MAX_ESCALATION_SECONDS = 7 * 24 * 3600


class EscalationCreate(BaseModel):
    """What an agent asks the operator for: a code, a link, or something else."""

    model_config = ConfigDict(extra="forbid")

    kind: EscalationKind
    service: str | None = Field(
        default=None, min_length=1, max_length=253, pattern=ONE_LINE,
        description="the site it is for, e.g. notion.so: a code answered for it counts as "
        "from that site in site-bound waits",
    )  # fmt: skip
    reason: str = Field(min_length=1, max_length=2000, pattern=TEXT)
    expires_in: int = Field(default=3600, ge=1, le=MAX_ESCALATION_SECONDS)

    @field_validator("reason")
    @classmethod
    def _said(cls, reason: str) -> str:
        if not reason.strip():
            raise ValueError("reason must say what is needed")
        return reason


class EscalationAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str = Field(min_length=1, max_length=2048, pattern=ONE_LINE)


class EscalationOut(BaseModel):
    """An escalation as the API shows it: also the payload of ``escalation.opened`` and
    ``escalation.answered`` events."""

    id: str
    project_id: str
    kind: EscalationKind
    service: str | None = None
    reason: str
    # open, answered, or expired: past ``expires_at`` unanswered (it can no longer be)
    status: Literal["open", "answered", "expired"]
    created_at: datetime
    expires_at: datetime
    answered_at: datetime | None = None
    value: str | None = None  # the answer
    code_id: str | None = None  # the code the answer became in /codes (kind code or link)


class EscalationList(BaseModel):
    escalations: list[EscalationOut]
    next: str | None = None  # pass as ``before`` for the next (older) page
