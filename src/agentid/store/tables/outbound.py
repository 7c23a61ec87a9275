"""Sending mail: each message sent, its recipients' deliveries, suppressed addresses and
where a project may send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
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


class Outbound(Base):
    """One message a project sent (or is sending): the finished bytes, signed once, so a
    retry sends exactly what the first attempt did, ``Message-ID`` included."""

    __tablename__ = "outbound"
    __table_args__ = (
        Index("ix_outbound_project_id_id", "project_id", "id"),
        Index("ix_outbound_project_id_mid_key", "project_id", "mid_key"),
        Index("ix_outbound_project_id_thread_id", "project_id", "thread_id"),
        UniqueConstraint("project_id", "idempotency_key"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(12))  # queued, sending, sent, failed, partial
    mail_from: Mapped[str] = mapped_column(String(320))
    to: Mapped[list[str]] = mapped_column(JSON)
    cc: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(Text)
    message_id_header: Mapped[str] = mapped_column(Text)
    in_reply_to: Mapped[str | None] = mapped_column(String(26))  # a stored message's id
    thread_id: Mapped[str] = mapped_column(String(26))  # agentid.email.threads
    mid_key: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    raw: Mapped[bytes] = mapped_column(LargeBinary)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    request_hash: Mapped[str | None] = mapped_column(String(64))
    # whose relay was chosen when it was queued: project, service or none (None: stored
    # before the choice was kept); agentid.email.outbound.relays
    relay: Mapped[str | None] = mapped_column(String(8))


class OutboundRecipient(Base):
    """One envelope recipient of a sent message, and where its delivery stands."""

    __tablename__ = "outbound_recipients"
    __table_args__ = (
        Index("ix_outbound_recipients_due", "status", "next_attempt_at"),
        # a bounce names the relay's message id: the shared relay's webhook finds the sender
        Index("ix_outbound_recipients_provider_message_id", "provider_message_id"),
    )

    outbound_id: Mapped[str] = deleted_with("outbound.id", primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(63))
    route: Mapped[str] = mapped_column(String(8))  # local (hosted here) or relay
    # queued, sending, sent, deferred, failed, suppressed
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # this round's; a retry sets 0
    # every claim for an attempt, never set back: a result is written only under the claim
    # it answers, so one of an attempt from before a retry cannot pass for a later one's
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suppression(Base):
    """An address a relay refused for good: later sends to it fail at once."""

    __tablename__ = "suppressions"

    project_id: Mapped[str] = deleted_with("projects.id", primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SendPolicy(Base):
    """Where a project may send: recipients' domains allowed (empty: any) and blocked."""

    __tablename__ = "send_policies"

    project_id: Mapped[str] = deleted_with("projects.id", primary_key=True)
    allow: Mapped[list[str]] = mapped_column(JSON)
    block: Mapped[list[str]] = mapped_column(JSON)
