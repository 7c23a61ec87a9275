"""Statements of webhooks: the webhooks, their deliveries, and the cursor the dispatcher
reads the events table from."""

from __future__ import annotations

from collections.abc import Collection
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from agentid.store.event_log import Logged
from agentid.store.repository import Page
from agentid.store.repository import Repository
from agentid.store.tables import EventRow
from agentid.store.tables import Webhook
from agentid.store.tables import WebhookCursor
from agentid.store.tables import WebhookDelivery
from agentid.store.tables import table_of

OPERATOR_ID = "operator"  # the operator's webhook (AGENTID_OPERATOR_WEBHOOK_URL)
CURSOR = "events"
_EVENTS = table_of(EventRow)
_DELIVERIES = table_of(WebhookDelivery)
# A Core executemany (no row-count check, unlike the ORM's update by primary key), written
# only over the claim it answers: see ``record_all``.
_RECORD = update(_DELIVERIES).where(
    _DELIVERIES.c.id == bindparam("of"),
    _DELIVERIES.c.status == "sending",
    _DELIVERIES.c.attempts == bindparam("claim"),
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """A delivery claimed for an attempt (``attempts``: this one included), with what
    sending it needs."""

    id: str
    webhook_id: str
    url: str
    secret_sealed: bytes
    message_id: str
    body: str
    attempts: int
    created_at: datetime


class WebhookRepository(Repository):
    # --- webhooks -------------------------------------------------------------------------

    async def listed(self, project_id: str) -> list[Webhook]:
        return await self.get_all(
            select(Webhook).where(Webhook.project_id == project_id).order_by(Webhook.id)
        )

    async def count(self, project_id: str) -> int:
        return await self.count_where(Webhook, Webhook.project_id == project_id)

    async def get(self, project_id: str, webhook_id: str) -> Webhook | None:
        return await self.get_one_or_none(
            select(Webhook).where(Webhook.project_id == project_id, Webhook.id == webhook_id)
        )

    async def operator(self) -> Webhook | None:
        return await self.session.get(Webhook, OPERATOR_ID)

    async def remove(self, webhook_id: str) -> None:
        """The webhook and its deliveries."""
        await self.session.execute(
            delete(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        )
        await self.session.execute(delete(Webhook).where(Webhook.id == webhook_id))

    async def every_webhook(self) -> list[Webhook]:
        return await self.get_all(select(Webhook).order_by(Webhook.id))

    async def enabled(self) -> list[Webhook]:
        return await self.get_all(select(Webhook).where(Webhook.enabled.is_(True)))

    async def disable(self, webhook_id: str, reason: str, now: datetime) -> None:
        """No more deliveries: the webhook is disabled and what it still had to send fails."""
        await self.session.execute(
            update(Webhook)
            .where(Webhook.id == webhook_id)
            .values(enabled=False, disabled_reason=reason)
        )
        await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.status == "pending")
            .values(status="failed", next_attempt_at=None, error=f"not sent: {reason}")
        )

    # --- reading the events -----------------------------------------------------------------

    async def newest_event(self) -> int:
        return int(await self.session.scalar(select(func.max(_EVENTS.c.seq))) or 0)

    async def cursor(self) -> int:
        """How far the events are read; the row is locked until the transaction ends (on
        PostgreSQL), so two dispatchers never make the same deliveries."""
        found = await self.session.scalar(
            select(WebhookCursor.seq).where(WebhookCursor.name == CURSOR).with_for_update()
        )
        return int(found or 0)

    async def move_cursor(self, seq: int) -> None:
        await self.session.execute(
            update(WebhookCursor).where(WebhookCursor.name == CURSOR).values(seq=seq)
        )

    async def events_between(
        self,
        after: int,
        upto: int,
        kinds: Collection[str],
        projects: Collection[str],
        every_project: Collection[str],
        limit: int,
    ) -> list[Logged]:
        """Events ``after`` < seq <= ``upto``, oldest first: of ``kinds`` in ``projects``,
        and of ``every_project`` in any project."""
        wanted: list[ColumnElement[bool]] = [
            _EVENTS.c.project_id.in_(list(projects)) & _EVENTS.c.kind.in_(list(kinds))
        ]
        if every_project:
            wanted.append(_EVENTS.c.kind.in_(list(every_project)))
        found = await self.session.execute(
            select(_EVENTS.c.seq, _EVENTS.c.project_id, _EVENTS.c.kind, _EVENTS.c.payload,
                   _EVENTS.c.created_at)
            .where(_EVENTS.c.seq > after, _EVENTS.c.seq <= upto, or_(*wanted))
            .order_by(_EVENTS.c.seq)
            .limit(limit)
        )  # fmt: skip
        return [Logged(*r) for r in found]

    async def add_deliveries(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(insert(_DELIVERIES), rows)

    # --- deliveries -------------------------------------------------------------------------

    async def restart_interrupted(self, now: datetime) -> int:
        """Attempts cut off by a stop: due again now (at least once, the same webhook-id)."""
        result = await self.session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.status == "sending")
            .values(status="pending", next_attempt_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim_due(self, now: datetime, limit: int) -> list[Claimed]:
        """Up to ``limit`` deliveries due now to enabled webhooks, marked as being sent (one
        attempt more). One another process claimed first is not claimed again."""
        due = await self.session.scalars(
            select(WebhookDelivery.id)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == "pending",
                WebhookDelivery.next_attempt_at <= now,
                Webhook.enabled.is_(True),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
        ids = list(due)
        if not ids:
            return []
        claimed = await self.session.scalars(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids), WebhookDelivery.status == "pending")
            .values(status="sending", attempts=WebhookDelivery.attempts + 1, last_attempt_at=now)
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        )
        taken = list(claimed)
        if not taken:
            return []
        found = await self.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.webhook_id, Webhook.url,
                   Webhook.secret_sealed, WebhookDelivery.message_id, WebhookDelivery.body,
                   WebhookDelivery.attempts, WebhookDelivery.created_at)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id.in_(taken))
            .order_by(WebhookDelivery.id)
        )  # fmt: skip
        return [Claimed(*row) for row in found]

    async def forget_purged_events(self) -> int:
        """Delete the deliveries (replays too) of events retention has removed: a body
        carries its event's data, so it goes with it; how many."""
        result = await self.session.execute(
            delete(WebhookDelivery).where(
                ~select(EventRow.seq).where(EventRow.seq == WebhookDelivery.event_seq).exists()
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(WebhookDelivery.next_attempt_at)).where(
                WebhookDelivery.status == "pending"
            )
        )

    async def record_all(self, rows: Sequence[dict[str, Any]]) -> None:
        """Each delivery's result (rows keyed by ``id``, with ``claimed``: the attempt the
        result answers). One whose webhook was deleted meanwhile is gone, and one claimed
        again since (another process took the job over while this one was sending) keeps
        that claim's: neither is written."""
        if rows:
            values = [
                {k: v for k, v in r.items() if k not in ("id", "claimed")}
                | {"of": r["id"], "claim": r["claimed"]}
                for r in rows
            ]
            await self.session.execute(_RECORD, values)

    async def page(self, webhook_id: str, before: str | None, limit: int) -> Page[WebhookDelivery]:
        query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
        if before is not None:
            query = query.where(WebhookDelivery.id < before)
        return await self.paginate(query.order_by(WebhookDelivery.id.desc()), limit)

    async def delivery(self, webhook_id: str, delivery_id: str) -> WebhookDelivery | None:
        return await self.get_one_or_none(
            select(WebhookDelivery).where(
                WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.id == delivery_id
            )
        )

    async def next_replay(self, webhook_id: str, event_seq: int) -> int:
        found = await self.session.scalar(
            select(func.max(WebhookDelivery.replay)).where(
                WebhookDelivery.webhook_id == webhook_id, WebhookDelivery.event_seq == event_seq
            )
        )
        return int(found or 0) + 1
