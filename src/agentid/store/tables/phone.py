"""Phone: numbers bought, human forwarders, and inbound SMS."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Index
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from agentid.store.tables.base import Base
from agentid.store.tables.base import UTCDateTime
from agentid.store.tables.base import deleted_with
from agentid.times import utcnow


def _unique_while_live(name: str, column: str) -> Index:
    """``column`` is unique among the numbers not released (on both stores)."""
    live = text("status != 'released'")
    return Index(name, column, unique=True, sqlite_where=live, postgresql_where=live)


class PhoneNumber(Base):
    """A number bought for a project: ``pending`` (the provider completes it later),
    ``active``, or ``released`` (kept, with when, so its SMS keep their number). At most
    one pending or active number per project, and a number live for one project only."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        _unique_while_live("uq_phone_numbers_live_project", "project_id"),
        _unique_while_live("uq_phone_numbers_live_e164", "e164"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id", index=True)
    e164: Mapped[str] = mapped_column(String(16))
    provider: Mapped[str] = mapped_column(String(32))  # the URL scheme: twilio, plivo, sandbox
    provider_sid: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))  # pending, active, released
    capabilities: Mapped[list[str]] = mapped_column(JSON)
    line_type: Mapped[str | None] = mapped_column(String(32))
    keep: Mapped[bool] = mapped_column(Boolean, default=False)  # pinned: the collector skips it
    # the sub-account made for the number (a Twilio subaccount) and its token, sealed
    account_sid: Mapped[str | None] = mapped_column(String(64))
    account_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Forwarder(Base):
    """A human's own phone as an SMS source: an app on it POSTs to a secret URL (only the
    URL token's hash is kept) and may sign with ``secret`` (sealed with the service key)."""

    __tablename__ = "phone_forwarders"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id", index=True)
    number: Mapped[str] = mapped_column(String(16))
    label: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Sms(Base):
    """One inbound SMS, stored once per provider message id (providers retry)."""

    __tablename__ = "sms"
    __table_args__ = (
        Index("ix_sms_project_id_id", "project_id", "id"),
        UniqueConstraint("provider", "provider_message_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id")
    number_id: Mapped[str | None] = mapped_column(String(26))  # the phone_numbers row
    provider: Mapped[str] = mapped_column(String(32))
    provider_message_id: Mapped[str] = mapped_column(String(64))
    from_number: Mapped[str] = mapped_column(String(64))
    to_number: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    media: Mapped[list[str]] = mapped_column(JSON)
    params: Mapped[list[list[str]]] = mapped_column(JSON)  # every field the provider sent
    codes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
