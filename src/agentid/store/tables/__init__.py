"""Tables, one module per feature; Alembic migrations in ``migrations/versions`` create
exactly these. Importing this package puts every table on ``Base.metadata`` (what the
migrations' environment and their test compare with), and every name is importable from
here: ``from agentid.store.tables import Message``."""

from __future__ import annotations

from agentid.store.tables.base import NAMING, Base, UTCDateTime, table_of
from agentid.store.tables.codes import CodeRow, Escalation, TotpSecret
from agentid.store.tables.mail import (
    Alias,
    Domain,
    Message,
    MessageAttachment,
    MessageRaw,
    MessageRecipient,
    RelayDelivery,
)
from agentid.store.tables.outbound import Outbound, OutboundRecipient, SendPolicy, Suppression
from agentid.store.tables.phone import Forwarder, PhoneNumber, Sms
from agentid.store.tables.projects import (
    AuditEvent,
    EventRow,
    Project,
    ProjectProvider,
    Token,
    UiSession,
)
from agentid.store.tables.webhooks import Webhook, WebhookCursor, WebhookDelivery

__all__ = [
    "NAMING",
    "Alias",
    "AuditEvent",
    "Base",
    "CodeRow",
    "Domain",
    "Escalation",
    "EventRow",
    "Forwarder",
    "Message",
    "MessageAttachment",
    "MessageRaw",
    "MessageRecipient",
    "Outbound",
    "OutboundRecipient",
    "PhoneNumber",
    "Project",
    "ProjectProvider",
    "RelayDelivery",
    "SendPolicy",
    "Sms",
    "Suppression",
    "Token",
    "TotpSecret",
    "UTCDateTime",
    "UiSession",
    "Webhook",
    "WebhookCursor",
    "WebhookDelivery",
    "table_of",
]
