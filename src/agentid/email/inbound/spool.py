"""Durable group commit: SMTP says 250 only after the message is in the store.

Every DATA handler submits its envelope and waits. A writer process takes everything
waiting as one batch and writes it in a single transaction (one fsync for the batch:
SQLite runs with synchronous=FULL, PostgreSQL flushes its WAL at COMMIT); while it
writes, the next batch gathers. The writer is a process, not a thread, so the commit
never competes with the SMTP sessions for the event loop's interpreter lock.
Committed messages go on to the parse worker.

The writer is supervised: if it dies it is started again (0.1 s later, doubling to 2 s
while it keeps dying). Until then ``submit`` refuses at once (451), "spool-writer" is
down in ``runtime.health`` (/healthz 503, one log line). Nothing is acknowledged before
its batch commits. The batch the dead writer held goes to the next one, once: sending
it again is safe, as the writer skips rows already stored (ids are fixed before the
first send). If that writer dies too, or does not come up, the senders get 451.

A large message arrives in a file (``incoming.Spooled``): the batch carries its path,
not its bytes, and the writer reads the file itself. The spool owns that file from
``submit`` on and removes it once the message is committed or has failed, never before
(a batch may be sent again). Batches are bounded by bytes, files' sizes included.

A batch the store refuses outright (an error no retry fixes) is split: each of its messages
is sent again in a batch of its own, so one message the store will not take fails alone
(LMTP then answers 451 for its recipients only).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import socket
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from typing import Any

from agentid.email.inbound import frames
from agentid.email.inbound import processes
from agentid.email.inbound.incoming import Spooled
from agentid.email.inbound.incoming import clear_leftovers
from agentid.email.inbound.spool_writer import Batch
from agentid.email.inbound.spool_writer import Reply
from agentid.email.inbound.spool_writer import write_forever
from agentid.email.inbound.spooled_raw import SpooledRaw
from agentid.ids import new_id
from agentid.runtime import Runtime

log = logging.getLogger("agentid.spool")

BATCH_MAX_MESSAGES = 256
BATCH_MAX_BYTES = 16 * 1024 * 1024  # a larger message goes alone
PART = "spool-writer"  # its name in runtime.health and /healthz
RESTART_FIRST, RESTART_MAX = 0.1, 2.0  # seconds before starting a writer again
LAUNCH_TIMEOUT = 30.0  # for a new writer's READY (the first one boots the fork server)
MAX_SENDS = 2  # writers a message is handed to before it fails


@dataclass(slots=True)
class Arrival:
    """One SMTP transaction's message, split per project (stored once per project)."""

    mail_from: str
    recipients: dict[str, list[str]]  # project id -> its envelope recipients
    raw: bytes | Spooled  # the message as received: in memory, or in a file
    peer: str | None
    helo: str | None
    received_at: datetime
    message_ids: dict[str, str] = field(default_factory=dict)  # project id -> message id
    # an edge MTA's "host/queue id" (LMTP): the same delivery made again is stored once
    relay_key: str | None = None
    stored_before: set[str] = field(default_factory=set)  # projects it was a repeat for
    _settled: bool = False

    @property
    def size(self) -> int:
        return self.raw.size if isinstance(self.raw, Spooled) else len(self.raw)

    def settled(self) -> None:
        """Committed or failed: the file (if any) is no longer needed by this arrival."""
        if isinstance(self.raw, Spooled) and not self._settled:
            self.raw.discard()
        self._settled = True


@dataclass(slots=True)
class _Pending:
    arrival: Arrival
    done: asyncio.Future[None]
    sent: int = 0  # writers it was handed to
    alone: bool = False  # its batch was refused: it is sent again in a batch of its own


class SpoolError(Exception):
    """The message was not committed (451: try later). One line, no chained cause: while
    the writer is down every message fails alike, and ``runtime.health`` logged why."""


class Spool:
    def __init__(self, runtime: Runtime, committed: Callable[[Sequence[Arrival]], None]) -> None:
        self._rt = runtime
        self._committed = committed
        self._waiting: list[_Pending] = []
        self._in_flight: list[_Pending] = []
        self._process: multiprocessing.process.BaseProcess | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ready = False  # a writer is up and answering
        self._supervisor: asyncio.Task[None] | None = None
        self._closing = asyncio.Event()
        self._flushed = asyncio.Event()
        self._restart_delay = RESTART_FIRST
        self.batches = 0
        self.messages = 0
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        """The writer process's id while one is up."""
        return self._process.pid if self._ready and self._process is not None else None

    @property
    def in_flight(self) -> int:
        """Messages handed to the writer and not answered yet."""
        return len(self._in_flight)

    async def start(self) -> None:
        left = await asyncio.to_thread(clear_leftovers, self._rt.settings.data_dir)
        if left:
            log.info("removed messages a stopped server was receiving", extra={"count": left})
        await self._launch()
        self._supervisor = asyncio.create_task(self._supervise(), name="agentid-spool-writer")

    async def stop(self) -> None:
        """Commit everything submitted so far, then end the writer."""
        while self._waiting or self._in_flight:
            self._flushed.clear()
            await self._flushed.wait()
        self._closing.set()
        if self._writer is not None:
            self._writer.close()
        if self._supervisor is not None:
            await self._supervisor
        if self._process is not None:
            await processes.reap(self._process, 10)
        log.info("spool stopped", extra={"batches": self.batches, "messages": self.messages})

    async def submit(self, arrival: Arrival) -> None:
        """Return once ``arrival`` is durably committed; raise SpoolError if it could not be.
        Once queued, its file (if any) is the spool's, removed when it is settled."""
        if not self._ready or self._closing.is_set():
            raise SpoolError("the spool writer is not running")
        if isinstance(arrival.raw, Spooled):
            arrival.raw.take()
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
        limit = 1 if self._waiting[0].alone else BATCH_MAX_MESSAGES
        for pending in self._waiting[:limit]:
            if count and pending.alone:
                break
            if count and size + pending.arrival.size > BATCH_MAX_BYTES:
                break
            count += 1
            size += pending.arrival.size
            pending.sent += 1
        batch, self._waiting = self._waiting[:count], self._waiting[count:]
        self._in_flight = batch
        assert self._writer is not None
        frames.write(self._writer, batch_of([p.arrival for p in batch], self._rt.leader.node))

    async def _launch(self) -> None:
        """Start a writer process and wait for its READY; raise SpoolError if none comes."""
        settings = self._rt.settings
        ours, theirs = socket.socketpair()
        process = processes.context().Process(
            target=write_forever,
            args=(theirs, settings.resolved_database_url(sync=True), settings.database_schema),
            name="agentid-spool",
            daemon=True,
        )
        try:
            await asyncio.to_thread(process.start)  # the fork server may be slow to answer
        except Exception as exc:
            ours.close()
            raise SpoolError(f"could not start the spool writer: {exc}") from None
        finally:
            theirs.close()
        self._process = process
        reader, writer = await asyncio.open_unix_connection(sock=ours)
        try:
            reply = await asyncio.wait_for(_read_reply(reader), LAUNCH_TIMEOUT)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            reply = None
        if reply is None or reply.status != "ready":
            writer.close()
            await processes.reap(process, 0)
            why = f": {reply.error}" if reply is not None and reply.error else ""
            raise SpoolError(f"the spool writer did not start{why}")
        self._reader, self._writer, self._ready = reader, writer, True
        self._rt.health.mark_up(PART)

    async def _supervise(self) -> None:
        """Read the writer's answers; when it dies, hand its batch back and start another."""
        try:
            while True:
                await self._read_replies()
                self._ready = False
                if self._closing.is_set():
                    return
                self._rt.health.mark_down(PART, await self._reap())
                self._hand_back()
                while not self._ready:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._closing.wait(), self._restart_delay)
                        return  # stopping, and stop() saw nothing held: nothing to start
                    self._restart_delay = min(self._restart_delay * 2, RESTART_MAX)
                    try:
                        await self._launch()
                    except SpoolError as exc:
                        self._rt.health.mark_down(PART, str(exc))
                        self._fail(self._waiting, "the spool writer is not running")
                        self._waiting = []
                        self._settle()
                self.restarts += 1
                if self._closing.is_set() and self._writer is not None:
                    self._writer.close()  # stop() came while it started: end it at once
                elif self._waiting:
                    self._send()
        except Exception as exc:  # a bug here must not leave senders waiting forever
            log.exception("spool supervisor failed")
            self._rt.health.mark_down(PART, f"supervisor failed: {type(exc).__name__}")
        finally:
            self._ready = False
            self._fail(self._in_flight + self._waiting, "the spool writer is not running")
            self._in_flight, self._waiting = [], []
            self._settle()

    async def _read_replies(self) -> None:
        """Until the writer goes away (or is told to)."""
        assert self._reader is not None
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                self._finish(await _read_reply(self._reader))

    async def _reap(self) -> str:
        """Collect the dead writer; why it went away."""
        if self._writer is not None:
            self._writer.close()
        assert self._process is not None
        await asyncio.to_thread(self._process.join, 5)
        code = processes.closed(self._process)
        if code is None:
            self._process.kill()
            return "the writer process stopped answering"
        if code < 0:
            return f"the writer process was killed by {signal.Signals(-code).name}"
        return f"the writer process exited with status {code}"

    def _hand_back(self) -> None:
        """The batch the dead writer held goes first to the next one, unless it already
        outlived a writer (a batch that kills writers must not kill them all)."""
        again = [p for p in self._in_flight if p.sent < MAX_SENDS]
        lost = [p for p in self._in_flight if p.sent >= MAX_SENDS]
        self._fail(lost, "the spool writer died twice while storing this message")
        self._waiting[:0] = again
        self._in_flight = []

    def _finish(self, reply: Reply) -> None:
        batch, self._in_flight = self._in_flight, []
        if reply.status == "committed":
            for pending in batch:
                _stored_as(pending.arrival, reply.duplicates)
                if not pending.done.done():
                    pending.done.set_result(None)
                pending.arrival.settled()
            self.batches += 1
            self.messages += len(batch)
            self._restart_delay = RESTART_FIRST
            self._rt.health.mark_up(PART)
            self._committed([p.arrival for p in batch])
        elif reply.status == "unavailable":
            self._rt.health.mark_down(PART, f"the store keeps failing: {reply.error}")
            self._fail(batch, f"the store is unavailable: {reply.error}")
        elif len(batch) > 1:  # one message may spoil a batch: each goes again on its own
            for pending in batch:
                pending.alone = True
                pending.sent -= 1  # a refusal is not a writer's death
            self._waiting[:0] = batch
        else:
            log.error("spool batch rejected", extra={"messages": len(batch), "error": reply.error})
            self._fail(batch, f"the store refused the batch: {reply.error}")
        if self._waiting:
            self._send()
        self._settle()

    def _fail(self, pendings: list[_Pending], reason: str) -> None:
        for pending in pendings:
            if not pending.done.done():
                pending.done.set_exception(SpoolError(reason))
            pending.arrival.settled()

    def _settle(self) -> None:
        if not self._waiting and not self._in_flight:
            self._flushed.set()


def _stored_as(arrival: Arrival, duplicates: dict[str, str]) -> None:
    """Where the writer found a delivery made before, the message it was stored as."""
    for project_id, message_id in list(arrival.message_ids.items()):
        if message_id in duplicates:
            arrival.message_ids[project_id] = duplicates[message_id]
            arrival.stored_before.add(project_id)


async def _read_reply(reader: asyncio.StreamReader) -> Reply:
    reply: Reply = await frames.read(reader)
    return reply


def batch_of(arrivals: list[Arrival], owner: str | None = None) -> Batch:
    """The rows ``arrivals`` are stored as; ``owner``: the node that digests them
    (``claims``; None: the first process to look claims them)."""
    messages: list[dict[str, Any]] = []
    raws: list[dict[str, Any]] = []
    files: list[SpooledRaw] = []
    recipients: list[dict[str, Any]] = []
    deliveries: list[dict[str, Any]] = []
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
                    "size": a.size,
                    "status": "received",
                    "has_attachments": False,
                    "unread": True,
                    "digest_owner": owner,
                }
            )
            if isinstance(a.raw, Spooled):
                files.append(SpooledRaw(mid, str(a.raw.path), a.raw.size))
            else:
                raws.append({"message_id": mid, "data": a.raw})
            recipients.extend({"message_id": mid, "address": r} for r in dict.fromkeys(rcpts))
            if a.relay_key is not None:
                deliveries.extend(
                    {"relay_key": a.relay_key, "address": r, "message_id": mid}
                    for r in dict.fromkeys(rcpts)
                )
    return Batch(messages, raws, recipients, files, deliveries)
