"""The parse worker: committed messages -> digested in the background -> events.

Runs just after the spool commits; a message shows in the inbox and wakes its waiters once
it is digested. Digesting happens in supervised worker processes (one lane each), fed
fairly by ``DigestQueue``, so neither a burst nor a hostile message holds up anyone else:

- a message that overruns its budget, or on which a worker dies twice, is stored flagged
  with the reason, listed and readable; the rest of its batch goes back in line;
- a store that fails for a passing reason (locked, disk full, connection lost) is retried
  with backoff and flags nothing; the part shows as down on ``/healthz`` meanwhile.

Each process digests the messages it committed (``claims``). On start it claims and
queues everything committed but not digested whose process is gone, including messages
an older version flagged for a store failure rather than for their content; on
PostgreSQL one process of the cluster keeps doing so every few seconds, so what a process
that died had not digested yet is digested by another without waiting for a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from collections.abc import Sequence

from sqlalchemy import Engine
from sqlalchemy import update

from agentid.email.inbound import claims
from agentid.email.inbound.digested import Digested
from agentid.email.inbound.digested import mark_undigestible
from agentid.email.inbound.digested import signals
from agentid.email.inbound.lanes import PART
from agentid.email.inbound.lanes import Outcome
from agentid.email.inbound.lanes import ProcessLane
from agentid.email.inbound.lanes import ThreadLane
from agentid.email.inbound.parse_process import Terms
from agentid.email.inbound.schedule import DigestQueue
from agentid.email.inbound.schedule import Item
from agentid.email.inbound.spool import Arrival
from agentid.email.inbound.verdict_records import Pending
from agentid.email.inbound.verdict_records import recovered
from agentid.runtime import Runtime
from agentid.store.db import create_sync_engine
from agentid.store.engines import describe
from agentid.store.leader import periodically
from agentid.store.tables import Message
from agentid.workers import Loop

log = logging.getLogger("agentid.parse")

BATCH_MAX = 64
BATCH_MAX_BYTES = 16 * 1024 * 1024  # raw messages a worker loads at once; a larger one alone
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 10.0
LEGACY_TRANSIENT_FLAG = "could not be digested:%"  # what versions before 0.2 wrote
SET_APART_SECONDS = 60.0  # a project whose mail overran the budget waits behind the rest


class ParseWorker:
    def __init__(
        self,
        runtime: Runtime,
        then: Callable[[list[Digested]], None] | None = None,
        recheck: Callable[[list[Pending]], None] | None = None,
    ) -> None:
        self._rt = runtime
        self._then = then  # what digested messages go on to (the verdict stage)
        self._recheck = recheck  # what gone processes left without a verdict goes to
        self.queue = DigestQueue(runtime.settings.max_digest_lag_seconds)
        self.lanes: list[ProcessLane | ThreadLane] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._engine: Engine | None = None  # for flagging, in threads
        self._claiming = Loop("agentid-digest-claims")
        self._backoff = 0.0
        self.parsed = 0

    async def start(self) -> None:
        settings = self._rt.settings
        self._engine = create_sync_engine(settings)
        # the lanes digest what this process owns, and their commits tell the others
        terms = Terms(
            settings.mime_limits(),
            settings.authserv(),
            self._rt.leader.node,
            self._rt.bus.notifier,
            settings.digest_budget_seconds,
        )
        if settings.parse_processes == 0:
            self.lanes = [ThreadLane(settings, terms)]
        else:
            self.lanes = [
                ProcessLane(settings, self._rt.health, f"agentid-parse-{n}", terms)
                for n in range(settings.parse_processes)
            ]
        await asyncio.gather(*(lane.start() for lane in self.lanes))
        self._tasks = [
            asyncio.create_task(self._run(lane), name=f"agentid-parse-lane-{n}")
            for n, lane in enumerate(self.lanes)
        ]

    async def stop(self) -> None:
        """End after the batches in hand (the rest is durable: another process, or this
        one's restart, claims it)."""
        await self._claiming.end()
        self.queue.close()
        await asyncio.gather(*self._tasks)
        self._tasks = []
        await asyncio.gather(*(lane.stop() for lane in self.lanes))
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def committed(self, arrivals: Sequence[Arrival]) -> None:
        for arrival in arrivals:
            for project_id, message_id in arrival.message_ids.items():
                if project_id in arrival.stored_before:  # digested when it was stored
                    continue
                address = arrival.recipients[project_id][0]
                self.queue.put(Item(message_id, project_id, arrival.size, address))

    async def recover(self) -> int:
        """Claim and queue every message committed but never digested by a process that
        is gone (this one before a crash, or another); then, on PostgreSQL, keep claiming
        what processes that go leave (one process of the cluster does). How many now."""
        async with self._rt.sessions.begin() as session:
            await session.execute(
                update(Message)
                .where(
                    Message.status == "parse_error",
                    Message.parse_error.like(LEGACY_TRANSIENT_FLAG),
                )
                .values(status="received", parse_error=None, digest_owner=None)
            )
        claimed = await claims.claim_orphans(self._rt)
        for item in claimed:
            self.queue.put(item)
        if self._rt.leader.shared:
            leader = self._rt.leader
            self._claiming.begin(
                periodically(leader, claims.JOB, claims.CLAIM_SECONDS, self._claim_pass)
            )
        return len(claimed)

    async def _claim_pass(self) -> None:
        """Claim what gone processes left undigested, and (when mail gets a verdict) what
        they left unchecked. What is claimed is handed on at once: it is this process's
        from the commit on, and no other claims it while this one lives."""
        settings = self._rt.settings
        try:
            for item in await claims.claim_orphans(self._rt):
                self.queue.put(item)
            if self._recheck is not None and settings.inbound_auth:
                unchecked = await claims.claim_unchecked(self._rt)
                if unchecked:
                    self._recheck(recovered(unchecked, settings.auth_timeout_seconds))
        except Exception as exc:  # the store is failing: the next pass looks again
            log.warning("claiming from gone processes failed", extra={"error": describe(exc)})

    async def _run(self, lane: ProcessLane | ThreadLane) -> None:
        while True:
            batch = self._within_bytes(await self.queue.take(BATCH_MAX, BATCH_MAX_BYTES))
            if not batch:
                return
            try:
                await self._settle(lane, batch, await lane.digest([i.message_id for i in batch]))
            except Exception:  # never lose the lane: what is not digested is durable
                log.exception("digest lane error", extra={"count": len(batch)})
                self.queue.put_back(batch)
                await asyncio.sleep(BACKOFF_MAX)

    def _within_bytes(self, batch: list[Item]) -> list[Item]:
        """At most ``BATCH_MAX_BYTES`` of raw messages, or one message: the queue stops
        only once the bound is reached, so its last pick may cross it; that one goes back
        first in line, for the next batch."""
        size = 0
        for n, item in enumerate(batch):
            size += item.size
            if n and size > BATCH_MAX_BYTES:
                self.queue.put_back(batch[n:])
                return batch[:n]
        return batch

    async def _settle(
        self, lane: ProcessLane | ThreadLane, batch: list[Item], outcome: Outcome
    ) -> None:
        by_id = {item.message_id: item for item in batch}
        culprit = by_id.get(outcome.culprit or "")
        if outcome.kind == "stored":
            self._store_ok()
            self._publish(list(outcome.digested), told=True)
        elif outcome.kind == "overran":
            assert culprit is not None
            budget = self._rt.settings.digest_budget_seconds
            self.queue.set_apart(culprit.project_id, SET_APART_SECONDS)
            await self._flag(culprit, f"took longer than the digest budget ({budget:g} s)")
            self.queue.put_back(i for i in batch if i is not culprit)
        elif outcome.kind == "died":
            if culprit is not None:
                self.queue.set_apart(culprit.project_id, SET_APART_SECONDS)
            if culprit is not None and (culprit.suspect or len(batch) == 1):
                await self._flag(culprit, "the parse worker died reading it")
                batch = [i for i in batch if i is not culprit]
            elif culprit is not None:
                culprit.suspect = True  # once more, alone, before it is blamed
            self.queue.put_back(batch)
        elif outcome.kind == "transient":
            self._rt.health.mark_down(PART, f"store unavailable: {outcome.reason}")
            self.queue.put_back(batch)
            self._backoff = min(BACKOFF_MAX, max(BACKOFF_FIRST, self._backoff * 2))
            await asyncio.sleep(self._backoff)
        elif len(batch) > 1:  # failed: find which message it was, one at a time
            for item in batch:
                await self._settle(lane, [item], await lane.digest([item.message_id]))
        else:
            await self._flag(batch[0], f"could not be stored: {outcome.reason[:200]}")

    def _store_ok(self) -> None:
        if self._backoff:
            self._backoff = 0.0
            self._rt.health.mark_up(PART)

    async def _flag(self, item: Item, reason: str) -> None:
        """Show a message that cannot be digested: stored, flagged, listed, readable."""
        assert self._engine is not None
        try:
            flagged = await asyncio.to_thread(
                mark_undigestible, self._engine, item.message_id, reason, self._rt.leader.node
            )
        except Exception:  # the store itself is failing: digest it again later
            log.warning("flagging a message failed", extra={"id": item.message_id})
            item.suspect = True
            self.queue.put_back([item])
            return
        log.warning("message flagged", extra={"id": item.message_id, "reason": reason})
        self._publish(flagged, told=False)

    def _publish(self, digested: list[Digested], *, told: bool) -> None:
        """Wake this process's waiters, and the other processes' unless the lane's commit
        ``told`` them already (``digest``'s notifier)."""
        self.parsed += len(digested)
        publish = self._rt.bus.deliver if told else self._rt.bus.publish
        for signal in signals(digested):
            publish(signal)
        if self._then is not None:
            self._then(digested)
