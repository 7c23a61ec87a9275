"""Statements on hosted domains, aliases and stored messages (the API's side; receiving
mail writes through ``email/inbound`` and ``store/`` Core statements of its own)."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Row
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import union_all
from sqlalchemy import update
from sqlalchemy.orm import load_only

from agentid.store import event_log
from agentid.store.repository import Page
from agentid.store.repository import Repository
from agentid.store.repository import Window
from agentid.store.tables import Alias
from agentid.store.tables import CodeRow
from agentid.store.tables import Domain
from agentid.store.tables import Message
from agentid.store.tables import MessageAttachment
from agentid.store.tables import MessageRaw
from agentid.store.tables import MessageRecipient
from agentid.store.tables import Outbound
from agentid.store.tables import Project

VISIBLE = ("parsed", "parse_error")  # a message not yet digested is not listed nor read
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
    unread: bool | None = None
    window: Window = field(default_factory=Window)


def header_to_matches(address: str) -> ColumnElement[bool]:
    """``address`` is one of the To/Cc addresses (kept one per line in ``header_to``)."""
    lines = literal("\n") + Message.header_to + literal("\n")
    return lines.contains(f"\n{address}\n", autoescape=True)


def received_by(address: str) -> Select[str]:
    """The ids of the messages ``address`` was an envelope recipient of."""
    return select(MessageRecipient.message_id).where(MessageRecipient.address == address)


def _inbox(project_id: str, q: InboxQuery) -> Select[Message]:
    stmt = select(Message).where(Message.project_id == project_id, Message.status.in_(VISIBLE))
    if q.to is not None:
        stmt = stmt.where(Message.id.in_(received_by(q.to)))
    if q.header_to is not None:
        stmt = stmt.where(header_to_matches(q.header_to))
    if q.from_ is not None:
        stmt = stmt.where(
            Message.from_header.icontains(q.from_, autoescape=True)
            | Message.mail_from.icontains(q.from_, autoescape=True)
        )
    if q.subject is not None:
        stmt = stmt.where(Message.subject.icontains(q.subject, autoescape=True))
    if q.unread is not None:
        stmt = stmt.where(Message.unread.is_(q.unread))
    return q.window.narrow(stmt, Message.received_at, Message.id)


class AliasRepository(Repository):
    async def domain(self, name: str) -> Domain | None:
        return await self.session.get(Domain, name)

    async def domains(self) -> list[Domain]:
        """Every hosted domain (with its sealed DKIM key)."""
        return await self.get_all(select(Domain).order_by(Domain.name))

    async def receiving(self, domain: str) -> Project | None:
        """The project that receives mail for ``domain``, if one does."""
        return await self.get_one_or_none(
            select(Project).where(Project.domain == domain, Project.email_active)
        )

    async def alias(self, address: str) -> Alias | None:
        return await self.session.get(Alias, address)

    async def page(self, project_id: str, limit: int, after: Alias | None = None) -> Page[Alias]:
        """Oldest first (by creation, then address); ``after`` is the alias the previous
        page ended with."""
        stmt = select(Alias).where(Alias.project_id == project_id)
        if after is not None:
            stmt = stmt.where(
                or_(
                    Alias.created_at > after.created_at,
                    and_(Alias.created_at == after.created_at, Alias.address > after.address),
                )
            )
        return await self.paginate(stmt.order_by(Alias.created_at, Alias.address), limit)


class MessageRepository(Repository):
    async def inbox(self, project_id: str, q: InboxQuery) -> Page[Message]:
        """Newest first, the listed columns only."""
        stmt = _inbox(project_id, q).options(load_only(*LIST_COLUMNS)).order_by(Message.id.desc())
        return await self.paginate(stmt, q.window.limit)

    async def counts(self, project_ids: list[str]) -> dict[str, int]:
        """How many messages each project lists in its inbox."""
        return await self.count_per_project(
            Message.project_id, project_ids, Message.status.in_(VISIBLE)
        )

    async def visible(self, project_id: str, mid: str) -> Message | None:
        """The message, when it is this project's and digested."""
        m = await self.session.get(Message, mid)
        if m is None or m.project_id != project_id or m.status not in VISIBLE:
            return None
        return m

    async def raw(self, mid: str) -> bytes | None:
        return await self.session.scalar(
            select(MessageRaw.data).where(MessageRaw.message_id == mid)
        )

    async def attachment(self, mid: str, n: int) -> Row[bytes, str, str | None] | None:
        """(data, content type, filename) of attachment ``n``, when it has a row of its own."""
        stmt = select(
            MessageAttachment.data, MessageAttachment.content_type, MessageAttachment.filename
        ).where(MessageAttachment.message_id == mid, MessageAttachment.idx == n)
        return (await self.session.execute(stmt)).first()

    async def set_unread(self, mid: str, unread: bool) -> bool:
        """Mark the message read or unread; False when it is gone (deleted meanwhile: the
        change of a loaded row would fail to find it)."""
        result = await self.session.execute(
            update(Message).where(Message.id == mid).values(unread=unread)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete(self, mid: str) -> None:
        """The message, the codes found in it and its events (its raw form and parts go with it)."""
        await self.session.execute(delete(CodeRow).where(CodeRow.source_id == mid))
        await event_log.forget(self.session, [mid])
        await self.session.execute(delete(Message).where(Message.id == mid))

    async def purge(self, project_id: str, before: datetime) -> int:
        """Delete the project's messages received before ``before``, their codes and its
        events written before then; how many messages."""
        await self.session.execute(
            delete(CodeRow).where(CodeRow.project_id == project_id, CodeRow.received_at < before)
        )
        result = await self.session.execute(
            delete(Message).where(Message.project_id == project_id, Message.received_at < before)
        )
        await event_log.expire(self.session, project_id, before)
        return int(getattr(result, "rowcount", 0) or 0)


class ThreadRepository(Repository):
    """Conversations both ways: stored messages and sent ones sharing a ``thread_id``."""

    async def messages(self, project_id: str, thread_id: str) -> list[tuple[Any, ...]]:
        """(id, direction, at, from, to, subject) of the thread's messages, oldest first."""
        received = select(
            Message.id, literal("inbound"), Message.received_at,
            func.coalesce(Message.from_address, Message.mail_from), Message.rcpt_to,
            Message.subject,
        ).where(
            Message.project_id == project_id,
            Message.status.in_(VISIBLE),
            or_(Message.thread_id == thread_id, Message.id == thread_id),
        )  # fmt: skip
        sent = select(
            Outbound.id, literal("outbound"), Outbound.created_at, Outbound.mail_from,
            Outbound.to, Outbound.subject,
        ).where(Outbound.project_id == project_id, Outbound.thread_id == thread_id)  # fmt: skip
        rows = [tuple(r) for q in (received, sent) for r in await self.session.execute(q)]
        return sorted(rows, key=lambda r: r[0])

    async def page(
        self, project_id: str, before: str | None, limit: int
    ) -> tuple[list[tuple[str, int, datetime]], bool]:
        """(thread id, messages, last activity) of the project's threads, newest thread
        first (by its first message), and whether more remain."""
        received = select(
            func.coalesce(Message.thread_id, Message.id).label("thread"),
            Message.received_at.label("at"),
        ).where(Message.project_id == project_id, Message.status.in_(VISIBLE))
        sent = select(Outbound.thread_id.label("thread"), Outbound.created_at.label("at")).where(
            Outbound.project_id == project_id
        )
        both = union_all(received, sent).subquery()
        query = select(both.c.thread, func.count(), func.max(both.c.at)).group_by(both.c.thread)
        if before is not None:
            query = query.where(both.c.thread < before)
        found = await self.session.execute(query.order_by(both.c.thread.desc()).limit(limit + 1))
        rows = [(str(t), int(n), at) for t, n, at in found]
        return rows[:limit], len(rows) > limit
