"""Server-sent events of one project, or of every project (the operator's ``GET /events``),
from the events table: each event's ``id:`` is its row's seq, so a client that reconnects
with ``Last-Event-ID`` gets exactly what it missed (while the project's retention still
holds it). The stream waits on the bus for a signal and reads the rows that came after the
last one sent; keep-alive comments come from ``sse-starlette``. On the operator's stream
each event's data is the project stream's, with the ``project_id`` it belongs to added."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable

from pydantic import BaseModel
from sse_starlette import EventSourceResponse
from sse_starlette import ServerSentEvent

from agentid.codes.schemas import CodeOut
from agentid.codes.schemas import EscalationOut
from agentid.codes.schemas import Notice
from agentid.email.outbound.schemas import OutboundOut
from agentid.email.schemas import InboxEntry
from agentid.email.schemas import MessageAuthenticated
from agentid.errors import ValidationFailed
from agentid.events import EVERY_PROJECT
from agentid.events import Kind
from agentid.phone.schemas import SmsOut
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.store.event_log import Logged

KEEPALIVE_SECONDS = 15.0
PAGE = 200  # rows read at a time
# The typed events a stream (and, later, a webhook) carries: kind -> its payload's shape.
EVENT_TYPES: dict[Kind, type[BaseModel]] = {
    Kind.MESSAGE_RECEIVED: InboxEntry,
    Kind.CODE_FOUND: CodeOut,
    Kind.MESSAGE_AUTHENTICATED: MessageAuthenticated,
    Kind.MESSAGE_SENT: OutboundOut,
    Kind.MESSAGE_FAILED: OutboundOut,
    Kind.SMS_RECEIVED: SmsOut,
    Kind.SMS_FILTERED: Notice,
    Kind.ESCALATION_OPENED: EscalationOut,
    Kind.ESCALATION_ANSWERED: EscalationOut,
}
STREAMED = tuple(EVENT_TYPES)
SEQ_MAX = 2**63 - 1  # the largest seq the events table holds


def resume_point(last_event_id: str | None) -> int | None:
    """The seq a reconnecting client last saw (None: a new stream starts from now)."""
    if last_event_id is None or not last_event_id.strip():
        return None
    value = last_event_id.strip()
    # an event's seq is a BIGINT: 19 digits can still be past it (9999999999999999999)
    if not value.isascii() or not value.isdigit() or len(value) > 19 or int(value) > SEQ_MAX:
        raise ValidationFailed("Last-Event-ID must be the id of an event this stream sent")
    return int(value)


Allowed = Callable[[], Awaitable[bool]]


async def event_stream(
    rt: Runtime, project_id: str | None, after: int | None, allowed: Allowed | None = None
) -> EventSourceResponse:
    """The stream of ``project_id``'s events, or every project's (None) after ``after``.
    With ``allowed``, it is asked again before each batch of events is sent, and the stream
    ends when it says no (the web page's session ended meanwhile)."""
    return EventSourceResponse(
        _events(rt, project_id, after, allowed),
        ping=KEEPALIVE_SECONDS,
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _events(
    rt: Runtime, project_id: str | None, after: int | None, allowed: Allowed | None
) -> AsyncIterator[ServerSentEvent]:
    async with rt.bus.listen(project_id or EVERY_PROJECT, STREAMED) as listener:
        if after is None:
            async with rt.sessions() as session:
                after = await _last(session, project_id)
        yield ServerSentEvent(comment="connected")
        while not rt.stopping.is_set():
            async with rt.sessions() as session:
                rows = await _after(session, project_id, after)
            if rows and allowed is not None and not await allowed():
                return
            for row in rows:
                after = row.seq
                data = row.payload if project_id else {**row.payload, "project_id": row.project_id}
                yield ServerSentEvent(data=json.dumps(data), event=row.kind, id=str(row.seq))
            if len(rows) < PAGE and not await listener.wait(float("inf")):
                return


async def _last(session: AsyncSession, project_id: str | None) -> int:
    if project_id is None:
        return await event_log.last_seq_all(session)
    return await event_log.last_seq(session, project_id)


async def _after(session: AsyncSession, project_id: str | None, seq: int) -> list[Logged]:
    if project_id is None:
        return await event_log.after_all(session, seq, PAGE)
    return await event_log.after(session, project_id, seq, PAGE)
