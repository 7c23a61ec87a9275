"""Outbound webhooks, their deliveries, and how far the dispatcher has read the events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from agentid.store.tables.base import Base
from agentid.store.tables.base import UTCDateTime
from agentid.store.tables.base import deleted_with
from agentid.times import utcnow


class Webhook(Base):
    """A signed outbound webhook (agentid.webhooks): a project's, or the operator's (id
    ``operator``, no project, kept in step with ``AGENTID_OPERATOR_WEBHOOK_URL``). It gets
    the events of its kinds written after ``after_seq``; the signing key is sealed with
    the service key. A receiver's 410 disables it (``disabled_reason`` says when)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str | None] = deleted_with("projects.id", index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    after_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookDelivery(Base):
    """One event for one webhook (``replay`` 0), or a replay of it (1, 2, ...): the body as
    signed, built once from the event, and where its delivery stands. ``message_id`` is the
    ``webhook-id`` header, the same for every attempt and replay."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),
        UniqueConstraint("webhook_id", "event_seq", "replay"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    webhook_id: Mapped[str] = deleted_with("webhooks.id")
    event_seq: Mapped[int] = mapped_column(BigInteger)
    event_type: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[str] = mapped_column(String(32))
    replay: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))  # pending, sending, delivered, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(Integer)  # the last answer's
    error: Mapped[str | None] = mapped_column(Text)  # the last failure's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WebhookCursor(Base):
    """How far the webhook dispatcher has read the events table: every event up to ``seq``
    has its deliveries made. One row, ``name`` ``events``."""

    __tablename__ = "webhook_cursor"

    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
