"""Shapes of the webhooks API (shared by the routes, the client and the CLI)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import field_validator

# The event kinds a webhook may take (agentid.webhooks.payloads says what each carries).
WebhookEvent = Literal[
    "message.received",
    "sms.received",
    "code.found",
    "sms.filtered",
    "escalation.opened",
    "escalation.answered",
    "message.sent",
    "message.failed",
]
DeliveryStatus = Literal["pending", "sending", "delivered", "failed"]
MAX_URL_CHARS = 2048


class WebhookCreate(BaseModel):
    """A URL to post the project's events of ``events`` to (http or https, a public host)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=MAX_URL_CHARS)
    events: list[WebhookEvent] = Field(min_length=1, max_length=32)

    @field_validator("events")
    @classmethod
    def _once_each(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        return list(dict.fromkeys(events))


class WebhookOut(BaseModel):
    id: str
    url: str
    events: list[str]
    enabled: bool  # false once a receiver answered 410 Gone
    disabled_reason: str | None = None
    created_at: datetime


class WebhookCreated(WebhookOut):
    """Shown once: the Standard Webhooks signing secret (``whsec_<base64>``)."""

    secret: str


class WebhookList(BaseModel):
    webhooks: list[WebhookOut]


class DeliveryOut(BaseModel):
    """One event sent (or being sent) to one webhook, with its attempts so far."""

    id: str
    webhook_id: str
    event_type: str
    event_seq: int  # the event's place in the project's log (its SSE ``id``)
    message_id: str  # the webhook-id header
    replay: int  # 0: the first delivery; n: the n-th replay
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    status_code: int | None  # the last answer's
    error: str | None  # the last failure's
    created_at: datetime


class DeliveryList(BaseModel):
    deliveries: list[DeliveryOut]  # newest first
    next: str | None = None  # pass as ``before`` for the next (older) page
