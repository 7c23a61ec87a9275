"""Reading the inbox: filtered, newest-first pages, long-polls that wake on arrival."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, literal, select, update
from sqlalchemy.orm import load_only

from agentid.email.schemas import Attachment, AuthVerdict, InboxEntry, MessageOut
from agentid.errors import NotFound
from agentid.events import Listener, next_event
from agentid.mime import read as read_mime
from agentid.runtime import Runtime
from agentid.store.tables import CodeRow, Message, MessageAttachment, MessageRaw, MessageRecipient

VISIBLE = ("parsed", "parse_error")
LIST_COLUMNS = (
    Message.id,
    Message.received_at,
    Message.from_header,
    Message.mail_from,
    Message.rcpt_to,
    Message.subject,
    Message.size,
    Message.has_attachments,
    Message.unread,
    Message.codes,
    Message.links,
    Message.status,
)


@dataclass(frozen=True, slots=True)
class InboxQuery:
    to: str | None = None  # an envelope recipient (an address agentid accepted it for)
    header_to: str | None = None  # an address in the To or Cc the sender wrote
    from_: str | None = None
    subject: str | None = None
    since: datetime | None = None
    unread: bool | None = None
    before: str | None = None
    after: str | None = None
    limit: int = 50

    def matches(self, entry: dict[str, Any]) -> bool:
        """Whether a just-parsed message (an event's data) would be in this query's answer."""
        if self.after is not None and entry["id"] <= self.after:
            return False
        if self.before is not None and entry["id"] >= self.before:
            return False
        if self.to is not None and self.to not in entry["to"]:
            return False
        if self.header_to is not None and self.header_to not in entry["header_to"]:
            return False
        if self.from_ is not None:  # the From header or the envelope sender, as in the store
            needle = self.from_.lower()
            fields = (entry["from"], entry["from_address"], entry["mail_from"])
            if not any(needle in (value or "").lower() for value in fields):
                return False
        if (
            self.subject is not None
            and self.subject.lower() not in (entry["subject"] or "").lower()
        ):
            return False
        if self.since is not None and datetime.fromisoformat(entry["received_at"]) < self.since:
            return False
        return self.unread is not False


def header_to_matches(address: str) -> ColumnElement[bool]:
    """``address`` is one of the To/Cc addresses (kept one per line in ``header_to``)."""
    lines = literal("\n") + Message.header_to + literal("\n")
    return lines.contains(f"\n{address}\n", autoescape=True)


def _filtered(project_id: str, q: InboxQuery) -> Select[Message]:
    stmt = select(Message).where(Message.project_id == project_id, Message.status.in_(VISIBLE))
    if q.to is not None:
        recipients = select(MessageRecipient.message_id).where(MessageRecipient.address == q.to)
        stmt = stmt.where(Message.id.in_(recipients))
    if q.header_to is not None:
        stmt = stmt.where(header_to_matches(q.header_to))
    if q.from_ is not None:
        stmt = stmt.where(
            Message.from_header.icontains(q.from_, autoescape=True)
            | Message.mail_from.icontains(q.from_, autoescape=True)
        )
    if q.subject is not None:
        stmt = stmt.where(Message.subject.icontains(q.subject, autoescape=True))
    if q.since is not None:
        stmt = stmt.where(Message.received_at >= q.since)
    if q.unread is not None:
        stmt = stmt.where(Message.unread.is_(q.unread))
    if q.before is not None:
        stmt = stmt.where(Message.id < q.before)
    if q.after is not None:
        stmt = stmt.where(Message.id > q.after)
    return stmt


def _entry(m: Message) -> InboxEntry:
    return InboxEntry(
        id=m.id,
        received_at=m.received_at,
        from_=m.from_header or m.mail_from,
        to=list(m.rcpt_to),
        subject=m.subject,
        size=m.size,
        has_attachments=m.has_attachments,
        unread=m.unread,
        codes=m.codes or [],
        links=m.links or [],
        parse_error=m.status == "parse_error",
    )


async def page(rt: Runtime, project_id: str, q: InboxQuery) -> tuple[list[InboxEntry], str | None]:
    stmt = (
        _filtered(project_id, q)
        .options(load_only(*LIST_COLUMNS))
        .order_by(Message.id.desc())
        .limit(q.limit + 1)
    )
    async with rt.sessions() as session:
        rows = list((await session.scalars(stmt)).all())
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return [_entry(m) for m in rows], rows[-1].id if more and rows else None


async def wait_for_page(
    rt: Runtime, project_id: str, q: InboxQuery, wait: float
) -> tuple[list[InboxEntry], str | None]:
    """The page; if empty, hold until a matching message is stored or ``wait`` runs out."""
    deadline = time.monotonic() + wait
    async with rt.bus.listen(project_id) as listener:
        while True:
            entries, nxt = await page(rt, project_id, q)
            if entries or wait <= 0:
                return entries, nxt
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or rt.stopping.is_set():
                    return [], None
                event = await next_event(listener, rt.stopping, left)
                if event is None:
                    continue
                if event.kind == "stream.lagged":
                    break  # events were dropped: ask the store
                if event.kind == "message.received" and q.matches(event.data):
                    # Nothing matched before, so what matches now is exactly what the
                    # events carry: answer from them without another query.
                    more = _matching(listener, q)
                    if more is None:
                        break
                    return _from_events([event.data, *more], q.limit)


def _matching(listener: Listener, q: InboxQuery) -> list[dict[str, Any]] | None:
    """Queued events that match; None when events were dropped (only the store can tell)."""
    found = []
    while not listener.queue.empty():
        event = listener.queue.get_nowait()
        if event.kind == "stream.lagged":
            return None
        if event.kind == "message.received" and q.matches(event.data):
            found.append(event.data)
    return found


def _from_events(entries: list[dict[str, Any]], limit: int) -> tuple[list[InboxEntry], str | None]:
    entries.sort(key=lambda e: e["id"], reverse=True)
    page = [InboxEntry.model_validate(e) for e in entries[:limit]]
    return page, page[-1].id if len(entries) > limit else None


async def _message(rt: Runtime, project_id: str, mid: str) -> Message:
    async with rt.sessions() as session:
        m = await session.get(Message, mid)
    if m is None or m.project_id != project_id or m.status not in VISIBLE:
        raise NotFound(f"message {mid!r} not found")
    return m


async def message(rt: Runtime, project_id: str, mid: str) -> MessageOut:
    m = await _message(rt, project_id, mid)
    return MessageOut(
        id=m.id,
        received_at=m.received_at,
        direction=m.direction,
        from_=m.from_header or m.mail_from,
        to=list(m.rcpt_to),
        mail_from=m.mail_from,
        peer=m.peer,
        helo=m.helo,
        size=m.size,
        subject=m.subject,
        message_id=m.message_id_header,
        date=m.date_header,
        headers=m.headers or [],
        text=m.text,
        html=m.html,
        attachments=[Attachment.model_validate(a) for a in m.attachments or []],
        auth_results=AuthVerdict.model_validate(m.auth_results) if m.auth_results else None,
        codes=m.codes or [],
        links=m.links or [],
        unread=m.unread,
        status=m.status,
        parse_error=m.parse_error,
    )


async def raw(rt: Runtime, project_id: str, mid: str) -> bytes:
    await _message(rt, project_id, mid)
    async with rt.sessions() as session:
        data = await session.scalar(select(MessageRaw.data).where(MessageRaw.message_id == mid))
    if data is None:
        raise NotFound(f"message {mid!r} has no stored raw form")
    return data


async def attachment(rt: Runtime, project_id: str, mid: str, n: int) -> tuple[bytes, str, str]:
    """(content, content type, filename) of the n-th attachment, as stored at digest time."""
    m = await _message(rt, project_id, mid)
    if not 0 <= n < len(m.attachments or []):
        raise NotFound(f"message {mid!r} has no attachment {n}")
    async with rt.sessions() as session:
        row = (
            await session.execute(
                select(
                    MessageAttachment.data,
                    MessageAttachment.content_type,
                    MessageAttachment.filename,
                ).where(MessageAttachment.message_id == mid, MessageAttachment.idx == n)
            )
        ).first()
    if row is not None:
        return row.data, row.content_type, row.filename or f"attachment-{n}"
    # Digested before attachments had rows of their own (schema 0001): read it once more.
    parts = (await asyncio.to_thread(read_mime, await raw(rt, project_id, mid))).attachments
    if n >= len(parts):
        raise NotFound(f"message {mid!r} has no attachment {n}")
    return parts[n].data, parts[n].content_type, parts[n].filename or f"attachment-{n}"


async def mark(rt: Runtime, project_id: str, mid: str, unread: bool) -> MessageOut:
    await _message(rt, project_id, mid)
    async with rt.sessions.begin() as session:
        await session.execute(update(Message).where(Message.id == mid).values(unread=unread))
    return await message(rt, project_id, mid)


async def remove(rt: Runtime, project_id: str, mid: str) -> None:
    await _message(rt, project_id, mid)
    async with rt.sessions.begin() as session:
        await session.execute(delete(CodeRow).where(CodeRow.message_id == mid))
        await session.execute(delete(Message).where(Message.id == mid))
    rt.scrub.set()
