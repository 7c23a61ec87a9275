"""Statements on the codes and links found in what arrived, the project's authenticator
(TOTP) secrets, and the escalations its agents put to the operator.

The codes list's order: newest message first; within one message its code before its link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from agentid.email.repository import header_to_matches
from agentid.email.repository import received_by
from agentid.names import u_label
from agentid.store import event_log
from agentid.store.repository import Page
from agentid.store.repository import Repository
from agentid.store.tables import CodeRow
from agentid.store.tables import Escalation
from agentid.store.tables import Message
from agentid.store.tables import TotpSecret
from agentid.store.tables import table_of
from agentid.times import utcnow

Position = tuple[datetime, str, int]  # where a code stands in the list (see ``position``)


@dataclass(frozen=True, slots=True)
class CodeQuery:
    channel: str | None = None
    kind: str | None = None
    since: datetime | None = None
    after: str | None = None
    before: Position | None = None  # only codes later in the list than this position
    from_: str | None = None
    to: str | None = None  # an envelope recipient of the message
    header_to: str | None = None  # an address in the message's To/Cc
    unused: bool = False
    unexpired: bool = False  # leave out codes whose message said they have expired by now
    authenticated: bool | None = None  # True: only codes whose sender's domain proved it
    # registrable domains (agentid.codes.sites): only email whose From (or a verified DKIM
    # signature) is on one of them; the statement narrows by address suffix, and the service
    # checks each row exactly. With channel=sms it does not apply (an SMS has no domain).
    sites: tuple[str, ...] = ()
    exclude: frozenset[str] = frozenset()  # code ids the service already ruled out
    consume: bool = False
    limit: int = 50

    @property
    def by_site(self) -> bool:
        return bool(self.sites) and self.channel != "sms"


def _code_first() -> ColumnElement[int]:
    return case((CodeRow.kind == "code", 0), else_=1)


def position(row: CodeRow) -> Position:
    return row.received_at, row.source_id, 0 if row.kind == "code" else 1


def _from_sites(project_id: str, sites: tuple[str, ...]) -> ColumnElement[bool]:
    """Email from an address on one of ``sites`` or a subdomain of one (by suffix, in
    either the A-label or the Unicode form), or a message one of whose verified DKIM
    signatures speaks for one of them (``messages.signed_by``); or the operator's answer
    to an escalation for one of them (its service's registrable domain, exactly)."""
    sender = func.lower(CodeRow.sender)
    forms = {form for site in sites for form in (site, u_label(site))}
    suffixes = [sender.endswith(f"{sep}{form}", autoescape=True) for form in forms for sep in "@."]
    signed = select(Message.id).where(
        Message.project_id == project_id,
        or_(*(Message.signed_by.contains(f"\n{site}\n", autoescape=True) for site in sites)),
    )
    asked = select(Escalation.id).where(
        Escalation.project_id == project_id, Escalation.site.in_(sites)
    )
    return or_(
        and_(CodeRow.channel == "email", or_(*suffixes, CodeRow.source_id.in_(signed))),
        and_(CodeRow.source_type == "escalation", CodeRow.source_id.in_(asked)),
    )


def _filtered(project_id: str, q: CodeQuery) -> Select[CodeRow]:
    stmt = select(CodeRow).where(CodeRow.project_id == project_id)
    if q.channel is not None:
        stmt = stmt.where(CodeRow.channel == q.channel)
    if q.by_site:
        stmt = stmt.where(_from_sites(project_id, q.sites))
    if q.authenticated is not None:
        stmt = stmt.where(CodeRow.authenticated.is_(q.authenticated))
    if q.exclude:
        stmt = stmt.where(CodeRow.id.not_in(q.exclude))
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
                and_(CodeRow.received_at == at, CodeRow.source_id < message_id),
                and_(
                    CodeRow.received_at == at,
                    CodeRow.source_id == message_id,
                    _code_first() > rank,
                ),
            )
        )
    if q.from_ is not None:
        stmt = stmt.where(CodeRow.sender.icontains(q.from_, autoescape=True))
    if q.to is not None:
        stmt = stmt.where(CodeRow.source_id.in_(received_by(q.to)))
    if q.header_to is not None:
        named = select(Message.id).where(header_to_matches(q.header_to))
        stmt = stmt.where(CodeRow.source_id.in_(named))
    if q.unused or q.consume:
        stmt = stmt.where(CodeRow.used.is_(False))
    if q.unexpired:
        stmt = stmt.where(CodeRow.expires_at.is_(None) | (CodeRow.expires_at > utcnow()))
    return _newest_first(stmt)


def _newest_first(stmt: Select[CodeRow]) -> Select[CodeRow]:
    return stmt.order_by(CodeRow.received_at.desc(), CodeRow.source_id.desc(), _code_first())


class CodeRepository(Repository):
    async def get(self, code_id: str) -> CodeRow | None:
        return await self.session.get(CodeRow, code_id)

    async def page(self, project_id: str, q: CodeQuery) -> Page[CodeRow]:
        return await self.paginate(_filtered(project_id, q), q.limit)

    async def unused_counts(self, project_ids: list[str]) -> dict[str, int]:
        """How many codes and links each project has not used yet."""
        return await self.count_per_project(
            CodeRow.project_id, project_ids, CodeRow.used.is_(False)
        )

    async def first(self, project_id: str, q: CodeQuery, limit: int) -> list[CodeRow]:
        return await self.get_all(_filtered(project_id, q).limit(limit))

    async def arrived(
        self, project_id: str, q: CodeQuery, start: datetime, limit: int
    ) -> list[CodeRow]:
        """What arrived since ``start`` that the query's own choices (channel, kind,
        recipient, sender text) let in, whatever the site, time, use and verdict: what a
        wait that found nothing reports as skipped."""
        within = CodeQuery(
            channel="email" if q.by_site else q.channel,
            kind=q.kind,
            since=start,
            from_=q.from_,
            to=q.to,
            header_to=q.header_to,
        )
        return await self.get_all(_filtered(project_id, within).limit(limit))

    async def auth_results(self, message_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The stored authentication verdicts of these messages (those that have one)."""
        if not message_ids:
            return {}
        rows = await self.session.execute(
            select(Message.id, Message.auth_results).where(Message.id.in_(set(message_ids)))
        )
        return {mid: verdict for mid, verdict in rows.all() if verdict}

    async def claim(self, code: CodeRow) -> bool:
        """Mark ``code`` and the rest of its group used unless another request did first;
        True when this one did (only the UPDATE that flips the flags claims them: a code
        is never handed out twice, nor a second candidate for the same sign-up)."""
        result = await self.session.execute(
            update(CodeRow)
            .where(CodeRow.group_id == code.group_id, CodeRow.used.is_(False))
            .values(used=True, used_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) > 0


class TotpRepository(Repository):
    async def get(self, project_id: str, label: str) -> TotpSecret | None:
        return await self.get_one_or_none(
            select(TotpSecret).where(TotpSecret.project_id == project_id, TotpSecret.label == label)
        )

    async def listed(self, project_id: str) -> list[TotpSecret]:
        return await self.get_all(
            select(TotpSecret).where(TotpSecret.project_id == project_id).order_by(TotpSecret.label)
        )

    async def count(self, project_id: str) -> int:
        return await self.count_where(TotpSecret, TotpSecret.project_id == project_id)

    async def remove(self, project_id: str, label: str) -> bool:
        """Delete the labelled secret; False when there was none."""
        result = await self.session.execute(
            delete(TotpSecret).where(TotpSecret.project_id == project_id, TotpSecret.label == label)
        )
        return bool(getattr(result, "rowcount", 0))

    async def every(self) -> list[TotpSecret]:
        """Every project's secrets (to seal them again under a new service key)."""
        return await self.get_all(select(TotpSecret))


def _open(now: datetime) -> ColumnElement[bool]:
    return and_(Escalation.status == "open", Escalation.expires_at > now)


class EscalationRepository(Repository):
    async def get(self, project_id: str, escalation_id: str) -> Escalation | None:
        return await self.get_one_or_none(
            select(Escalation).where(
                Escalation.project_id == project_id, Escalation.id == escalation_id
            )
        )

    async def page(self, project_id: str, before: str | None, limit: int) -> Page[Escalation]:
        """The project's escalations, newest first."""
        stmt = select(Escalation).where(Escalation.project_id == project_id)
        if before is not None:
            stmt = stmt.where(Escalation.id < before)
        return await self.paginate(stmt.order_by(Escalation.id.desc()), limit)

    async def open_page(self, now: datetime, before: str | None, limit: int) -> Page[Escalation]:
        """Every project's open escalations (unanswered, not expired), newest first."""
        stmt = select(Escalation).where(_open(now))
        if before is not None:
            stmt = stmt.where(Escalation.id < before)
        return await self.paginate(stmt.order_by(Escalation.id.desc()), limit)

    async def open_count(self, project_id: str, now: datetime) -> int:
        return await self.count_where(Escalation, Escalation.project_id == project_id, _open(now))

    async def opened(self, row: Escalation, event: dict[str, Any]) -> int:
        """Write a new escalation and its ``escalation.opened`` event; the event's seq."""
        self.session.add(row)
        await self.session.flush()
        (seq,) = await event_log.append_async(self.session, [event])
        return seq

    async def answer(
        self,
        escalation_id: str,
        value: str,
        now: datetime,
        code: dict[str, Any] | None,
        events: list[dict[str, Any]],
    ) -> list[int] | None:
        """Answer the escalation with ``value`` (and the code it became), writing the code
        and the events; None when it was answered or expired meanwhile: only the UPDATE
        that finds it still open answers it, so it is answered once. The events' seqs."""
        result = await self.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation_id, _open(now))
            .values(
                status="answered",
                value=value,
                code_id=None if code is None else code["id"],
                answered_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if not getattr(result, "rowcount", 0):
            return None
        if code is not None:
            await self.session.execute(insert(table_of(CodeRow)), [code])
        return await event_log.append_async(self.session, events)

    async def purge(self, project_id: str, before: datetime) -> int:
        """Delete the project's escalations opened before ``before``; how many."""
        result = await self.session.execute(
            delete(Escalation).where(
                Escalation.project_id == project_id, Escalation.created_at < before
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)
