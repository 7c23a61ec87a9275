"""Durable group commit: SMTP says 250 only after the message is in the store.

Every DATA handler submits its envelope and waits; one writer task takes all that is
waiting, writes it in a single transaction (one fsync for the batch: SQLite runs with
synchronous=FULL, PostgreSQL with its WAL flush at COMMIT) and then wakes the handlers.
Committed messages go on to the parse worker.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert

from agentid.ids import new_id
from agentid.runtime import Runtime
from agentid.store.tables import Message, MessageRaw, MessageRecipient

log = logging.getLogger("agentid.spool")

BATCH_MAX_MESSAGES = 256
BATCH_MAX_BYTES = 64 * 1024 * 1024


@dataclass(slots=True)
class Arrival:
    """One SMTP transaction's message, split per project (stored once per project)."""

    mail_from: str
    recipients: dict[str, list[str]]  # project id -> its envelope recipients
    raw: bytes
    peer: str | None
    helo: str | None
    received_at: datetime
    message_ids: dict[str, str] = field(default_factory=dict)  # project id -> message id


@dataclass(slots=True)
class _Pending:
    arrival: Arrival
    done: asyncio.Future[None]


class Spool:
    def __init__(self, runtime: Runtime, committed: Callable[[Sequence[Arrival]], None]) -> None:
        self._rt = runtime
        self._committed = committed
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agentid-spool")

    async def stop(self) -> None:
        """Write everything submitted so far, then end the writer."""
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None

    async def submit(self, arrival: Arrival) -> None:
        """Return once ``arrival`` is durably committed; raise if it could not be."""
        if self._task is None or self._task.done():
            raise RuntimeError("the spool is not running")
        for project_id in arrival.recipients:
            arrival.message_ids[project_id] = new_id()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(arrival, done))
        await asyncio.shield(done)

    async def _run(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch, size = [first], len(first.arrival.raw)
            while len(batch) < BATCH_MAX_MESSAGES and size < BATCH_MAX_BYTES:
                try:
                    item = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if item is None:
                    stopping = True
                    break
                batch.append(item)
                size += len(item.arrival.raw)
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        messages: list[dict[str, object]] = []
        raws: list[dict[str, object]] = []
        recipients: list[dict[str, object]] = []
        for pending in batch:
            a = pending.arrival
            for project_id, rcpts in a.recipients.items():
                mid = a.message_ids[project_id]
                messages.append(
                    {
                        "id": mid,
                        "project_id": project_id,
                        "direction": "inbound",
                        "received_at": a.received_at,
                        "mail_from": a.mail_from,
                        "rcpt_to": rcpts,
                        "peer": a.peer,
                        "helo": a.helo,
                        "size": len(a.raw),
                        "status": "received",
                        "has_attachments": False,
                        "unread": True,
                    }
                )
                raws.append({"message_id": mid, "data": a.raw})
                recipients.extend({"message_id": mid, "address": r} for r in dict.fromkeys(rcpts))
        try:
            async with self._rt.sessions.begin() as session:
                await session.execute(insert(Message), messages)
                await session.execute(insert(MessageRaw), raws)
                await session.execute(insert(MessageRecipient), recipients)
        except Exception as exc:
            log.exception("spool write failed", extra={"messages": len(messages)})
            for pending in batch:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        self.batches += 1
        for pending in batch:
            if not pending.done.done():
                pending.done.set_result(None)
        self._committed([p.arrival for p in batch])
