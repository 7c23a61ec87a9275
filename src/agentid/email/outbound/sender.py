"""The outbox's worker: delivers queued mail, retries what may pass, records every result.

Each round takes the recipients whose attempt is due, claims them (``sending``, one
attempt more: committed before anything is sent), delivers each message's recipients
together per route, and records each recipient's result. Addresses hosted by this
agentid are delivered locally, through the receiving spool, whatever the relay; others go
to the project's relay (its own account, else ``AGENTID_RELAY_URL``); with none, they fail
at once ("no relay configured"): never dropped, never pretended sent.

A transient failure (SMTP 4xx, HTTP 429/5xx, a connection that fails) defers the
recipient with exponential backoff and jitter, up to ``AGENTID_SEND_MAX_ATTEMPTS``;
a permanent one fails it with the relay's reason, and a refused mailbox (5.1.x) joins the
project's suppression list. Delivery is at-least-once: a recipient still ``sending`` when
the service stopped is queued again at start and sent with the same bytes and Message-ID,
so a receiver can drop the duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta
from typing import Any

from agentid.email.inbound.routing import RELAY_DENIED
from agentid.email.inbound.routing import Accept
from agentid.email.inbound.routing import RecipientRouter
from agentid.email.inbound.spool import Arrival
from agentid.email.inbound.spool import Spool
from agentid.email.inbound.spool import SpoolError
from agentid.email.outbound.relays import Relays
from agentid.email.outbound.repository import Due
from agentid.email.outbound.repository import OutboxRepository
from agentid.email.outbound.repository import Stored
from agentid.email.outbound.service import outbound_event
from agentid.email.outbound.service import settle
from agentid.errors import ProviderError
from agentid.errors import ProviderRateLimited
from agentid.errors import ProviderUnavailable
from agentid.errors import ValidationFailed
from agentid.events import Kind
from agentid.events import Signal
from agentid.providers.base import MailRelay
from agentid.providers.base import Refusal
from agentid.providers.base import Sent
from agentid.providers.registry import Transports
from agentid.queue_worker import QueueWorker
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.times import utcnow

JOB = "outbox"  # its name for store/leader
log = logging.getLogger("agentid.outbox")

ROUND = 64  # recipients taken per round
IDLE_SECONDS = 5.0  # the longest sleep between looks at the outbox
_ENHANCED = re.compile(r"^\s*([245])\.(\d{1,3})\.(\d{1,3})\b")


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one recipient."""

    status: str
    error: str | None = None
    provider_id: str | None = None
    retry_after: float | None = None
    suppress: bool = False


def backoff(base: float, most: float, attempts: int, rng: random.Random) -> float:
    """Seconds before the next attempt: base doubling per attempt, ±20% jitter, capped."""
    delay: float = min(most, base * float(1 << min(max(attempts - 1, 0), 30)))
    return delay * rng.uniform(0.8, 1.2)


def gone(refusal: Refusal) -> bool:
    """Does the relay say the mailbox does not exist (suppress it)? An enhanced status
    5.1.x says so; without one, 550, 551 or 553 does. ``550 5.7.1`` (policy) does not."""
    enhanced = _ENHANCED.match(refusal.reply)
    if enhanced is not None:
        return enhanced.group(1) == "5" and enhanced.group(2) == "1"
    return refusal.code in (550, 551, 553)


def relay_results(sent: Sent, addresses: Sequence[str]) -> dict[str, Result]:
    refused = {r.recipient.lower(): r for r in sent.refused}
    out: dict[str, Result] = {}
    for address in addresses:
        r = refused.get(address.lower())
        if r is None:
            out[address] = Result("sent", provider_id=sent.message_id)
        elif 400 <= r.code < 500:
            out[address] = Result("deferred", error=f"{r.code} {r.reply}")
        else:
            out[address] = Result("failed", error=f"{r.code} {r.reply}", suppress=gone(r))
    return out


class OutboxSender(QueueWorker):
    """The outbox worker (a ``Worker``): ``wake()`` after queueing starts a round now.
    The process that takes the job over first sends again what its predecessor had in
    flight."""

    job = JOB
    idle = IDLE_SECONDS

    def __init__(
        self,
        rt: Runtime,
        transports: Transports,
        router: RecipientRouter,
        spool: Spool,
        *,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__(rt)
        self._transports = transports
        self._router = router
        self._spool = spool
        self._rng = rng or random.Random()
        self._gate = asyncio.Semaphore(rt.settings.send_concurrency)
        self.relays = Relays(rt, transports)

    @property
    def transports(self) -> Transports:
        return self._transports

    def wake(self) -> None:
        """Mail was queued: the process running the outbox (this one or another) looks."""
        self._rt.bus.publish(Signal("", Kind.OUTBOX_DUE))

    async def hosted(self, address: str) -> bool:
        """Is ``address``'s domain one this agentid receives for?"""
        routed = await self._router.route(address)
        return isinstance(routed, Accept) or routed != RELAY_DENIED

    async def start(self) -> None:
        self._rt.bus.subscribe(Kind.OUTBOX_DUE, lambda _: self._wake.set())
        self._loop.begin(self._run())

    async def _work(self) -> bool:
        return await self.round()

    def _failed(self) -> None:
        log.exception("outbox round failed")

    async def _restart_interrupted(self) -> None:
        async with self._rt.sessions.begin() as session:
            again = await OutboxRepository(session).restart_interrupted(utcnow())
        if again:
            log.info("outbox: attempts cut off by a stop go again", extra={"recipients": again})

    async def _next_due(self) -> datetime | None:
        async with self._rt.sessions() as session:
            return await OutboxRepository(session).next_due()

    async def round(self) -> bool:
        """Deliver what is due now; whether there was anything. One transaction claims the
        round's recipients, one records what became of them: the store is not the pace.
        Each (project, relay choice) is resolved once a round."""
        now = utcnow()
        async with self._rt.sessions.begin() as session:
            repo = OutboxRepository(session)
            due = await repo.claim_due(now, ROUND)
            stored = await repo.raws([d.outbound_id for d in due])
        if not due:
            return False
        ready = [d for d in due if d.outbound_id in stored]  # a message deleted meanwhile: none
        relays: dict[tuple[str, str | None], asyncio.Future[MailRelay | None]] = {}
        for d in ready:
            key = (d.project_id, stored[d.outbound_id].relay)
            if d.route != "local" and key not in relays:
                relays[key] = asyncio.ensure_future(self.relays.of(*key))
        delivered = await asyncio.gather(
            *(self._deliver(d, stored[d.outbound_id], relays) for d in ready)
        )
        await self._record(list(zip(ready, delivered, strict=True)))
        return True

    async def _deliver(
        self,
        due: Due,
        stored: Stored,
        relays: dict[tuple[str, str | None], asyncio.Future[MailRelay | None]],
    ) -> dict[str, Result]:
        """What became of ``due``'s recipients; whatever goes wrong defers them (the
        round is recorded in any case: nothing stays ``sending`` until a restart)."""
        async with self._gate:
            try:
                if due.route == "local":
                    return await self._local(stored.mail_from, list(due.addresses), stored.raw)
                found = relays[(due.project_id, stored.relay)]
                return await self._relay(found, stored.mail_from, list(due.addresses), stored.raw)
            except Exception as exc:  # a bug or an unmapped failure: logged, retried later
                log.exception("outbox delivery failed", extra={"outbound_id": due.outbound_id})
                why = f"delivery failed: {type(exc).__name__}"
                return {a: Result("deferred", error=why) for a in due.addresses}

    async def _local(self, mail_from: str, addresses: list[str], raw: bytes) -> dict[str, Result]:
        results: dict[str, Result] = {}
        projects: dict[str, list[str]] = {}
        for address in addresses:
            routed = await self._router.route(address)
            if isinstance(routed, Accept):
                projects.setdefault(routed.project_id, []).append(address)
            else:  # refused here: for good (5xx) or for now (4xx)
                status = "deferred" if routed.reply.startswith("4") else "failed"
                results[address] = Result(status, error=routed.reply)
        if not projects:
            return results
        arrival = Arrival(mail_from, projects, raw, peer="local", helo=None, received_at=utcnow())
        try:
            await self._spool.submit(arrival)
        except SpoolError as err:
            return results | {
                a: Result("deferred", error=str(err)) for p in projects.values() for a in p
            }
        for project_id, got in projects.items():
            stored = arrival.message_ids[project_id]
            results.update({a: Result("sent", provider_id=stored) for a in got})
        return results

    async def _relay(
        self,
        found: asyncio.Future[MailRelay | None],
        mail_from: str,
        addresses: list[str],
        raw: bytes,
    ) -> dict[str, Result]:
        """Through the chosen relay, in calls of at most its ``max_recipients``; each
        recipient settled by its own call's answer."""
        try:
            relay = await asyncio.shield(found)  # shared by the round's messages
        except ValidationFailed as err:
            return {a: Result("failed", error=f"relay: {err.message}") for a in addresses}
        if relay is None:
            return {a: Result("failed", error="no relay configured") for a in addresses}
        size = max(1, relay.max_recipients)
        results: dict[str, Result] = {}
        for start in range(0, len(addresses), size):
            batch = addresses[start : start + size]
            results.update(await self._relay_batch(relay, mail_from, batch, raw))
        return results

    async def _relay_batch(
        self, relay: MailRelay, mail_from: str, addresses: list[str], raw: bytes
    ) -> dict[str, Result]:
        try:
            sent = await relay.send(mail_from, addresses, raw)
        except ProviderRateLimited as err:
            return {
                a: Result("deferred", error=err.message, retry_after=err.retry_after)
                for a in addresses
            }
        except ProviderUnavailable as err:  # transient: no answer, 4xx, 5xx from an API
            return {a: Result("deferred", error=err.message) for a in addresses}
        except ProviderError as err:  # refused, bad credentials, a setting to fix: final
            return {a: Result("failed", error=err.message) for a in addresses}
        return relay_results(sent, addresses)

    def _values(self, due: Due, address: str, result: Result, now: datetime) -> dict[str, Any]:
        """The recipient row after ``result``: a transient failure past the last attempt
        fails; before it, the next attempt is set (backoff, never before Retry-After)."""
        settings = self._rt.settings
        values: dict[str, Any] = {
            "outbound_id": due.outbound_id, "address": address,
            "claimed": due.claims[address], "status": result.status,
            "error": result.error, "updated_at": now, "next_attempt_at": None,
        }  # fmt: skip
        if result.provider_id is not None:
            values["provider_message_id"] = result.provider_id
        if result.status == "deferred":
            tries = due.attempts.get(address, 1)
            if tries >= settings.send_max_attempts:
                values["status"] = "failed"
                values["error"] = f"gave up after {tries} attempts: {result.error}"
            else:
                delay = backoff(
                    settings.send_retry_seconds, settings.send_retry_max_seconds, tries, self._rng
                )
                delay = max(delay, result.retry_after or 0.0)
                values["next_attempt_at"] = now + timedelta(seconds=delay)
        return values

    async def _record(self, done: list[tuple[Due, dict[str, Result]]]) -> None:
        now = utcnow()
        rows = [self._values(d, a, r, now) for d, results in done for a, r in results.items()]
        gone = [
            {"project_id": d.project_id, "address": a.lower(), "reason": r.error or "refused",
             "created_at": now}
            for d, results in done for a, r in results.items() if r.suppress
        ]  # fmt: skip

        async def write() -> list[tuple[dict[str, Any], int]]:  # the events told, numbered
            async with self._rt.sessions.begin() as session:
                repo = OutboxRepository(session)
                await repo.record_all(rows)
                await repo.suppress(gone)
                events = await self._settle(repo, [d.outbound_id for d, _ in done])
                seqs = await event_log.append_async(session, events) if events else []
            return list(zip(events, seqs, strict=True))

        for event, seq in await self.recorded(write):
            self._rt.bus.publish(Signal(event["project_id"], Kind(event["kind"]), seq))
        for row in rows:
            log.info(
                "outbox recipient %s", row["status"],
                extra={"outbound_id": row["outbound_id"],
                       "recipient_domain": row["address"].rpartition("@")[2]},
            )  # fmt: skip

    async def _settle(self, repo: OutboxRepository, ids: list[str]) -> list[dict[str, Any]]:
        """Each message's status from its recipients'; for those it ended with now (no
        recipient is left to try in), the event saying how. A message that had ended
        before is told of no more: a late result, or a round's results written again
        after a commit whose answer was lost."""
        events = []
        for row, recipients, before in await settle(repo, ids):
            if row.status in ("sent", "partial", "failed") and row.status != before:
                kind = Kind.MESSAGE_FAILED if row.status == "failed" else Kind.MESSAGE_SENT
                events.append(outbound_event(row, recipients, kind))
        return events
