"""Reading the inbox: filtered, newest-first pages, long-polls that wake on arrival."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from agentid.email.repository import InboxQuery, MessageRepository
from agentid.email.schemas import Attachment, AuthVerdict, InboxEntry, MessageOut
from agentid.errors import NotFound
from agentid.events import Listener, next_event
from agentid.mime import read as read_mime
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Message


def matches(q: InboxQuery, entry: dict[str, Any]) -> bool:
    """Whether a just-parsed message (an event's data) would be in ``q``'s answer."""
    if q.after is not None and entry["id"] <= q.after:
        return False
    if q.before is not None and entry["id"] >= q.before:
        return False
    if q.to is not None and q.to not in entry["to"]:
        return False
    if q.header_to is not None and q.header_to not in entry["header_to"]:
        return False
    if q.from_ is not None:  # the From header or the envelope sender, as in the store
        needle = q.from_.lower()
        fields = (entry["from"], entry["from_address"], entry["mail_from"])
        if not any(needle in (value or "").lower() for value in fields):
            return False
    if q.subject is not None and q.subject.lower() not in (entry["subject"] or "").lower():
        return False
    if q.since is not None and datetime.fromisoformat(entry["received_at"]) < q.since:
        return False
    return q.unread is not False


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


async def page(
    session: AsyncSession, project_id: str, q: InboxQuery
) -> tuple[list[InboxEntry], str | None]:
    found = await MessageRepository(session).inbox(project_id, q)
    return [_entry(m) for m in found.items], found.next(lambda m: m.id)


async def wait_for_page(
    rt: Runtime, session: AsyncSession, project_id: str, q: InboxQuery, wait: float
) -> tuple[list[InboxEntry], str | None]:
    """The page; if empty, hold until a matching message is stored or ``wait`` runs out."""
    deadline = time.monotonic() + wait
    async with rt.bus.listen(project_id) as listener:
        while True:
            entries, nxt = await page(session, project_id, q)
            if entries or wait <= 0:
                return entries, nxt
            await session.commit()  # no connection held while waiting
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or rt.stopping.is_set():
                    return [], None
                event = await next_event(listener, rt.stopping, left)
                if event is None:
                    continue
                if event.kind == "stream.lagged":
                    break  # events were dropped: ask the store
                if event.kind == "message.received" and matches(q, event.data):
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
        if event.kind == "message.received" and matches(q, event.data):
            found.append(event.data)
    return found


def _from_events(entries: list[dict[str, Any]], limit: int) -> tuple[list[InboxEntry], str | None]:
    entries.sort(key=lambda e: e["id"], reverse=True)
    page = [InboxEntry.model_validate(e) for e in entries[:limit]]
    return page, page[-1].id if len(entries) > limit else None


async def _message(session: AsyncSession, project_id: str, mid: str) -> Message:
    m = await MessageRepository(session).visible(project_id, mid)
    if m is None:
        raise NotFound(f"message {mid!r} not found")
    return m


def _out(m: Message) -> MessageOut:
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


async def message(session: AsyncSession, project_id: str, mid: str) -> MessageOut:
    return _out(await _message(session, project_id, mid))


async def raw(session: AsyncSession, project_id: str, mid: str) -> bytes:
    await _message(session, project_id, mid)
    data = await MessageRepository(session).raw(mid)
    if data is None:
        raise NotFound(f"message {mid!r} has no stored raw form")
    return data


async def attachment(
    session: AsyncSession, project_id: str, mid: str, n: int
) -> tuple[bytes, str, str]:
    """(content, content type, filename) of the n-th attachment, as stored at digest time."""
    m = await _message(session, project_id, mid)
    if not 0 <= n < len(m.attachments or []):
        raise NotFound(f"message {mid!r} has no attachment {n}")
    row = await MessageRepository(session).attachment(mid, n)
    if row is not None:
        return row.data, row.content_type, row.filename or f"attachment-{n}"
    # Digested before attachments had rows of their own (schema 0001): read it once more.
    data = await raw(session, project_id, mid)
    await session.commit()  # no transaction held while the message is parsed
    parts = (await asyncio.to_thread(read_mime, data)).attachments
    if n >= len(parts):
        raise NotFound(f"message {mid!r} has no attachment {n}")
    return parts[n].data, parts[n].content_type, parts[n].filename or f"attachment-{n}"


async def mark(session: AsyncSession, project_id: str, mid: str, unread: bool) -> MessageOut:
    m = await _message(session, project_id, mid)
    m.unread = unread
    await session.commit()
    return _out(m)


async def remove(rt: Runtime, session: AsyncSession, project_id: str, mid: str) -> None:
    await _message(session, project_id, mid)
    await MessageRepository(session).delete(mid)
    await session.commit()
    rt.scrub.set()
