"""Tables, one module per feature; Alembic migrations in ``migrations/versions`` create
exactly these. Importing this package puts every table on ``Base.metadata`` (what the
migrations' environment and their test compare with), and every name is importable from
here: ``from agentid.store.tables import Message``."""

from __future__ import annotations

from agentid.store.tables.base import NAMING
from agentid.store.tables.base import Base
from agentid.store.tables.base import UTCDateTime
from agentid.store.tables.base import table_of
from agentid.store.tables.codes import CodeRow
from agentid.store.tables.codes import Escalation
from agentid.store.tables.codes import TotpSecret
from agentid.store.tables.mail import Alias
from agentid.store.tables.mail import Domain
from agentid.store.tables.mail import Message
from agentid.store.tables.mail import MessageAttachment
from agentid.store.tables.mail import MessageRaw
from agentid.store.tables.mail import MessageRecipient
from agentid.store.tables.mail import RelayDelivery
from agentid.store.tables.outbound import Outbound
from agentid.store.tables.outbound import OutboundRecipient
from agentid.store.tables.outbound import SendPolicy
from agentid.store.tables.outbound import Suppression
from agentid.store.tables.phone import Forwarder
from agentid.store.tables.phone import PhoneNumber
from agentid.store.tables.phone import Sms
from agentid.store.tables.projects import AuditEvent
from agentid.store.tables.projects import EventRow
from agentid.store.tables.projects import Project
from agentid.store.tables.projects import ProjectProvider
from agentid.store.tables.projects import Token
from agentid.store.tables.projects import UiSession
from agentid.store.tables.webhooks import Webhook
from agentid.store.tables.webhooks import WebhookCursor
from agentid.store.tables.webhooks import WebhookDelivery

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
