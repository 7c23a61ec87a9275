"""Where a batch is digested: a supervised worker process, or (tests only) a thread.

A process lane enforces the per-message budget the only way that works on C and Rust
code: a worker that has spent the budget reading one message (``budget``: its CPU time,
looked at on the wall clock) is ended, and the lane says which message it was reading. A
worker that dies is started again at once, whether it died mid-batch or while idle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import socket
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from agentid.config import Settings
from agentid.email.inbound import frames
from agentid.email.inbound import processes
from agentid.email.inbound.budget import Reading
from agentid.email.inbound.digested import Digested
from agentid.email.inbound.parse_process import Terms
from agentid.email.inbound.parse_process import digest_forever
from agentid.health import Health
from agentid.store.db import create_sync_engine
from agentid.store.engines import describe
from agentid.store.engines import transient

log = logging.getLogger("agentid.parse")

PART = "parse-worker"
STORE_SECONDS = 120.0  # reading or writing the store: not the message's budget


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a batch ended: ``stored`` (with ``digested``), ``overran`` or ``died`` (with
    ``culprit``, the message being read then, if any), ``transient`` or ``failed``."""

    kind: str
    digested: tuple[Digested, ...] = ()
    culprit: str | None = None
    reason: str = ""


class ThreadLane:
    """Digest in a thread of the server process: no budget can be enforced (tests only)."""

    def __init__(self, settings: Settings, terms: Terms) -> None:
        self._settings = settings
        self._terms = terms
        self._engine: Engine | None = None

    async def start(self) -> None:
        self._engine = create_sync_engine(self._settings, durable=False)

    async def stop(self) -> None:
        if self._engine is not None:
            self._engine.dispose()

    async def digest(self, ids: list[str]) -> Outcome:
        from agentid.email.inbound.digest import digest  # the parser: tests only, here

        engine = self._engine
        assert engine is not None
        terms = self._terms
        try:
            done = await asyncio.to_thread(
                lambda: digest(
                    engine,
                    ids,
                    terms.limits,
                    authserv_id=terms.authserv_id,
                    notifier=terms.notifier,
                    owner=terms.owner,
                )
            )
        except Exception as exc:
            return Outcome("transient" if transient(exc) else "failed", reason=describe(exc))
        return Outcome("stored", tuple(done))


class ProcessLane:
    def __init__(self, settings: Settings, health: Health, name: str, terms: Terms) -> None:
        self._settings = settings
        self._health = health
        self._name = name
        self._terms = terms
        self._process: multiprocessing.process.BaseProcess | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._busy = False
        self._stopping = False
        self._reviving: asyncio.Task[None] | None = None
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        ours, theirs = socket.socketpair()
        settings = self._settings
        self._process = processes.context().Process(
            target=digest_forever,
            args=(theirs, settings.resolved_database_url(sync=True), settings.database_schema),
            name=self._name,
            daemon=True,
        )
        await asyncio.to_thread(self._process.start)
        theirs.close()
        self._reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        loop = asyncio.get_running_loop()
        sentinel = self._process.sentinel
        loop.add_reader(sentinel, self._on_exit, self._process)

    def _on_exit(self, process: multiprocessing.process.BaseProcess) -> None:
        """The worker ended: while idle, start another now (mid-batch, ``digest`` does)."""
        asyncio.get_running_loop().remove_reader(process.sentinel)
        if self._stopping or process is not self._process:
            return
        self._health.mark_down(PART, f"{self._name} exited ({process.exitcode})")
        if not self._busy and self._reviving is None:
            self._reviving = asyncio.create_task(self._revive())

    async def _revive(self) -> None:
        """End whatever is left of the worker and start another."""
        try:
            await self._end(graceful=False)
            await self.start()
            self.restarts += 1
            self._health.mark_up(PART)
        finally:
            self._reviving = None

    async def _end(self, *, graceful: bool) -> None:
        """Close the worker's socket and reap it: ``graceful`` lets it finish (it ends when
        its socket closes) before it is killed; otherwise it is killed at once."""
        process, self._process = self._process, None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if process is None:
            return
        with contextlib.suppress(ValueError, OSError):
            asyncio.get_running_loop().remove_reader(process.sentinel)
        await processes.reap(process, 10 if graceful else 0)

    async def stop(self) -> None:
        self._stopping = True
        if self._reviving is not None:
            await self._reviving
        await self._end(graceful=True)

    async def digest(self, ids: list[str]) -> Outcome:
        if self._reviving is not None:
            await self._reviving
        if self._process is None or not self._process.is_alive():
            await self._revive()
        self._busy = True
        try:
            return await self._exchange(ids)
        finally:
            self._busy = False

    async def _exchange(self, ids: list[str]) -> Outcome:
        assert self._writer is not None
        budget = self._settings.digest_budget_seconds
        reading: Reading | None = None  # the message the worker said it is reading
        try:
            frames.write(self._writer, (ids, self._terms))
            await self._writer.drain()
            while True:
                kind, value = await self._next_frame(reading)
                if kind == "begin":
                    message_id, cpu, began = value
                    reading = Reading(message_id, self.pid, budget, began=began, cpu=cpu)
                elif kind == "storing":
                    reading = None
                elif kind == "stored":
                    return Outcome("stored", tuple(value))
                elif kind == "overran":  # read in full, over the budget: stored nothing
                    log.warning("parse worker overran", extra={"id": value})
                    return Outcome("overran", culprit=value, reason="over the digest budget")
                else:
                    return Outcome(kind, reason=value)
        except TimeoutError:
            culprit = None if reading is None else reading.message_id
            what = "overran" if culprit is not None else "transient"
            log.warning("parse worker overran; ending it", extra={"id": culprit})
            await self._replace(f"{self._name} ended: over its time")
            return Outcome(what, culprit=culprit, reason="the store did not answer")
        except (asyncio.IncompleteReadError, ConnectionError):
            await self._replace(f"{self._name} died")
            culprit = None if reading is None else reading.message_id
            return Outcome("died", culprit=culprit, reason="the parse worker died")

    async def _next_frame(self, reading: Reading | None) -> Any:
        """The worker's next frame; TimeoutError once it is over the budget on the message
        it is reading, or has been storing for ``STORE_SECONDS``. The read is never cut
        off mid-frame: only the wait for it ends."""
        assert self._reader is not None
        frame = asyncio.ensure_future(frames.read(self._reader))
        try:
            while True:
                limit = STORE_SECONDS if reading is None else reading.until_next_look()
                done, _ = await asyncio.wait({frame}, timeout=limit)
                if done:
                    return frame.result()
                if reading is None or reading.spent():
                    raise TimeoutError
        finally:
            frame.cancel()  # nothing once it is done

    async def _replace(self, reason: str) -> None:
        self._health.mark_down(PART, reason)
        await self._revive()
