"""The codes query: newest first, filtered, optionally consumed atomically, long-polled."""

from __future__ import annotations

from datetime import datetime
from functools import partial

from agentid.codes.repository import CodeQuery, CodeRepository, Position, position
from agentid.codes.schemas import CodeOut, CodeSource, Notice
from agentid.errors import ValidationFailed
from agentid.events import Kind
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.store.tables import CodeRow
from agentid.times import utcnow
from agentid.waits import wait_for_page, wait_until


async def cursor(session: AsyncSession, project_id: str, code_id: str) -> Position:
    """Where the code ``code_id`` of this project stands in the list (``before=``)."""
    row = await CodeRepository(session).get(code_id)
    if row is None or row.project_id != project_id:
        raise ValidationFailed("before must be the id of a code of this project")
    return position(row)


# what a code shows under the name it is stored by
_AS_STORED = (
    "id", "value", "kind", "channel", "group_id", "received_at", "confidence", "used",
    "authenticated", "expires_at",
)  # fmt: skip


def _out(row: CodeRow) -> CodeOut:
    return CodeOut.model_validate(
        {name: getattr(row, name) for name in _AS_STORED}
        | {
            "source": CodeSource(type=row.source_type, id=row.source_id),
            "message_id": row.source_id,
            "from": row.sender,
            "to": list(row.recipients),
            "status": "ambiguous" if row.status == "ambiguous" else "found",
        }
    )


async def find(
    session: AsyncSession, project_id: str, q: CodeQuery
) -> tuple[list[CodeOut], str | None]:
    """The codes, and the ``before`` of the next page when more remain (never when
    consuming: the next call takes the next unused ones)."""
    codes = CodeRepository(session)
    if not q.consume:
        found = await codes.page(project_id, q)
        return [_out(r) for r in found.items], found.next(lambda r: r.id)
    taken: list[CodeOut] = []
    # A code another request claimed first is skipped and the next unused one is tried, so
    # a consumer only comes back empty when no unused code is left. Every pass either claims
    # rows or finds them claimed by others, so the loop ends.
    while len(taken) < q.limit:
        rows = await codes.first(project_id, q, q.limit - len(taken))
        if not rows:
            break
        for row in rows:
            claimed = await codes.claim(row)
            await session.commit()  # each claim on its own: the row is not held locked
            if claimed:
                taken.append(_out(row).model_copy(update={"used": True}))
    return taken, None


async def notices(session: AsyncSession, project_id: str, since: datetime) -> list[Notice]:
    """The SMS the provider reported filtered (``sms.filtered``) since ``since``."""
    found = await event_log.of_kind(session, project_id, Kind.SMS_FILTERED.value, since, 20)
    return [Notice.model_validate(event.payload) for event in found]


async def wait_for_codes(
    rt: Runtime, session: AsyncSession, project_id: str, q: CodeQuery, wait: float
) -> tuple[list[CodeOut], str | None, list[Notice]]:
    """The codes; if none, hold until a matching one is stored or ``wait`` runs out. A
    query that may be waiting for an SMS (no address filter, channel sms or any) also
    ends with the notices of SMS filtered since ``since`` (else since it began): a code
    the carrier dropped is said at once instead of waited for."""
    if q.channel == "email" or q.to is not None or q.header_to is not None:
        looked = partial(find, session, project_id, q)
        codes, nxt = await wait_for_page(
            rt, session, project_id, looked, Kind.CODE_FOUND, q.to, wait
        )
        return codes, nxt, []
    since = q.since or utcnow()

    async def look() -> tuple[list[CodeOut], str | None, list[Notice]]:
        codes, nxt = await find(session, project_id, q)
        said = await notices(session, project_id, since)
        await session.commit()
        return codes, nxt, said

    return await wait_until(
        rt,
        project_id,
        look,
        lambda answer: bool(answer[0] or answer[2]),
        kinds=(Kind.CODE_FOUND, Kind.SMS_FILTERED),
        wait=wait,
    )
