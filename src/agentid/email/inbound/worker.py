"""The parse worker: committed message ids -> digested in the background -> events.

Runs just after the spool commits; a message shows in the inbox and wakes its waiters once
it is digested. Digesting happens in worker processes, so parsing never holds up the
event loop: a burst of mail is accepted at full speed and parsed as the CPU allows.
On start it queues anything committed but not yet parsed (a crash between the two loses
nothing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from sqlalchemy import Engine, select

from agentid.email.inbound import processes
from agentid.email.inbound.digest import (
    Digested,
    digest,
    digest_in_process,
    init_process,
    mark_undigestible,
    warm_up,
)
from agentid.email.inbound.spool import Arrival
from agentid.events import Event
from agentid.runtime import Runtime
from agentid.store.db import create_sync_engine
from agentid.store.tables import Message

log = logging.getLogger("agentid.parse")

BATCH_MAX = 64


class ParseWorker:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._pool: ProcessPoolExecutor | None = None
        self._engine: Engine | None = None
        self.parsed = 0

    def start(self) -> None:
        settings = self._rt.settings
        if settings.parse_processes == 0:
            self._engine = create_sync_engine(settings, durable=False)
        else:
            self._pool = ProcessPoolExecutor(
                settings.parse_processes,
                mp_context=processes.context(),
                initializer=init_process,
                initargs=(
                    settings.resolved_database_url(sync=True),
                    settings.database_schema,
                ),
            )
            for _ in range(settings.parse_processes):
                self._pool.submit(warm_up)
        lanes = max(1, settings.parse_processes)
        self._tasks = [
            asyncio.create_task(self._run(), name=f"agentid-parse-{n}") for n in range(lanes)
        ]

    async def stop(self) -> None:
        """Finish what is queued (it is durable anyway: a restart would pick it up), then end."""
        for _ in self._tasks:
            await self._queue.put(None)
        await asyncio.gather(*self._tasks)
        self._tasks = []
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def committed(self, arrivals: Sequence[Arrival]) -> None:
        for arrival in arrivals:
            for message_id in arrival.message_ids.values():
                self._queue.put_nowait(message_id)

    async def recover(self) -> int:
        """Queue every message committed but never parsed (after a crash)."""
        async with self._rt.sessions() as session:
            ids = list(
                (
                    await session.scalars(
                        select(Message.id).where(Message.status == "received").order_by(Message.id)
                    )
                ).all()
            )
        for message_id in ids:
            self._queue.put_nowait(message_id)
        if ids:
            log.info("recovering unparsed messages", extra={"count": len(ids)})
        return len(ids)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch, end = [first], False
            while len(batch) < BATCH_MAX:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    end = True
                    break
                batch.append(item)
            try:
                self._publish(await self._digest(batch))
            except Exception:
                log.exception("digesting a batch failed", extra={"count": len(batch)})
                await self._one_by_one(batch)
            if end:
                return

    async def _one_by_one(self, ids: list[str]) -> None:
        """After a failed batch: digest each message alone, so one bad message hides none
        of the others; one that still fails is shown flagged with its envelope."""
        for message_id in ids:
            try:
                self._publish(await self._digest([message_id]))
            except Exception as exc:
                log.exception("digesting a message failed", extra={"id": message_id})
                error = f"could not be digested: {type(exc).__name__}"
                try:
                    self._publish(await self._in_thread(mark_undigestible, message_id, error))
                except Exception:  # the store itself is failing: recovery retries at start
                    log.exception("flagging a message failed", extra={"id": message_id})

    async def _digest(self, ids: list[str]) -> list[Digested]:
        if self._engine is not None:
            return await asyncio.to_thread(digest, self._engine, ids)
        assert self._pool is not None
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, digest_in_process, ids)
        except BrokenProcessPool:
            log.error("a parse process died; digesting this batch in a thread")
            engine = create_sync_engine(self._rt.settings, durable=False)
            try:
                return await asyncio.to_thread(digest, engine, ids)
            finally:
                engine.dispose()

    async def _in_thread(
        self, fn: Callable[[Engine, str, str], list[Digested]], *args: str
    ) -> list[Digested]:
        if self._engine is not None:
            return await asyncio.to_thread(fn, self._engine, *args)
        engine = create_sync_engine(self._rt.settings)
        try:
            return await asyncio.to_thread(fn, engine, *args)
        finally:
            engine.dispose()

    def _publish(self, digested: list[Digested]) -> None:
        self.parsed += len(digested)
        for d in digested:
            self._rt.bus.publish(Event(d.project_id, "message.received", d.entry))
            if d.code is not None:
                data = {"message_id": d.entry["id"], **d.code}
                self._rt.bus.publish(Event(d.project_id, "code.found", data))
