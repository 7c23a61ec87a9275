"""Statements of sending: the outbox and its recipients, suppressions, send policies, and
the received codes the guard compares outgoing mail with."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import update

from agentid.store.repository import Page
from agentid.store.repository import Repository
from agentid.store.tables import CodeRow
from agentid.store.tables import Domain
from agentid.store.tables import Message
from agentid.store.tables import Outbound
from agentid.store.tables import OutboundRecipient
from agentid.store.tables import SendPolicy
from agentid.store.tables import Suppression
from agentid.store.tables import table_of

PENDING = ("queued", "deferred")  # waiting for an attempt
OPEN = ("queued", "sending", "deferred")  # not settled yet


_RECIPIENTS = table_of(OutboundRecipient)  # results are written in Core executemany


@dataclass(frozen=True, slots=True)
class Due:
    """Recipients of one message, on one route, claimed for an attempt (``attempts``:
    each one's count in this round, this one included; ``claims``: each one's claim, what
    its result is written under)."""

    outbound_id: str
    project_id: str
    route: str
    addresses: tuple[str, ...]
    attempts: dict[str, int]
    claims: dict[str, int]


@dataclass(frozen=True, slots=True)
class Stored:
    """What delivering a message needs of it: the envelope sender, the finished bytes,
    and the relay chosen when it was queued (``agentid.email.outbound.relays``)."""

    mail_from: str
    raw: bytes
    relay: str | None


class OutboxRepository(Repository):
    async def by_key(self, project_id: str, key: str) -> Outbound | None:
        return await self.get_one_or_none(
            select(Outbound).where(
                Outbound.project_id == project_id, Outbound.idempotency_key == key
            )
        )

    async def forget_key(self, outbound_id: str) -> None:
        """An idempotency key past its window: free for a new message."""
        await self.session.execute(
            update(Outbound).where(Outbound.id == outbound_id).values(idempotency_key=None)
        )

    async def get(self, project_id: str, outbound_id: str) -> Outbound | None:
        return await self.get_one_or_none(
            select(Outbound).where(Outbound.project_id == project_id, Outbound.id == outbound_id)
        )

    async def page(self, project_id: str, before: str | None, limit: int) -> Page[Outbound]:
        query = select(Outbound).where(Outbound.project_id == project_id)
        if before is not None:
            query = query.where(Outbound.id < before)
        return await self.paginate(query.order_by(Outbound.id.desc()), limit)

    async def retry_failed(self, project_id: str, outbound_id: str, now: datetime) -> int:
        """The message's failed recipients, but suppressed addresses, queued again for a
        fresh round of attempts (their ``claims`` go on counting): how many."""
        suppressed = select(Suppression.address).where(Suppression.project_id == project_id)
        result = await self.session.execute(
            update(OutboundRecipient)
            .where(
                OutboundRecipient.outbound_id == outbound_id,
                OutboundRecipient.project_id == project_id,
                OutboundRecipient.status == "failed",
                OutboundRecipient.address.not_in(suppressed),
            )
            .values(status="queued", attempts=0, next_attempt_at=None, error=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def recipients(self, outbound_ids: Sequence[str]) -> list[OutboundRecipient]:
        if not outbound_ids:
            return []
        return await self.get_all(
            select(OutboundRecipient)
            .where(OutboundRecipient.outbound_id.in_(outbound_ids))
            .order_by(OutboundRecipient.outbound_id, OutboundRecipient.address)
        )

    # --- quotas -------------------------------------------------------------------------

    async def relayed_since(self, project_id: str, since: datetime) -> int:
        """Recipients handed (or to be handed) to the relay since ``since``."""
        found = await self.session.scalar(
            select(func.count())
            .select_from(OutboundRecipient)
            .join(Outbound, Outbound.id == OutboundRecipient.outbound_id)
            .where(
                Outbound.project_id == project_id,
                Outbound.created_at >= since,
                OutboundRecipient.route == "relay",
                OutboundRecipient.status != "suppressed",
            )
        )
        return int(found or 0)

    async def first_relayed_at(self, project_id: str) -> datetime | None:
        return await self.session.scalar(
            select(func.min(Outbound.created_at))
            .join(OutboundRecipient, Outbound.id == OutboundRecipient.outbound_id)
            .where(Outbound.project_id == project_id, OutboundRecipient.route == "relay")
        )

    async def nth_newest(self, project_id: str, n: int) -> datetime | None:
        """When the project's ``n``-th newest message was queued (None: it has fewer)."""
        return await self.session.scalar(
            select(Outbound.created_at)
            .where(Outbound.project_id == project_id)
            .order_by(Outbound.id.desc())
            .offset(n - 1)
            .limit(1)
        )

    # --- suppressions and policy ------------------------------------------------------------

    async def suppressed(self, project_id: str, addresses: Sequence[str]) -> dict[str, str]:
        """Of ``addresses`` (lower case), the suppressed ones and why."""
        found = await self.session.execute(
            select(Suppression.address, Suppression.reason).where(
                Suppression.project_id == project_id, Suppression.address.in_(list(addresses))
            )
        )
        return {address: reason for address, reason in found}

    async def suppressions(self, project_id: str) -> list[Suppression]:
        return await self.get_all(
            select(Suppression)
            .where(Suppression.project_id == project_id)
            .order_by(Suppression.address)
        )

    async def lift(self, project_id: str, address: str) -> bool:
        result = await self.session.execute(
            delete(Suppression).where(
                Suppression.project_id == project_id, Suppression.address == address
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def policy(self, project_id: str) -> SendPolicy | None:
        return await self.session.get(SendPolicy, project_id)

    async def set_policy(self, project_id: str, allow: list[str], block: list[str]) -> None:
        await self.upsert(SendPolicy, [{"project_id": project_id, "allow": allow, "block": block}])

    async def suppress(self, rows: list[dict[str, Any]]) -> None:
        """Suppress addresses (``project_id``, ``address``, ``reason``, ``created_at``): an
        address suppressed already, by a bounce report at the same moment say, takes the
        newer reason."""
        await self.upsert(Suppression, rows)

    # --- the guard ------------------------------------------------------------------------

    async def received_secrets(self, project_id: str, since: datetime) -> list[dict[str, Any]]:
        """Every code and link candidate received since ``since``: ``{"value", "kind",
        "source_type", "source_id"}``, from the messages' full candidate lists and from
        the codes rows (SMS and answers)."""
        found: list[dict[str, Any]] = []
        mail = await self.session.execute(
            select(Message.id, Message.codes, Message.links).where(
                Message.project_id == project_id,
                Message.received_at >= since,
                or_(Message.codes.is_not(None), Message.links.is_not(None)),
            )
        )
        for mid, codes, links in mail:
            for c in codes or []:
                found.append(
                    {"value": c["value"], "kind": "code", "source_type": "email", "source_id": mid}
                )
            for link in links or []:
                found.append(
                    {"value": link["url"], "kind": "link", "source_type": "email", "source_id": mid}
                )
        rows = await self.session.execute(
            select(CodeRow.value, CodeRow.kind, CodeRow.source_type, CodeRow.source_id).where(
                CodeRow.project_id == project_id,
                CodeRow.received_at >= since,
                CodeRow.source_type != "email",
            )
        )
        found += [{"value": v, "kind": k, "source_type": t, "source_id": s} for v, k, t, s in rows]
        return found

    async def message_for_reply(self, project_id: str, message_id: str) -> Message | None:
        return await self.get_one_or_none(
            select(Message).where(Message.project_id == project_id, Message.id == message_id)
        )

    # --- the sender ------------------------------------------------------------------------

    async def restart_interrupted(self, now: datetime) -> int:
        """Attempts cut off by a stop: queued again (the same bytes, the same Message-ID)."""
        result = await self.session.execute(
            update(OutboundRecipient)
            .where(OutboundRecipient.status == "sending")
            .values(status="queued", next_attempt_at=None, updated_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim_due(self, now: datetime, limit: int) -> list[Due]:
        """Up to ``limit`` recipients whose attempt is due, marked as being sent (one attempt
        more), grouped per message and route. A recipient another process claimed first
        is not claimed again (the update checks the status it read)."""
        found = await self.session.execute(
            select(OutboundRecipient.outbound_id, OutboundRecipient.address)
            .where(
                OutboundRecipient.status.in_(PENDING),
                or_(
                    OutboundRecipient.next_attempt_at.is_(None),
                    OutboundRecipient.next_attempt_at <= now,
                ),
            )
            .order_by(OutboundRecipient.outbound_id)
            .limit(limit)
        )
        keys = [(outbound_id, address) for outbound_id, address in found]
        if not keys:
            return []
        claimed = await self.session.execute(
            update(OutboundRecipient)
            .where(
                tuple_(OutboundRecipient.outbound_id, OutboundRecipient.address).in_(keys),
                OutboundRecipient.status.in_(PENDING),
            )
            .values(
                status="sending", attempts=OutboundRecipient.attempts + 1,
                claims=OutboundRecipient.claims + 1, updated_at=now,
            )
            .returning(
                OutboundRecipient.outbound_id, OutboundRecipient.project_id,
                OutboundRecipient.route, OutboundRecipient.address, OutboundRecipient.attempts,
                OutboundRecipient.claims,
            )
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        groups: dict[tuple[str, str, str], dict[str, tuple[int, int]]] = {}
        for outbound_id, project_id, route, address, attempts, claims in claimed:
            groups.setdefault((outbound_id, project_id, route), {})[address] = (attempts, claims)
        return [
            Due(
                o, p, r, tuple(sorted(found)),
                {a: attempts for a, (attempts, _) in found.items()},
                {a: claims for a, (_, claims) in found.items()},
            )
            for (o, p, r), found in sorted(groups.items())
        ]  # fmt: skip

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(OutboundRecipient.next_attempt_at)).where(
                OutboundRecipient.status == "deferred"
            )
        )

    async def raws(self, outbound_ids: Sequence[str]) -> dict[str, Stored]:
        """Each message's envelope sender, finished bytes and relay choice."""
        if not outbound_ids:
            return {}
        found = await self.session.execute(
            select(Outbound.id, Outbound.mail_from, Outbound.raw, Outbound.relay).where(
                Outbound.id.in_(list(set(outbound_ids)))
            )
        )
        return {i: Stored(mail_from, raw, relay) for i, mail_from, raw, relay in found}

    async def record_all(self, rows: list[dict[str, Any]]) -> None:
        """Each recipient's result (rows keyed by ``outbound_id`` and ``address``, with
        ``claimed``: the claim the result answers). A recipient claimed again since
        (another process took the job over while this one was sending, or it failed and was
        retried) keeps that claim's result: this one is not written over it."""
        shapes: dict[frozenset[str], list[dict[str, Any]]] = {}
        for row in rows:  # one executemany per set of columns written
            shapes.setdefault(frozenset(row), []).append(row)
        for shape, same in shapes.items():
            written = sorted(shape - {"outbound_id", "address", "claimed"})
            params = [{f"b_{k}": v for k, v in row.items()} for row in same]
            await self.session.execute(
                update(_RECIPIENTS)
                .where(
                    _RECIPIENTS.c.outbound_id == bindparam("b_outbound_id"),
                    _RECIPIENTS.c.address == bindparam("b_address"),
                    _RECIPIENTS.c.status == "sending",
                    _RECIPIENTS.c.claims == bindparam("b_claimed"),
                )
                .values({name: bindparam(f"b_{name}") for name in written}),
                params,
            )

    async def locked_messages(self, outbound_ids: Sequence[str]) -> list[Outbound]:
        """The messages, their rows locked until the transaction ends (in id order, so
        that two transactions locking some of the same messages cannot deadlock), read
        afresh (SQLite has one writer at a time: no lock to take)."""
        if not outbound_ids:
            return []
        statement = (
            select(Outbound)
            .where(Outbound.id.in_(list(set(outbound_ids))))
            .order_by(Outbound.id)
            .with_for_update(key_share=True)
            .execution_options(populate_existing=True)
        )
        return await self.get_all(statement)

    async def domain_key(self, project_id: str) -> Domain | None:
        """The project's hosted domain, with its DKIM selector and sealed key."""
        return await self.get_one_or_none(select(Domain).where(Domain.project_id == project_id))

    async def bounced(
        self, project_id: str, address: str, provider_message_id: str, reason: str, now: datetime
    ) -> list[str]:
        """A recipient the relay took and later reported bounced: failed after all. The
        ids of the messages whose recipient changed."""
        result = await self.session.execute(
            update(OutboundRecipient)
            .where(
                OutboundRecipient.project_id == project_id,
                OutboundRecipient.address == address,
                OutboundRecipient.provider_message_id == provider_message_id,
                OutboundRecipient.route == "relay",
                OutboundRecipient.status == "sent",
            )
            .values(status="failed", error=reason, updated_at=now)
            .returning(OutboundRecipient.outbound_id)
            .execution_options(synchronize_session=False)
        )
        return list(result.scalars())

    async def shared_senders(self, provider_message_ids: Sequence[str]) -> dict[str, set[str]]:
        """For each of the relay's message ids, the projects that relayed a message it
        names through the operator's shared relay (or before the choice was kept)."""
        if not provider_message_ids:
            return {}
        found = await self.session.execute(
            select(OutboundRecipient.provider_message_id, OutboundRecipient.project_id)
            .join(Outbound, Outbound.id == OutboundRecipient.outbound_id)
            .where(
                OutboundRecipient.provider_message_id.in_(list(set(provider_message_ids))),
                OutboundRecipient.route == "relay",
                or_(Outbound.relay.is_(None), Outbound.relay == "service"),
            )
            .distinct()
        )
        owners: dict[str, set[str]] = {}
        for message_id, project_id in found:
            if message_id is not None:
                owners.setdefault(message_id, set()).add(project_id)
        return owners
