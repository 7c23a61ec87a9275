"""Codes and links found in what arrived, authenticator (TOTP) secrets, and escalations
to the operator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Float
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


class CodeRow(Base):
    """A verification code or link found in a message, with its one-time ``used`` flag."""

    __tablename__ = "codes"
    __table_args__ = (Index("ix_codes_project_id_id", "project_id", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id")
    source_type: Mapped[str] = mapped_column(String(16))  # email, sms, escalation
    source_id: Mapped[str] = mapped_column(String(26), index=True)  # a message, an SMS, ...
    channel: Mapped[str] = mapped_column(String(16))  # email, sms, escalation
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(Text)
    confidence: Mapped[float] = mapped_column(Float)
    sender: Mapped[str | None] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The candidates of one kind from one source share a group: consuming one consumes all.
    group_id: Mapped[str] = mapped_column(String(26), index=True)
    authenticated: Mapped[bool | None] = mapped_column(Boolean)  # None: not checked
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "found": the source's one clear code; "ambiguous": one of its close candidates
    status: Mapped[str] = mapped_column(String(12), default="found", server_default="found")


class TotpSecret(Base):
    """An authenticator (TOTP) secret of a project, sealed with the service key; its
    parameters and the issuer and account its URI named are kept plain."""

    __tablename__ = "totp_secrets"
    __table_args__ = (UniqueConstraint("project_id", "label"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id")
    label: Mapped[str] = mapped_column(String(63))
    issuer: Mapped[str | None] = mapped_column(String(255))
    account: Mapped[str | None] = mapped_column(String(255))
    algorithm: Mapped[str] = mapped_column(String(8))  # SHA1, SHA256, SHA512
    digits: Mapped[int] = mapped_column(Integer)
    period: Mapped[int] = mapped_column(Integer)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Escalation(Base):
    """A question an agent put to the operator (a code, a link, something else), and the
    answer. ``status`` is ``open`` or ``answered``; an open one past ``expires_at`` is
    expired (agentid.codes.escalations)."""

    __tablename__ = "escalations"
    __table_args__ = (
        Index("ix_escalations_project_id_id", "project_id", "id"),
        Index("ix_escalations_status_id", "status", "id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id")
    kind: Mapped[str] = mapped_column(String(8))  # code, link, other
    service: Mapped[str | None] = mapped_column(String(253))
    site: Mapped[str | None] = mapped_column(String(253))  # the service's registrable domain
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))
    value: Mapped[str | None] = mapped_column(Text)
    code_id: Mapped[str | None] = mapped_column(String(26))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
