"""What a digested (or flagged) message tells the event bus, and flagging one.

Kept apart from ``digest`` so the server process, which only publishes and flags, never
loads the parser and the extractor: those live in the parse worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from agentid.store.tables import Message, table_of

_MESSAGES = table_of(Message)

# The columns Row is built from, in its field order (then the raw message, if loaded).
ENVELOPE = (
    Message.id,
    Message.project_id,
    Message.mail_from,
    Message.rcpt_to,
    Message.received_at,
    Message.size,
)


@dataclass(frozen=True, slots=True)
class Digested:
    """What the event bus needs about one stored message."""

    project_id: str
    entry: dict[str, Any]
    code: dict[str, Any] | None  # the best code (else link) found, for code.found


@dataclass(slots=True)
class Row:
    message_id: str
    project_id: str
    mail_from: str
    rcpt_to: list[str]
    received_at: datetime
    size: int
    raw: bytes


def entry(
    row: Row,
    *,
    from_header: str | None = None,
    from_address: str | None = None,
    header_to: list[str] | None = None,
    subject: str | None = None,
    has_attachments: bool = False,
    codes: list[dict[str, Any]] | None = None,
    links: list[dict[str, Any]] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """What waiters match on; shaped like an inbox entry plus the header recipients."""
    return {
        "id": row.message_id,
        "received_at": row.received_at.isoformat(),
        "from": from_header or row.mail_from,
        "from_address": from_address or row.mail_from.lower(),
        "mail_from": row.mail_from,
        "to": row.rcpt_to,
        "header_to": header_to or [],
        "subject": subject,
        "size": row.size,
        "has_attachments": has_attachments,
        "unread": True,
        "codes": codes or [],
        "links": links or [],
        "parse_error": error is not None,
    }


def mark_undigestible(engine: Engine, message_id: str, error: str) -> list[Digested]:
    """Show a message that cannot be digested as a parse error: never hidden, never lost."""
    with engine.begin() as conn:
        row = conn.execute(
            select(*ENVELOPE).where(Message.id == message_id, Message.status == "received")
        ).first()
        if row is None:
            return []
        conn.execute(
            update(_MESSAGES)
            .where(_MESSAGES.c.id == message_id)
            .values(status="parse_error", parse_error=error[:500], codes=[], links=[])
        )
    flagged = Row(*row, raw=b"")
    return [Digested(flagged.project_id, entry(flagged, error=error), None)]
