"""Digesting committed messages: parse the raw bytes, store the fields, codes and links.

Runs off the event loop, in parse worker processes (each with its own blocking engine) or,
with ``parse_processes=0`` (tests), in a thread. Only the small event payloads go back.

A batch is bounded by bytes (``worker.BATCH_MAX_BYTES``; a larger message comes alone).
On PostgreSQL a raw message larger than ``RAW_SLICE`` is read a slice at a time: the
client library keeps its input buffer as large as the largest answer it ever received
(twice the message, in hex), for as long as the pooled connection lives.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from agentid.codes.found import Source
from agentid.codes.found import code_rows
from agentid.email import threads
from agentid.email.inbound.digested import ENVELOPE
from agentid.email.inbound.digested import RAW_SLICE
from agentid.email.inbound.digested import AuthInput
from agentid.email.inbound.digested import Digested
from agentid.email.inbound.digested import Row
from agentid.email.inbound.digested import digested
from agentid.email.inbound.digested import entry
from agentid.email.inbound.digested import head_of
from agentid.email.inbound.digested import raw_in_slices
from agentid.email.inbound.digested import received_events
from agentid.email.inbound.digested import signals
from agentid.email.inbound.parse import Parsed
from agentid.email.inbound.parse import parse_message
from agentid.mime import DEFAULT_LIMITS
from agentid.mime import Limits
from agentid.store import event_log
from agentid.store.notices import Notifier
from agentid.store.tables import CodeRow
from agentid.store.tables import Message
from agentid.store.tables import MessageAttachment
from agentid.store.tables import MessageRaw
from agentid.store.tables import Outbound
from agentid.store.tables import table_of

PARSED_COLUMNS = (
    "status",
    "parse_error",
    "from_header",
    "from_address",
    "subject",
    "message_id_header",
    "date_header",
    "headers",
    "header_to",
    "text",
    "html",
    "attachments",
    "has_attachments",
    "auth_results",
    "codes",
    "links",
    "thread_id",
    "mid_key",
)
_MESSAGES = table_of(Message)
_OUTBOUND = table_of(Outbound)
_UPDATE_PARSED = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("message_id"))
    .values({name: bindparam(name) for name in PARSED_COLUMNS})
)


def _nothing(_: object) -> None:
    return None


def digest(
    engine: Engine,
    ids: list[str],
    limits: Limits = DEFAULT_LIMITS,
    *,
    authserv_id: str | None = None,
    begin: Callable[[str], None] = _nothing,
    storing: Callable[[int], None] = _nothing,
    notifier: Notifier | None = None,
    owner: str | None = None,
) -> list[Digested]:
    """Parse and store every listed message not parsed yet; return their event payloads.
    ``begin(id)`` is called before a message is read, ``storing(n)`` before the write.
    With a ``notifier`` (PostgreSQL, other processes listening) the write's transaction
    NOTIFYs them of its events: they hear of the messages at its commit. With an
    ``owner`` (a server's node, ``claims``) only the messages it owns are read, and stored
    only if it still owns them then."""
    whole = engine.dialect.name == "sqlite"
    raw = MessageRaw.data if whole else case((Message.size <= RAW_SLICE, MessageRaw.data))
    undigested = [Message.status == "received"]
    if owner is not None:
        undigested.append(Message.digest_owner == owner)
    with engine.connect() as conn:
        rows = [
            Row(*r)
            for r in conn.execute(
                select(*ENVELOPE, raw, Message.peer, Message.helo)
                .join(MessageRaw, MessageRaw.message_id == Message.id)
                .where(Message.id.in_(ids), *undigested)
            )
        ]
        for row in rows:
            if row.raw is None:
                row.raw = raw_in_slices(conn, row.message_id)
    order = {message_id: n for n, message_id in enumerate(ids)}
    rows.sort(key=lambda row: order[row.message_id])  # the scheduler's order: fair first
    if not rows:
        return []
    parsed: list[Parsed] = []
    heads: list[bytes] = []  # for the verdict stage, which then reads nothing of most
    for row in rows:
        begin(row.message_id)
        parsed.append(parse_message(row.raw, limits, authserv_id))
        heads.append(head_of(row.raw))
        row.raw = b""  # the batch holds one raw message at a time beyond this point
    storing(len(rows))
    updates: list[dict[str, Any]] = []
    codes: list[dict[str, Any]] = []
    files: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for row, p in zip(rows, parsed, strict=True):
        updates.append(_update(row.message_id, p))  # envelope recipients: the spool's rows
        found = _code_rows(row, p)
        codes.extend(found)
        files.extend(_attachment_rows(row.message_id, p))
        events.extend(received_events(row, _entry(row, p), found))
    with engine.begin() as conn:
        # Some may have been digested since they were read, or claimed by another process
        # (``claims``: this one looked gone): those are skipped, so no code or event is
        # stored twice. On PostgreSQL the rows stay locked until this commit, and a
        # concurrent digester or claimer waits, then finds them parsed.
        read = [row.message_id for row in rows]
        mine = set(
            conn.execute(
                select(Message.id).where(Message.id.in_(read), *undigested).with_for_update()
            ).scalars()
        )
        if len(mine) < len(rows):
            kept = [n for n, row in enumerate(rows) if row.message_id in mine]
            rows, parsed = [rows[n] for n in kept], [parsed[n] for n in kept]
            heads = [heads[n] for n in kept]
            updates = [u for u in updates if u["message_id"] in mine]
            codes = [c for c in codes if c["source_id"] in mine]
            files = [f for f in files if f["message_id"] in mine]
            events = [e for e in events if e["ref_id"] in mine]
            if not rows:
                return []
        _thread(conn, rows, parsed, updates)
        conn.execute(_UPDATE_PARSED, updates)
        if files:
            conn.execute(insert(table_of(MessageAttachment)), files)
        if codes:
            conn.execute(insert(table_of(CodeRow)), codes)
        seqs = event_log.append(conn, events)
        done = digested(rows, events, seqs, _auth_inputs(rows, parsed, heads))
        if notifier is not None:
            notifier.send(conn, signals(done))
    return done


def _auth_inputs(rows: list[Row], parsed: list[Parsed], heads: list[bytes]) -> dict[str, AuthInput]:
    return {
        row.message_id: AuthInput(
            row.peer, row.helo, row.mail_from or "", p.from_address, row.size, head
        )
        for row, p, head in zip(rows, parsed, heads, strict=True)
    }


def _thread(
    conn: Connection, rows: list[Row], parsed: list[Parsed], updates: list[dict[str, Any]]
) -> None:
    """Each message's thread (agentid.email.threads): the thread of the first message it
    answers that the project holds, received or sent, else its own. One query per batch,
    and only when a message of it answers something."""
    answers = [threads.parents(p.headers or []) for p in parsed]
    known: dict[tuple[str, str], str] = {}
    wanted = {key for keys in answers for key in keys}
    if wanted:
        projects = {row.project_id for row in rows}
        for table in (_MESSAGES, _OUTBOUND):
            found = conn.execute(
                select(table.c.project_id, table.c.mid_key,
                       func.coalesce(table.c.thread_id, table.c.id))
                .where(table.c.project_id.in_(projects), table.c.mid_key.in_(wanted))
            )  # fmt: skip
            known.update({(project, key): thread for project, key, thread in found})
    for row, keys, update_ in zip(rows, answers, updates, strict=True):
        thread = next(
            (known[(row.project_id, k)] for k in keys if (row.project_id, k) in known),
            row.message_id,
        )
        update_["thread_id"] = thread
        if update_["mid_key"] is not None:  # a later message of the batch may answer it
            known.setdefault((row.project_id, update_["mid_key"]), thread)


def _update(message_id: str, p: Parsed) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "status": "parse_error" if p.error else "parsed",
        "parse_error": p.error,
        "from_header": p.from_header,
        "from_address": p.from_address,
        "subject": p.subject,
        "message_id_header": p.message_id,
        "date_header": p.date,
        "headers": p.headers,
        "header_to": "\n".join(dict.fromkeys(p.to + p.cc)) or None,
        "text": p.text,
        "html": p.html,
        "attachments": p.attachments,
        "has_attachments": bool(p.attachments),
        "auth_results": None,  # agentid's own verdict: inbound authentication fills it
        "codes": p.codes,
        "links": p.links,
        "thread_id": None,  # set by _thread, with the batch's others
        "mid_key": threads.key(p.message_id),
    }


def _attachment_rows(message_id: str, p: Parsed) -> list[dict[str, Any]]:
    return [
        {
            "message_id": message_id,
            "idx": a.index,
            "filename": a.filename,
            "content_type": a.content_type,
            "content_id": a.content_id,
            "size": a.size,
            "data": a.data,
        }
        for a in p.files
    ]


def _code_rows(row: Row, p: Parsed) -> list[dict[str, Any]]:
    """What the codes API hands out for a message (``agentid.codes.found``)."""
    sender = p.from_address or row.mail_from or None
    source = Source("email", row.message_id, row.project_id, sender, row.rcpt_to, row.received_at)
    return code_rows(source, p.codes, p.links)


def _entry(row: Row, p: Parsed) -> dict[str, Any]:
    return entry(
        row,
        from_header=p.from_header,
        subject=p.subject,
        has_attachments=bool(p.attachments),
        codes=p.codes,
        links=p.links,
        error=p.error,
    )
