"""The codes query: newest first, filtered, optionally consumed atomically, long-polled."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Select, and_, case, or_, select, update

from agentid.codes.schemas import CodeOut
from agentid.email.inbox import header_to_matches
from agentid.errors import ValidationFailed
from agentid.events import next_event
from agentid.runtime import Runtime
from agentid.store.tables import CodeRow, Message, MessageRecipient


@dataclass(frozen=True, slots=True)
class CodeQuery:
    channel: str | None = None
    kind: str | None = None
    since: datetime | None = None
    after: str | None = None
    before: tuple[datetime, str, int] | None = None  # the position of a code (see cursor)
    from_: str | None = None
    to: str | None = None  # an envelope recipient of the message
    header_to: str | None = None  # an address in the message's To/Cc
    unused: bool = False
    consume: bool = False
    limit: int = 50


def _filtered(project_id: str, q: CodeQuery) -> Select[CodeRow]:
    stmt = select(CodeRow).where(CodeRow.project_id == project_id)
    if q.channel is not None:
        stmt = stmt.where(CodeRow.channel == q.channel)
    if q.kind is not None:
        stmt = stmt.where(CodeRow.kind == q.kind)
    if q.since is not None:
        stmt = stmt.where(CodeRow.received_at >= q.since)
    if q.after is not None:
        stmt = stmt.where(CodeRow.id > q.after)
    if q.before is not None:  # later in the list's order than that code
        at, message_id, rank = q.before
        stmt = stmt.where(
            or_(
                CodeRow.received_at < at,
                and_(CodeRow.received_at == at, CodeRow.message_id < message_id),
                and_(
                    CodeRow.received_at == at,
                    CodeRow.message_id == message_id,
                    _code_first() > rank,
                ),
            )
        )
    if q.from_ is not None:
        stmt = stmt.where(CodeRow.sender.icontains(q.from_, autoescape=True))
    if q.to is not None:
        recipients = select(MessageRecipient.message_id).where(MessageRecipient.address == q.to)
        stmt = stmt.where(CodeRow.message_id.in_(recipients))
    if q.header_to is not None:
        named = select(Message.id).where(header_to_matches(q.header_to))
        stmt = stmt.where(CodeRow.message_id.in_(named))
    if q.unused or q.consume:
        stmt = stmt.where(CodeRow.used.is_(False))
    # Newest message first; within one message its code before its link.
    return stmt.order_by(CodeRow.received_at.desc(), CodeRow.message_id.desc(), _code_first())


def _code_first() -> ColumnElement[int]:
    return case((CodeRow.kind == "code", 0), else_=1)


async def cursor(rt: Runtime, project_id: str, code_id: str) -> tuple[datetime, str, int]:
    """Where the code ``code_id`` of this project stands in the list (``before=``)."""
    async with rt.sessions() as session:
        row = await session.get(CodeRow, code_id)
    if row is None or row.project_id != project_id:
        raise ValidationFailed("before must be the id of a code of this project")
    return row.received_at, row.message_id, 0 if row.kind == "code" else 1


def _out(row: CodeRow) -> CodeOut:
    return CodeOut(
        id=row.id,
        value=row.value,
        kind=row.kind,
        channel=row.channel,
        message_id=row.message_id,
        from_=row.sender,
        to=list(row.recipients),
        received_at=row.received_at,
        confidence=row.confidence,
        used=row.used,
    )


async def _rows(rt: Runtime, project_id: str, q: CodeQuery, limit: int) -> list[CodeRow]:
    async with rt.sessions() as session:
        return list((await session.scalars(_filtered(project_id, q).limit(limit))).all())


async def find(rt: Runtime, project_id: str, q: CodeQuery) -> tuple[list[CodeOut], str | None]:
    """The codes, and the ``before`` of the next page when more remain (never when
    consuming: the next call takes the next unused ones)."""
    if not q.consume:
        rows = await _rows(rt, project_id, q, q.limit + 1)
        more = len(rows) > q.limit
        page = [_out(r) for r in rows[: q.limit]]
        return page, page[-1].id if more and page else None
    taken: list[CodeOut] = []
    # A code another request claimed first is skipped and the next unused one is tried, so
    # a consumer only comes back empty when no unused code is left. Every pass either claims
    # rows or finds them claimed by others, so the loop ends.
    while len(taken) < q.limit:
        rows = await _rows(rt, project_id, q, q.limit - len(taken))
        if not rows:
            break
        for row in rows:
            # Only the request whose UPDATE flips the flag gets the code: never handed out twice.
            async with rt.sessions.begin() as session:
                result = await session.execute(
                    update(CodeRow)
                    .where(CodeRow.id == row.id, CodeRow.used.is_(False))
                    .values(used=True, used_at=datetime.now(UTC))
                )
            if getattr(result, "rowcount", 0) == 1:
                row.used = True
                taken.append(_out(row))
    return taken, None


async def wait_for_codes(
    rt: Runtime, project_id: str, q: CodeQuery, wait: float
) -> tuple[list[CodeOut], str | None]:
    deadline = time.monotonic() + wait
    async with rt.bus.listen(project_id) as listener:
        while True:
            found, nxt = await find(rt, project_id, q)
            if found or wait <= 0:
                return found, nxt
            while True:
                left = deadline - time.monotonic()
                if left <= 0 or rt.stopping.is_set():
                    return [], None
                event = await next_event(listener, rt.stopping, left)
                if event is not None and event.kind in ("code.found", "stream.lagged"):
                    break
