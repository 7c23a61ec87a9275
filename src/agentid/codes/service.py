"""The codes query: newest first, filtered, optionally consumed atomically, long-polled."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from functools import partial

from agentid.codes.repository import CodeQuery
from agentid.codes.repository import CodeRepository
from agentid.codes.repository import Position
from agentid.codes.repository import position
from agentid.codes.schemas import CodeOut
from agentid.codes.schemas import CodeSource
from agentid.codes.schemas import Notice
from agentid.codes.schemas import Skipped
from agentid.codes.schemas import SkipReason
from agentid.codes.sites import belongs
from agentid.errors import ValidationFailed
from agentid.events import Kind
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.store.tables import CodeRow
from agentid.times import utcnow
from agentid.waits import wait_for_page
from agentid.waits import wait_until

SITE_WINDOW = timedelta(minutes=5)  # a site-bound query's default ``since``: before the call
SKIP_LOOKBACK = timedelta(hours=1)  # how far before ``since`` an empty answer reports
MAX_SKIPPED = 20


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
        items = await _on_site(codes, q, found.items)
        return [_out(r) for r in items], found.next(lambda r: r.id)
    taken: list[CodeOut] = []
    # A code another request claimed first is skipped and the next unused one is tried, so
    # a consumer only comes back empty when no unused code is left. Every pass either claims
    # rows, finds them claimed by others or rules them out for good, so the loop ends.
    while len(taken) < q.limit:
        rows = await codes.first(project_id, q, q.limit - len(taken))
        if not rows:
            break
        kept = await _on_site(codes, q, rows)
        q = replace(q, exclude=q.exclude | {r.id for r in rows if r not in kept})
        for row in kept:
            claimed = await codes.claim(row)
            await session.commit()  # each claim on its own: the row is not held locked
            if claimed:
                taken.append(_out(row).model_copy(update={"used": True}))
    return taken, None


async def unused_counts(session: AsyncSession, project_ids: list[str]) -> dict[str, int]:
    """How many codes and links each project has not used yet (0 when none)."""
    found = await CodeRepository(session).unused_counts(project_ids)
    return {project_id: found.get(project_id, 0) for project_id in project_ids}


async def notices(session: AsyncSession, project_id: str, since: datetime) -> list[Notice]:
    """The SMS the provider reported filtered (``sms.filtered``) since ``since``."""
    found = await event_log.of_kind(session, project_id, Kind.SMS_FILTERED.value, since, 20)
    return [Notice.model_validate(event.payload) for event in found]


async def _on_site(codes: CodeRepository, q: CodeQuery, rows: list[CodeRow]) -> list[CodeRow]:
    """The rows whose message is from one of the query's sites (the statement only narrowed
    them by address suffix; an escalation's answer it matched by its site exactly); all of
    them when the query names no site."""
    if not q.by_site:
        return rows
    verdicts = await codes.auth_results([r.source_id for r in rows])
    return [
        r
        for r in rows
        if r.source_type == "escalation" or belongs(r.sender, verdicts.get(r.source_id), q.sites)
    ]


def default_since(since: datetime | None, sites: tuple[str, ...]) -> datetime | None:
    """A site-bound query without ``since`` looks five minutes back: the code often lands
    before the agent asks, and an older one is from another sign-up."""
    return utcnow() - SITE_WINDOW if since is None and sites else since


def _reason(q: CodeQuery, row: CodeRow, on_site: bool, now: datetime) -> SkipReason | None:
    """Why ``row`` is not in the answer to ``q`` (the first reason that holds), or None."""
    if q.by_site and not on_site:
        return "other site"
    if q.since is not None and row.received_at < q.since:
        return "before since"
    if (q.unused or q.consume) and row.used:
        return "used"
    if q.unexpired and row.expires_at is not None and row.expires_at <= now:
        return "expired"
    if q.authenticated and not row.authenticated:  # failed, or no verdict (yet)
        return "not authenticated"
    return None


async def skipped(session: AsyncSession, project_id: str, q: CodeQuery) -> list[Skipped]:
    """What arrived from an hour before ``since`` (or before now) and why each message's
    codes were not returned: one entry per message, newest first."""
    codes = CodeRepository(session)
    now = utcnow()
    start = (q.since or now) - SKIP_LOOKBACK
    rows = await codes.arrived(project_id, q, start, MAX_SKIPPED * 4)
    on_site = set(r.id for r in await _on_site(codes, q, rows))
    out: dict[str, Skipped] = {}
    for row in rows:
        reason = _reason(q, row, row.id in on_site, now)
        if reason is None or row.source_id in out:
            continue
        out[row.source_id] = Skipped.model_validate(
            {"message_id": row.source_id, "from": row.sender, "received_at": row.received_at}
            | {"reason": reason}
        )
    await session.commit()
    return list(out.values())[:MAX_SKIPPED]


async def wait_for_codes(
    rt: Runtime, session: AsyncSession, project_id: str, q: CodeQuery, wait: float
) -> tuple[list[CodeOut], str | None, list[Notice], list[Skipped]]:
    """The codes; if none, hold until a matching one is stored or ``wait`` runs out, then
    say what arrived in the window and why it was left out. A query that may be waiting
    for an SMS (no address filter, channel sms or any) also ends with the notices of SMS
    filtered since ``since`` (else since it began): a code the carrier dropped is said at
    once instead of waited for."""
    said: list[Notice] = []
    if q.channel in ("email", "escalation") or q.to is not None or q.header_to is not None:
        looked = partial(find, session, project_id, q)
        # an email code is authenticated later; an escalation's answer is, as it is found
        verdict = q.authenticated and q.channel != "escalation"
        kind = Kind.MESSAGE_AUTHENTICATED if verdict else Kind.CODE_FOUND
        found, nxt = await wait_for_page(rt, session, project_id, looked, kind, q.to, wait)
    else:
        since = q.since or utcnow()

        async def look() -> tuple[list[CodeOut], str | None, list[Notice]]:
            codes, nxt = await find(session, project_id, q)
            notes = await notices(session, project_id, since)
            await session.commit()
            return codes, nxt, notes

        found, nxt, said = await wait_until(
            rt,
            project_id,
            look,
            lambda answer: bool(answer[0] or answer[2]),
            kinds=(Kind.CODE_FOUND, Kind.SMS_FILTERED, Kind.MESSAGE_AUTHENTICATED),
            wait=wait,
        )
    if found or q.before is not None or q.after is not None:
        return found, nxt, said, []
    return found, nxt, said, await skipped(session, project_id, q)
