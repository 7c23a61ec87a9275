"""What a digested (or flagged) message tells the event bus, and flagging one.

Kept apart from ``digest`` so the server process, which only publishes and flags, never
loads the parser and the extractor: those live in the parse worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import LargeBinary
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from agentid.events import Kind
from agentid.events import Signal
from agentid.store import event_log
from agentid.store.tables import Message
from agentid.store.tables import MessageRaw
from agentid.store.tables import table_of
from agentid.times import json_time

_MESSAGES = table_of(Message)
RAW_SLICE = 1024 * 1024  # on PostgreSQL a larger raw message is read a slice at a time
HEAD_BYTES = 64 * 1024  # the most of a header block handed to the verdict stage

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
class AuthInput:
    """The envelope, the From address and the head of the message: its header block, or
    its first ``HEAD_BYTES`` when the header block is longer."""

    peer: str | None
    helo: str | None
    mail_from: str
    from_address: str | None
    size: int
    head: bytes


def head_of(raw: bytes) -> bytes:
    """The header block of a raw message (with the blank line ending it), or its first
    ``HEAD_BYTES`` when no blank line comes before them."""
    end = raw.find(b"\r\n\r\n", 0, HEAD_BYTES)
    return raw[: end + 4] if end >= 0 else raw[:HEAD_BYTES]


@dataclass(frozen=True, slots=True)
class Digested:
    """What the event bus needs about one stored message: its events' kinds and seqs (the
    rows were written with the message), and the addresses they concern."""

    project_id: str
    message_id: str
    keys: tuple[str, ...]  # the envelope recipients: a wait on ``to=`` wakes on these
    events: tuple[tuple[str, int], ...]  # (kind, seq)
    auth_input: AuthInput | None = None  # what its verdict check reads (None: the store)


@dataclass(slots=True)
class Row:
    message_id: str
    project_id: str
    mail_from: str
    rcpt_to: list[str]
    received_at: datetime
    size: int
    raw: bytes
    peer: str | None = None
    helo: str | None = None


def entry(
    row: Row,
    *,
    from_header: str | None = None,
    subject: str | None = None,
    has_attachments: bool = False,
    codes: list[dict[str, Any]] | None = None,
    links: list[dict[str, Any]] | None = None,
    error: str | None = None,
) -> dict[str, Any]:
    """The message as the inbox lists it: the ``message.received`` event's payload."""
    return {
        "id": row.message_id,
        "received_at": json_time(row.received_at),
        "from": from_header or row.mail_from,
        "to": row.rcpt_to,
        "subject": subject,
        "size": row.size,
        "has_attachments": has_attachments,
        "unread": True,
        "codes": codes or [],
        "links": links or [],
        "parse_error": error is not None,
    }


def code_payload(code: dict[str, Any]) -> dict[str, Any]:
    """A stored code (a ``codes`` row) as the codes API shows it: ``code.found``'s payload."""
    return {
        "id": code["id"],
        "value": code["value"],
        "kind": code["kind"],
        "channel": code["channel"],
        "source": {"type": code["source_type"], "id": code["source_id"]},
        "message_id": code["source_id"],
        "group_id": code["group_id"],
        "from": code["sender"],
        "to": code["recipients"],
        "received_at": json_time(code["received_at"]),
        "confidence": code["confidence"],
        "used": False,
        "authenticated": code["authenticated"],
        "expires_at": json_time(code["expires_at"]),
        "status": code["status"],
    }


def received_events(
    row: Row, listed: dict[str, Any], codes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The events a stored message makes: ``message.received``, then ``code.found`` for
    each code and link the codes API hands out."""
    made = [event_log.row(row.project_id, "message.received", row.message_id, listed)]
    made += [
        event_log.row(row.project_id, "code.found", row.message_id, code_payload(code))
        for code in codes
    ]
    return made


def digested(
    rows: list[Row],
    events: list[dict[str, Any]],
    seqs: list[int],
    auth_inputs: dict[str, AuthInput] | None = None,
) -> list[Digested]:
    """What each message tells the bus, from the events ``received_events`` made for the
    rows (in order) and the seqs the log gave them; and the verdict stage, what each
    message's check reads (``auth_inputs``, by message id)."""
    inputs = auth_inputs or {}
    by_message: dict[str, list[tuple[str, int]]] = {row.message_id: [] for row in rows}
    for event, seq in zip(events, seqs, strict=True):
        by_message[event["ref_id"]].append((event["kind"], seq))
    return [
        Digested(
            row.project_id,
            row.message_id,
            tuple(row.rcpt_to),
            tuple(by_message[row.message_id]),
            inputs.get(row.message_id),
        )
        for row in rows
    ]


def signals(done: list[Digested]) -> list[Signal]:
    """The bus signals of digested (or flagged) messages: one per event."""
    return [Signal(d.project_id, Kind(kind), seq, d.keys) for d in done for kind, seq in d.events]


def raw_in_slices(conn: Connection, message_id: str) -> bytes:
    piece = func.substr(MessageRaw.data, bindparam("start"), RAW_SLICE, type_=LargeBinary)
    query = select(piece).where(MessageRaw.message_id == message_id)
    pieces: list[bytes] = []
    while True:
        pieces.append(conn.execute(query, {"start": len(pieces) * RAW_SLICE + 1}).scalar_one())
        if len(pieces[-1]) < RAW_SLICE:  # the last one (SQL counts from 1)
            return b"".join(pieces)


def mark_undigestible(
    engine: Engine, message_id: str, error: str, owner: str | None = None
) -> list[Digested]:
    """Show a message that cannot be digested as a parse error: never hidden, never lost.
    With an ``owner``, only while that process owns it (``claims``)."""
    undigested = [Message.id == message_id, Message.status == "received"]
    if owner is not None:
        undigested.append(Message.digest_owner == owner)
    with engine.begin() as conn:
        row = conn.execute(select(*ENVELOPE).where(*undigested).with_for_update()).first()
        if row is None:
            return []
        conn.execute(
            update(_MESSAGES)
            .where(_MESSAGES.c.id == message_id)
            .values(status="parse_error", parse_error=error[:500], codes=[], links=[])
        )
        flagged = Row(*row, raw=b"")
        events = received_events(flagged, entry(flagged, error=error), [])
        seqs = event_log.append(conn, events)
    return digested([flagged], events, seqs)
