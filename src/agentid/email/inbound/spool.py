"""Durable group commit: SMTP says 250 only after the message is in the store.

Every DATA handler submits its envelope and waits. A writer process takes everything
waiting as one batch and writes it in a single transaction (one fsync for the batch:
SQLite runs with synchronous=FULL, PostgreSQL flushes its WAL at COMMIT); while it
writes, the next batch gathers. The writer is a process, not a thread, so the commit
never competes with the SMTP sessions for the event loop's interpreter lock.
Committed messages go on to the parse worker.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import pickle
import socket
import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agentid.email.inbound import processes
from agentid.email.inbound.spool_writer import Batch, write_forever
from agentid.ids import new_id
from agentid.runtime import Runtime

log = logging.getLogger("agentid.spool")

BATCH_MAX_MESSAGES = 256
BATCH_MAX_BYTES = 64 * 1024 * 1024
FRAME = struct.Struct("!Q")


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


class SpoolError(Exception):
    """The batch holding a message could not be committed."""


class Spool:
    def __init__(self, runtime: Runtime, committed: Callable[[Sequence[Arrival]], None]) -> None:
        self._rt = runtime
        self._committed = committed
        self._waiting: list[_Pending] = []
        self._in_flight: list[_Pending] = []
        self._process: multiprocessing.process.BaseProcess | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._acks: asyncio.Task[None] | None = None
        self._flushed = asyncio.Event()
        self.batches = 0
        self.messages = 0

    async def start(self) -> None:
        ours, theirs = socket.socketpair()
        settings = self._rt.settings
        context = processes.context()
        self._process = context.Process(
            target=write_forever,
            args=(theirs, settings.resolved_database_url(sync=True), settings.database_schema),
            name="agentid-spool",
            daemon=True,
        )
        self._process.start()
        theirs.close()
        self._reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        self._acks = asyncio.create_task(self._read_acks(), name="agentid-spool-acks")

    async def stop(self) -> None:
        """Commit everything submitted so far, then end the writer."""
        while self._waiting or self._in_flight:
            self._flushed.clear()
            await self._flushed.wait()
        if self._writer is not None:
            self._writer.close()
        if self._acks is not None:
            await self._acks
        if self._process is not None:
            await asyncio.to_thread(self._process.join, 10)
            if self._process.is_alive():
                self._process.kill()
        log.info("spool stopped", extra={"batches": self.batches, "messages": self.messages})

    async def submit(self, arrival: Arrival) -> None:
        """Return once ``arrival`` is durably committed; raise if it could not be."""
        if self._acks is None or self._acks.done():
            raise SpoolError("the spool writer is not running")
        for project_id in arrival.recipients:
            arrival.message_ids[project_id] = new_id()
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(_Pending(arrival, done))
        if not self._in_flight:
            self._send()
        await asyncio.shield(done)

    def _send(self) -> None:
        """Hand everything waiting (up to the batch limits) to the writer."""
        count, size = 0, 0
        for pending in self._waiting[:BATCH_MAX_MESSAGES]:
            if size >= BATCH_MAX_BYTES:
                break
            count += 1
            size += len(pending.arrival.raw)
        batch, self._waiting = self._waiting[:count], self._waiting[count:]
        self._in_flight = batch
        payload = pickle.dumps(batch_of([p.arrival for p in batch]), pickle.HIGHEST_PROTOCOL)
        assert self._writer is not None
        self._writer.writelines((FRAME.pack(len(payload)), payload))  # no copy of the batch

    async def _read_acks(self) -> None:
        assert self._reader is not None
        try:
            while True:
                (length,) = FRAME.unpack(await self._reader.readexactly(FRAME.size))
                # Our own writer process, over a private socketpair: trusted bytes.
                error: str | None = pickle.loads(await self._reader.readexactly(length))  # noqa: S301
                self._finish(error)
        except (asyncio.IncompleteReadError, ConnectionError):
            if self._in_flight or self._waiting:
                log.error("the spool writer went away", extra={"waiting": len(self._waiting)})
        finally:
            for pending in self._in_flight + self._waiting:
                if not pending.done.done():
                    pending.done.set_exception(SpoolError("the spool writer went away"))
            self._in_flight, self._waiting = [], []
            self._flushed.set()

    def _finish(self, error: str | None) -> None:
        batch, self._in_flight = self._in_flight, []
        for pending in batch:
            if pending.done.done():
                continue
            if error is None:
                pending.done.set_result(None)
            else:
                pending.done.set_exception(SpoolError(error))
        if error is None:
            self.batches += 1
            self.messages += len(batch)
            self._committed([p.arrival for p in batch])
        else:
            log.error("spool write failed", extra={"messages": len(batch), "error": error})
        if self._waiting:
            self._send()
        else:
            self._flushed.set()


def batch_of(arrivals: list[Arrival]) -> Batch:
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
    return Batch(messages, raws, recipients)
