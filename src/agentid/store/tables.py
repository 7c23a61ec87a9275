"""Tables. Alembic migrations in ``migrations/versions`` create exactly these."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from agentid.times import utcnow

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


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


class Domain(Base):
    """A domain hosted for receiving, with its DKIM key (private half encrypted)."""

    __tablename__ = "domains"

    name: Mapped[str] = mapped_column(String(253), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), unique=True
    )
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


class Token(Base):
    __tablename__ = "tokens"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProjectProvider(Base):
    """A project's own provider account: its URL (credentials and all) sealed with the
    service key, and a keyed fingerprint of it (agentid.providers.accounts)."""

    __tablename__ = "project_providers"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # relay, phone, dns
    url_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alias(Base):
    __tablename__ = "aliases"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str | None] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
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
    auth_results: Mapped[dict[str, Any] | None] = mapped_column(JSON)
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

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MessageAttachment(Base):
    """One attachment's decoded bytes, written at digest time: a download never re-parses
    the message."""

    __tablename__ = "message_attachments"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str | None] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    content_id: Mapped[str | None] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class MessageRecipient(Base):
    """The envelope recipients of a message (addresses agentid accepted it for): ``to=``."""

    __tablename__ = "message_recipients"

    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True, index=True)


class RelayDelivery(Base):
    """One recipient of a message handed over by an edge MTA over LMTP, by that MTA's queue
    id: the same delivery made again (the MTA never heard our reply) is not stored twice."""

    __tablename__ = "relay_deliveries"

    relay_key: Mapped[str] = mapped_column(String(160), primary_key=True)  # "host/queue id"
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    message_id: Mapped[str] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )


class CodeRow(Base):
    """A verification code or link found in a message, with its one-time ``used`` flag."""

    __tablename__ = "codes"
    __table_args__ = (Index("ix_codes_project_id_id", "project_id", "id"),)

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
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
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
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
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
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


class PhoneNumber(Base):
    """A number bought for a project: ``pending`` (the provider completes it later),
    ``active``, or ``released`` (kept, with when, so its SMS keep their number). At most
    one pending or active number per project, and a number live for one project only."""

    __tablename__ = "phone_numbers"
    __table_args__ = (
        Index(
            "uq_phone_numbers_live_project",
            "project_id",
            unique=True,
            sqlite_where=text("status != 'released'"),
            postgresql_where=text("status != 'released'"),
        ),
        Index(
            "uq_phone_numbers_live_e164",
            "e164",
            unique=True,
            sqlite_where=text("status != 'released'"),
            postgresql_where=text("status != 'released'"),
        ),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
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
    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
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
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
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
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    ref_id: Mapped[str | None] = mapped_column(String(26), index=True)  # the message, ...
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


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
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
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

    outbound_id: Mapped[str] = mapped_column(
        ForeignKey("outbound.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(63))
    route: Mapped[str] = mapped_column(String(8))  # local (hosted here) or relay
    # queued, sending, sent, deferred, failed, suppressed
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Suppression(Base):
    """An address a relay refused for good: later sends to it fail at once."""

    __tablename__ = "suppressions"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SendPolicy(Base):
    """Where a project may send: recipients' domains allowed (empty: any) and blocked."""

    __tablename__ = "send_policies"

    project_id: Mapped[str] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    allow: Mapped[list[str]] = mapped_column(JSON)
    block: Mapped[list[str]] = mapped_column(JSON)


class Webhook(Base):
    """A signed outbound webhook (agentid.webhooks): a project's, or the operator's (id
    ``operator``, no project, kept in step with ``AGENTID_OPERATOR_WEBHOOK_URL``). It gets
    the events of its kinds written after ``after_seq``; the signing key is sealed with
    the service key. A receiver's 410 disables it (``disabled_reason`` says when)."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(26), primary_key=True)
    project_id: Mapped[str | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
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
    webhook_id: Mapped[str] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
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


class UiSession(Base):
    """A sign-in to the operator's web page (agentid.web.sessions): the cookie holds the
    session id, this row only its SHA-256. No token is kept: a project token's session
    names its token row (and dies with it), the operator's keeps the admin token's
    SHA-256, so a changed admin token ends it. ``csrf`` is what every form posts back."""

    __tablename__ = "ui_sessions"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str | None] = mapped_column(
        ForeignKey("tokens.id", ondelete="CASCADE"), index=True
    )
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


def table_of(model: type[Base]) -> Table:
    """The Core table behind a model, for executemany hot paths (no ORM unit of work)."""
    table = model.__table__
    assert isinstance(table, Table)
    return table
