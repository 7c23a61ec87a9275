"""Reading the inbox: filtered, newest-first pages, long-polls that wake on arrival."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from agentid import waits
from agentid.email.repository import InboxQuery
from agentid.email.repository import MessageRepository
from agentid.email.schemas import InboxEntry
from agentid.email.schemas import MessageOut
from agentid.errors import NotFound
from agentid.events import Kind
from agentid.mime import read as read_mime
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Message


def _shown(m: Message) -> dict[str, Any]:
    """What both the inbox and the message itself show of a stored message."""
    return {
        "id": m.id,
        "received_at": m.received_at,
        "from": m.from_header or m.mail_from,
        "to": list(m.rcpt_to),
        "subject": m.subject,
        "size": m.size,
        "unread": m.unread,
        "codes": m.codes or [],
        "links": m.links or [],
    }


def _entry(m: Message) -> InboxEntry:
    return InboxEntry.model_validate(
        _shown(m) | {"has_attachments": m.has_attachments, "parse_error": m.status == "parse_error"}
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
    looked = partial(page, session, project_id, q)
    return await waits.wait_for_page(
        rt, session, project_id, looked, Kind.MESSAGE_RECEIVED, q.to, wait
    )


async def counts(session: AsyncSession, project_ids: list[str]) -> dict[str, int]:
    """How many messages each project's inbox lists (0 when none)."""
    found = await MessageRepository(session).counts(project_ids)
    return {project_id: found.get(project_id, 0) for project_id in project_ids}


async def _message(session: AsyncSession, project_id: str, mid: str) -> Message:
    m = await MessageRepository(session).visible(project_id, mid)
    if m is None:
        raise NotFound(f"message {mid!r} not found")
    return m


def _with_verdict(m: Message) -> list[list[str]]:
    """The message's headers, under agentid's own Authentication-Results once its verdict
    is in (the raw message stays as received)."""
    headers = list(m.headers or [])
    rendered = (m.auth_results or {}).get("header")
    return [["Authentication-Results", rendered], *headers] if rendered else headers


def _out(m: Message) -> MessageOut:
    return MessageOut.model_validate(
        _shown(m)
        | {
            "direction": m.direction,
            "mail_from": m.mail_from,
            "peer": m.peer,
            "helo": m.helo,
            "message_id": m.message_id_header,
            "date": m.date_header,
            "headers": _with_verdict(m),
            "text": m.text,
            "html": m.html,
            "attachments": m.attachments or [],
            "auth_results": m.auth_results or None,
            "status": m.status,
            "parse_error": m.parse_error,
            "thread_id": m.thread_id or m.id,
        }
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
    if not await MessageRepository(session).set_unread(mid, unread):
        raise NotFound(f"message {mid!r} not found")  # deleted since it was read
    await session.commit()
    return _out(m)


async def remove(rt: Runtime, session: AsyncSession, project_id: str, mid: str) -> None:
    await _message(session, project_id, mid)
    await MessageRepository(session).delete(mid)
    await session.commit()
    rt.scrub.set()
