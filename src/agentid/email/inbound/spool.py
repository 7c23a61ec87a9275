"""Durable group commit: SMTP says 250 only after the message is in the store.

Every DATA handler submits its envelope and waits; one writer thread takes all that is
waiting, writes it in a single transaction (one fsync for the batch: SQLite runs with
synchronous=FULL, PostgreSQL flushes its WAL at COMMIT) and then wakes the handlers.
The thread keeps this work off the event loop. Committed messages go on to the parse
worker.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert

from agentid.ids import new_id
from agentid.runtime import Runtime
from agentid.store.db import create_sync_engine
from agentid.store.tables import Message, MessageRaw, MessageRecipient, table_of

log = logging.getLogger("agentid.spool")

BATCH_MAX_MESSAGES = 256
BATCH_MAX_BYTES = 64 * 1024 * 1024
SWITCH_INTERVAL = 0.0005


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
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0
        self.messages = 0
        self.write_seconds = 0.0

    def start(self) -> None:
        # The writer thread must get the GIL back quickly after each fsync, or every
        # handler waiting on the batch waits a whole switch interval (5 ms) more.
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
        self._loop = asyncio.get_running_loop()
        self._engine = create_sync_engine(self._rt.settings)
        self._thread = threading.Thread(target=self._run, name="agentid-spool", daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        """Write everything submitted so far, then end the writer."""
        if self._thread is None:
            return
        self._queue.put(None)
        await asyncio.to_thread(self._thread.join)
        self._thread = None
        log.info(
            "spool stopped",
            extra={
                "batches": self.batches,
                "messages": self.messages,
                "write_seconds": round(self.write_seconds, 3),
            },
        )
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    async def submit(self, arrival: Arrival) -> None:
        """Return once ``arrival`` is durably committed; raise if it could not be."""
        if self._thread is None or not self._thread.is_alive():
            raise RuntimeError("the spool is not running")
        for project_id in arrival.recipients:
            arrival.message_ids[project_id] = new_id()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.put(_Pending(arrival, done))
        await asyncio.shield(done)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, size, end = [first], len(first.arrival.raw), False
            while len(batch) < BATCH_MAX_MESSAGES and size < BATCH_MAX_BYTES:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    end = True
                    break
                batch.append(item)
                size += len(item.arrival.raw)
            error: Exception | None = None
            started = time.perf_counter()
            try:
                self._write([p.arrival for p in batch])
            except Exception as exc:
                log.exception("spool write failed", extra={"messages": len(batch)})
                error = exc
            self.write_seconds += time.perf_counter() - started
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._finish, batch, error)
            if end:
                return

    def _write(self, arrivals: list[Arrival]) -> None:
        messages: list[dict[str, Any]] = []
        raws: list[dict[str, Any]] = []
        recipients: list[dict[str, Any]] = []
        for a in arrivals:
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
        assert self._engine is not None
        with self._engine.begin() as conn:
            conn.execute(insert(table_of(Message)), messages)
            conn.execute(insert(table_of(MessageRaw)), raws)
            conn.execute(insert(table_of(MessageRecipient)), recipients)

    def _finish(self, batch: list[_Pending], error: Exception | None) -> None:
        for pending in batch:
            if pending.done.done():
                continue
            if error is None:
                pending.done.set_result(None)
            else:
                pending.done.set_exception(error)
        if error is None:
            self.batches += 1
            self.messages += len(batch)
            self._committed([p.arrival for p in batch])
