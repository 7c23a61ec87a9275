"""Receiving mail: hosted domains, aliases, and each message with its raw bytes,
attachments and envelope recipients."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy import Boolean
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from agentid.store.tables.base import Base
from agentid.store.tables.base import UTCDateTime
from agentid.store.tables.base import deleted_with
from agentid.times import utcnow


class Domain(Base):
    """A domain hosted for receiving, with its DKIM key (private half encrypted)."""

    __tablename__ = "domains"

    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id", unique=True)
    dkim_selector: Mapped[str] = mapped_column(String(63))
    dkim_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    dkim_public_key: Mapped[str] = mapped_column(Text)
    dns_status: Mapped[str] = mapped_column(String(16), default="planned")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # agentid.dns: the records as last applied, and the last verification
    dns_records: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    dns_checks: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    dns_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    dns_applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Alias(Base):
    __tablename__ = "aliases"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id", index=True)
    label: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


UNCHECKED = "status IN ('parsed', 'parse_error') AND auth_results IS NULL"


class Message(Base):
    """One email as stored for one project: envelope first, parsed fields once parsed."""

    __tablename__ = "messages"
    __table_args__ = (
        Index("ix_messages_project_id_id", "project_id", "id"),
        Index("ix_messages_project_id_mid_key", "project_id", "mid_key"),
        Index("ix_messages_project_id_thread_id", "project_id", "thread_id"),
        # what is left to digest, by the process that digests it (email/inbound/claims)
        Index(
            "ix_messages_undigested",
            "digest_owner",
            sqlite_where=text("status = 'received'"),
            postgresql_where=text("status = 'received'"),
        ),
        # digested and left without a verdict, by the process that checks it (claims)
        Index(
            "ix_messages_unchecked",
            "digest_owner",
            sqlite_where=text(UNCHECKED),
            postgresql_where=text(UNCHECKED),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = deleted_with("projects.id")
    direction: Mapped[str] = mapped_column(String(8), default="inbound")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mail_from: Mapped[str] = mapped_column(Text)
    rcpt_to: Mapped[list[str]] = mapped_column(JSON)
    peer: Mapped[str | None] = mapped_column(String(255))
    helo: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="received")
    parse_error: Mapped[str | None] = mapped_column(Text)
    from_header: Mapped[str | None] = mapped_column(Text)
    from_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(Text)
    message_id_header: Mapped[str | None] = mapped_column(Text)
    date_header: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[list[list[str]] | None] = mapped_column(JSON)
    header_to: Mapped[str | None] = mapped_column(Text)  # To/Cc addresses, one per line
    text: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    attachments: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    has_attachments: Mapped[bool] = mapped_column(Boolean, default=False)
    auth_results: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    signed_by: Mapped[str | None] = mapped_column(Text)  # agentid.codes.sites.signed_by
    codes: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    links: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    unread: Mapped[bool] = mapped_column(Boolean, default=True)
    # the thread's first message (agentid.email.threads), and this one's Message-ID key
    thread_id: Mapped[str | None] = mapped_column(String(26))
    mid_key: Mapped[str | None] = mapped_column(String(32))
    # the process (store/leader's node) whose parse workers digest it; None: any may claim it
    digest_owner: Mapped[str | None] = mapped_column(String(32))


class MessageRaw(Base):
    """The message exactly as received, kept apart so listing never loads it."""

    __tablename__ = "message_raw"

    message_id: Mapped[str] = deleted_with("messages.id", primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MessageAttachment(Base):
    """One attachment's decoded bytes, written at digest time: a download never re-parses
    the message."""

    __tablename__ = "message_attachments"

    message_id: Mapped[str] = deleted_with("messages.id", primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    content_id: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MessageRecipient(Base):
    """The envelope recipients of a message (addresses agentid accepted it for): ``to=``."""

    __tablename__ = "message_recipients"

    message_id: Mapped[str] = deleted_with("messages.id", primary_key=True)
    address: Mapped[str] = mapped_column(String(320), primary_key=True, index=True)


class RelayDelivery(Base):
    """One recipient of a message handed over by an edge MTA over LMTP, by that MTA's queue
    id: the same delivery made again (the MTA never heard our reply) is not stored twice."""

    __tablename__ = "relay_deliveries"

    relay_key: Mapped[str] = mapped_column(String(160), primary_key=True)  # "host/queue id"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    message_id: Mapped[str] = deleted_with("messages.id", index=True)
