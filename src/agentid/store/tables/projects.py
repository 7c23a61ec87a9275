"""Projects and what belongs to one as a whole: tokens, its own provider accounts, the
operator's web sessions, the audit trail and the event log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import BigInteger
from sqlalchemy import Boolean
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import false
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from agentid.store.tables.base import Base
from agentid.store.tables.base import UTCDateTime
from agentid.store.tables.base import deleted_with
from agentid.times import utcnow


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(63), primary_key=True)
    domain: Mapped[str | None] = mapped_column(String(253), unique=True)
    email_active: Mapped[bool] = mapped_column(Boolean, default=False)
    primary_address: Mapped[str | None] = mapped_column(String(320))
    catch_all: Mapped[bool] = mapped_column(Boolean, default=True)
    retention_days: Mapped[int] = mapped_column(Integer, default=30)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # codes queries that do not say ``authenticated`` mean ``authenticated=true``
    authenticated_codes: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id", index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectProvider(Base):
    """A project's own provider account: its URL (credentials and all) sealed with the
    service key, and a keyed fingerprint of it (agentid.providers.accounts)."""

    __tablename__ = "project_providers"

    project_id: Mapped[str] = deleted_with("projects.id", primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # relay, phone, dns
    url_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UiSession(Base):
    """A sign-in to the operator's web page (agentid.web.sessions): the cookie holds the
    session id, this row only its SHA-256. No token is kept: a project token's session
    names its token row (and dies with it), the operator's keeps the admin token's
    SHA-256, so a changed admin token ends it. ``csrf`` is what every form posts back."""

    __tablename__ = "ui_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str | None] = deleted_with("tokens.id", index=True)
    admin_hash: Mapped[str | None] = mapped_column(String(64))
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class AuditEvent(Base):
    """What was done to a project: provision, token, alias, release."""

    __tablename__ = "audit_events"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(String(63), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventRow(Base):
    """One event, written in the transaction of the change it reports. ``seq`` follows
    commit order (writers serialize on it), so ``seq > n`` is exactly what came after n:
    server-sent events resume from ``Last-Event-ID`` with it."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_project_id_seq", "project_id", "seq"),
        {"sqlite_autoincrement": True},  # a seq is never handed out twice
    )

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    project_id: Mapped[str] = deleted_with("projects.id")
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str | None] = mapped_column(String(26), index=True)  # the message, ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
