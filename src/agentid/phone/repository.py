"""Statements on phone numbers and the SMS they receive."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from agentid.store import event_log
from agentid.store.repository import Page
from agentid.store.repository import Repository
from agentid.store.repository import Window
from agentid.store.tables import CodeRow
from agentid.store.tables import Forwarder
from agentid.store.tables import PhoneNumber
from agentid.store.tables import Sms
from agentid.store.tables import table_of

LIVE = ("pending", "active")


@dataclass(frozen=True, slots=True)
class SmsQuery:
    from_: str | None = None
    contains: str | None = None
    window: Window = field(default_factory=Window)


def _filtered(project_id: str, q: SmsQuery) -> Select[Sms]:
    stmt = select(Sms).where(Sms.project_id == project_id)
    if q.from_ is not None:
        stmt = stmt.where(Sms.from_number.icontains(q.from_, autoescape=True))
    if q.contains is not None:
        stmt = stmt.where(Sms.body.icontains(q.contains, autoescape=True))
    return q.window.narrow(stmt, Sms.received_at, Sms.id).order_by(Sms.id.desc())


def _live(*where: ColumnElement[bool]) -> Select[PhoneNumber]:
    """The pending or active numbers that also match ``where``."""
    return select(PhoneNumber).where(PhoneNumber.status.in_(LIVE), *where)


def _unrevoked(*where: ColumnElement[bool]) -> Select[Forwarder]:
    """The forwarders not revoked that also match ``where``."""
    return select(Forwarder).where(Forwarder.revoked_at.is_(None), *where)


class PhoneRepository(Repository):
    async def live(self, project_id: str) -> PhoneNumber | None:
        """The project's pending or active number."""
        return await self.get_one_or_none(_live(PhoneNumber.project_id == project_id))

    async def live_by_e164(self, provider: str, e164: str) -> PhoneNumber | None:
        return await self.get_one_or_none(
            _live(PhoneNumber.e164 == e164, PhoneNumber.provider == provider)
        )

    async def taken(self, numbers: Collection[str]) -> set[str]:
        """Which of ``numbers`` some project holds now."""
        found = await self.session.scalars(
            select(PhoneNumber.e164).where(
                PhoneNumber.e164.in_(list(numbers)), PhoneNumber.status.in_(LIVE)
            )
        )
        return set(found)

    async def inactive(
        self, project_id: str | None, before: datetime, number_id: str | None = None
    ) -> list[PhoneNumber]:
        """Live, unpinned numbers with no SMS (nor purchase) since ``before``; with
        ``number_id``, that one if it still is."""
        stmt = _live(
            PhoneNumber.keep.is_(False),
            PhoneNumber.created_at < before,
            (PhoneNumber.last_activity_at.is_(None)) | (PhoneNumber.last_activity_at < before),
        )
        if project_id is not None:
            stmt = stmt.where(PhoneNumber.project_id == project_id)
        if number_id is not None:
            stmt = stmt.where(PhoneNumber.id == number_id)
        return await self.get_all(stmt.order_by(PhoneNumber.id))

    async def pending(self) -> list[PhoneNumber]:
        """Numbers whose purchase the provider has not completed yet."""
        return await self.get_all(
            select(PhoneNumber).where(PhoneNumber.status == "pending").order_by(PhoneNumber.id)
        )

    async def activate(self, number_id: str) -> bool:
        """Mark a pending number active; False when it is not pending any more (released
        meanwhile, or another check got there first)."""
        result = await self.session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.id == number_id, PhoneNumber.status == "pending")
            .values(status="active")
        )
        return bool(getattr(result, "rowcount", 0))

    async def sms(self, sms_id: str, project_id: str | None = None) -> Sms | None:
        """The SMS; None when it is another project's (``project_id`` given)."""
        found = await self.session.get(Sms, sms_id)
        if found is None or (project_id is not None and found.project_id != project_id):
            return None
        return found

    async def forwarders(self, project_id: str) -> list[Forwarder]:
        return await self.get_all(
            _unrevoked(Forwarder.project_id == project_id).order_by(Forwarder.id)
        )

    async def forwarder(self, project_id: str, forwarder_id: str) -> Forwarder | None:
        return await self.get_one_or_none(
            _unrevoked(Forwarder.id == forwarder_id, Forwarder.project_id == project_id)
        )

    async def forwarder_by_token(self, token_hash: str) -> Forwarder | None:
        return await self.get_one_or_none(_unrevoked(Forwarder.token_hash == token_hash))

    async def with_account_secret(self) -> list[PhoneNumber]:
        return await self.get_all(
            select(PhoneNumber).where(PhoneNumber.account_sealed.is_not(None))
        )

    async def every_forwarder(self) -> list[Forwarder]:
        return await self.get_all(select(Forwarder))

    async def page(self, project_id: str, q: SmsQuery) -> Page[Sms]:
        return await self.paginate(_filtered(project_id, q), q.window.limit)

    async def store_sms(
        self,
        sms: dict[str, Any],
        codes: list[dict[str, Any]],
        events: list[dict[str, Any]],
    ) -> list[int]:
        """Write one SMS, its codes and its events, and touch its number; the events'
        seqs. An SMS stored before (the same provider id) raises ``IntegrityError`` at
        the insert, before anything else is written."""
        await self.session.execute(insert(table_of(Sms)), [sms])
        if codes:
            await self.session.execute(insert(table_of(CodeRow)), codes)
        if sms["number_id"] is not None:
            await self.session.execute(
                update(PhoneNumber)
                .where(PhoneNumber.id == sms["number_id"])
                .values(last_activity_at=sms["received_at"])
            )
        return await event_log.append_async(self.session, events)

    async def purge(self, project_id: str, before: datetime) -> int:
        """Delete the project's SMS (and their codes) received before ``before``."""
        await self.session.execute(
            delete(CodeRow).where(
                CodeRow.project_id == project_id,
                CodeRow.source_type == "sms",
                CodeRow.received_at < before,
            )
        )
        result = await self.session.execute(
            delete(Sms).where(Sms.project_id == project_id, Sms.received_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
