"""The webhook dispatcher: makes deliveries from the events table and sends them.

Deliveries are built from the durable events table, never from signals in memory: the
dispatcher reads the events after its cursor (``webhook_cursor``), makes one delivery per
(webhook, event) its kinds and project match, and moves the cursor, in one transaction;
so an event written while agentid was stopped, or while the dispatcher was busy, is
delivered all the same, and none twice. Bus signals only wake it sooner.

Each round claims the deliveries due (``sending``, one attempt more, committed before
anything is sent), posts them (``delivery.py``) and records each answer: 2xx delivered;
410 Gone fails it and disables the webhook (what it still had to send fails too); any
other answer, or none, is retried: the first retry ``AGENTID_WEBHOOK_RETRY_SECONDS`` later,
each next one five times later (±20%, never sooner than a 429's or 503's Retry-After), at
most ``MAX_ATTEMPTS`` attempts and none later than ``WINDOW`` after the delivery was made;
then it fails. A delivery still ``sending`` when the service stopped is due again at start
(at least once: the same ``webhook-id``, so a receiver can drop the repeat).
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime
from datetime import timedelta
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy.exc import IntegrityError

from agentid.events import Kind
from agentid.events import Signal
from agentid.ids import new_id
from agentid.queue_worker import QueueWorker
from agentid.runtime import Runtime
from agentid.store.event_log import Logged
from agentid.store.tables import Webhook
from agentid.times import utcnow
from agentid.webhooks import delivery
from agentid.webhooks import payloads
from agentid.webhooks import service
from agentid.webhooks.delivery import Outcome
from agentid.webhooks.repository import Claimed
from agentid.webhooks.repository import WebhookRepository

if TYPE_CHECKING:
    import httpx

JOB = "webhooks"  # its name for store/leader
log = logging.getLogger("agentid.webhooks")

MAX_ATTEMPTS = 8
WINDOW = timedelta(hours=24)
GROWTH = 5  # each wait is this many times the one before
ROUND = 32  # deliveries claimed per round
FAN_OUT = 500  # events read per transaction
CONCURRENCY = 16  # posts in flight at once
IDLE_SECONDS = 5.0  # the longest sleep between looks at the events and the deliveries
# after a look that found nothing to do, the next is at least this much later: a flood of
# mail (each message an event) costs a look per gap, not a look per message
LOOK_GAP_SECONDS = 0.1


def next_attempt(
    attempts: int,
    made_at: datetime,
    now: datetime,
    base: float,
    rng: random.Random,
    retry_after: float | None = None,
) -> datetime | None:
    """When to try a delivery again after its ``attempts``-th failed attempt; None when it
    has had its last (``MAX_ATTEMPTS``, or ``WINDOW`` after it was made)."""
    deadline = made_at + WINDOW
    if attempts >= MAX_ATTEMPTS or now >= deadline:
        return None
    delay = base * float(GROWTH ** min(max(attempts - 1, 0), 20)) * rng.uniform(0.8, 1.2)
    delay = max(delay, retry_after or 0.0)
    return min(now + timedelta(seconds=delay), deadline)


class WebhookDispatcher(QueueWorker):
    """The webhook worker (a ``Worker``); ``wake()`` makes it look now."""

    job = JOB
    idle = IDLE_SECONDS
    gap = LOOK_GAP_SECONDS

    def __init__(
        self,
        rt: Runtime,
        *,
        http: httpx.AsyncClient | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(rt)
        self._http = http
        self._owns_http = http is None
        self._rng = rng or random.Random()
        self._gate = asyncio.Semaphore(CONCURRENCY)

    def wake(self) -> None:
        """A delivery was queued: the process running deliveries (maybe another) looks."""
        self._rt.bus.publish(Signal("", Kind.WEBHOOKS_DUE))

    def _signal(self, _: Signal) -> None:
        self._wake.set()

    async def start(self) -> None:
        try:
            await self._begin()
        except IntegrityError:  # another process made the operator's webhook just now
            await self._begin()
        for kind in (*payloads.WEBHOOK_KINDS, Kind.WEBHOOKS_DUE):
            self._rt.bus.subscribe(kind, self._signal)
        self._loop.begin(self._run())

    async def _begin(self) -> None:
        """The operator's webhook as set."""
        async with self._rt.sessions.begin() as session:
            await service.sync_operator(self._rt, session)

    async def _restart_interrupted(self) -> None:
        """Attempts a stop (of this process or the one that ran deliveries before) cut
        off are due again."""
        async with self._rt.sessions.begin() as session:
            again = await WebhookRepository(session).restart_interrupted(utcnow())
        if again:
            log.info("webhooks: attempts cut off by a stop go again", extra={"deliveries": again})

    async def stop(self) -> None:
        await super().stop()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
            self._http = None

    def _failed(self) -> None:
        log.exception("webhook round failed")

    async def _work(self) -> bool:
        """One round: the deliveries of new events made, what is due sent; whether there
        was anything to do."""
        made = await self.fan_out()
        sent = await self.round()
        return made or sent

    async def _next_due(self) -> datetime | None:
        async with self._rt.sessions() as session:
            return await WebhookRepository(session).next_due()

    async def fan_out(self) -> bool:
        """Make the deliveries of the events after the cursor and move it past them, in one
        transaction; whether any delivery was made."""
        async with self._rt.sessions.begin() as session:
            repo = WebhookRepository(session)
            after = await repo.cursor()
            top = await repo.newest_event()
            if top <= after:
                return False
            hooks = await repo.enabled()
            if not hooks:  # nobody to send to (a webhook registered later skips these anyway)
                return False
            by_project: dict[str | None, list[Webhook]] = {}
            for hook in hooks:
                by_project.setdefault(hook.project_id, []).append(hook)
            operators = by_project.pop(None, [])
            events = await repo.events_between(
                after,
                top,
                kinds={kind for hook in hooks if hook.project_id for kind in hook.events},
                projects=[p for p in by_project if p is not None],
                every_project={kind for hook in operators for kind in hook.events},
                limit=FAN_OUT,
            )
            now = utcnow()
            rows: list[dict[str, Any]] = []
            for event in events:
                for hook in (*by_project.get(event.project_id, ()), *operators):
                    if event.kind in hook.events and event.seq > hook.after_seq:
                        rows.append(self._delivery(hook, event, now))
            await repo.add_deliveries(rows)
            await repo.move_cursor(events[-1].seq if len(events) == FAN_OUT else top)
        return bool(rows)

    @staticmethod
    def _delivery(hook: Webhook, event: Logged, now: datetime) -> dict[str, Any]:
        kind = Kind(event.kind)
        return {
            "id": new_id(), "webhook_id": hook.id, "event_seq": event.seq,
            "event_type": kind.value, "message_id": "msg_" + new_id(), "replay": 0,
            "body": payloads.body(kind, event.project_id, event.payload, event.created_at),
            "status": "pending", "attempts": 0, "next_attempt_at": now,
            "last_attempt_at": None, "status_code": None, "error": None, "created_at": now,
        }  # fmt: skip

    async def round(self) -> bool:
        """Send the deliveries due now and record each answer; whether there were any."""
        async with self._rt.sessions.begin() as session:
            claimed = await WebhookRepository(session).claim_due(utcnow(), ROUND)
        if not claimed:
            return False
        outcomes = await asyncio.gather(*(self._send(c) for c in claimed))
        await self._record(list(zip(claimed, outcomes, strict=True)))
        return True

    async def _send(self, claimed: Claimed) -> Outcome:
        settings = self._rt.settings
        async with self._gate:
            try:
                if self._http is None:  # the first delivery: httpx is loaded now
                    self._http = delivery.client()
                return await delivery.post(
                    self._http,
                    claimed.url,
                    self._rt.secrets.open(claimed.secret_sealed),
                    claimed.message_id,
                    claimed.body.encode(),
                    seconds=settings.webhook_timeout_seconds,
                    allow_private=settings.webhook_allow_private,
                )
            except Exception as exc:  # a bug or an unmapped failure: logged, retried later
                log.exception("webhook delivery failed", extra={"delivery_id": claimed.id})
                return Outcome(error=f"delivery failed: {type(exc).__name__}")

    def _values(self, claimed: Claimed, outcome: Outcome, now: datetime) -> dict[str, Any]:
        """The delivery row after ``outcome``: delivered, failed, or due again later."""
        row: dict[str, Any] = {
            "id": claimed.id, "claimed": claimed.attempts, "status": "failed",
            "status_code": outcome.status_code, "error": outcome.error, "next_attempt_at": None,
        }  # fmt: skip
        if outcome.delivered:
            row["status"] = "delivered"
        elif not outcome.gone:
            base = self._rt.settings.webhook_retry_seconds
            when = next_attempt(
                claimed.attempts, claimed.created_at, now, base, self._rng, outcome.retry_after
            )
            if when is None:
                row["error"] = f"gave up after {claimed.attempts} attempts: {outcome.error}"
            else:
                row["status"], row["next_attempt_at"] = "pending", when
        return row

    async def _record(self, done: list[tuple[Claimed, Outcome]]) -> None:
        now = utcnow()
        rows = [self._values(claimed, outcome, now) for claimed, outcome in done]
        gone = {c.webhook_id: f"the receiver answered 410 Gone at {now:%Y-%m-%d %H:%M}Z"
                for c, outcome in done if outcome.gone}  # fmt: skip

        async def write() -> None:
            async with self._rt.sessions.begin() as session:
                repo = WebhookRepository(session)
                await repo.record_all(rows)
                for webhook_id, reason in gone.items():
                    await repo.disable(webhook_id, reason, now)

        await self.recorded(write)
        for row in rows:
            log.info(
                "webhook delivery %s", row["status"],
                extra={"delivery_id": row["id"], "status_code": row["status_code"]},
            )  # fmt: skip
