"""The server's side of the verdict checker process (``verdict_process.py``).

Started on the first digested message, or at start when messages are waiting for a
verdict, so a service that receives no mail carries no checker. Supervised like the
other helpers: one that dies is started again (at once the first time, then with a
growing pause if it keeps dying), ``/healthz`` names it meanwhile, and the new one checks
everything left without a verdict; what was digested while none was up waits in line.
With ``parse_processes=0`` (tests only) the stage runs in the server instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import socket
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable

from agentid.config import Settings
from agentid.email.inbound import frames
from agentid.email.inbound import processes
from agentid.email.inbound.digested import Digested
from agentid.email.inbound.verdict_process import check_forever
from agentid.email.inbound.verdict_records import Pending
from agentid.email.inbound.verdict_records import pending
from agentid.email.inbound.verdicts import VerdictStage
from agentid.events import Signal
from agentid.health import Health
from agentid.store.notices import Notifier

log = logging.getLogger("agentid.auth")

PART = "verdict-checker"
RESTART_FIRST, RESTART_MAX = 0.5, 30.0
STABLE_SECONDS = 30.0  # a checker up this long that dies is started again at once
STOP_SECONDS = 10.0  # how long a stopping checker may take to write what it has


class VerdictProcess:
    """``submit`` as the parse worker calls it; ``publish`` hears of committed events."""

    def __init__(
        self,
        settings: Settings,
        health: Health,
        publish: Callable[[list[Signal]], None],
        unchecked: Callable[[], Awaitable[bool]],
        notifier: Notifier | None,
    ) -> None:
        self._settings = settings
        self._health = health
        self._publish = publish
        self._unchecked = unchecked  # whether any message waits for a verdict
        self._notifier = notifier
        self.enabled = settings.inbound_auth
        self._process: multiprocessing.process.BaseProcess | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._waiting: list[Pending] = []  # digested while no checker is up
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    async def start(self) -> None:
        if self.enabled and await self._unchecked():
            self._begin()

    def submit(self, digested: Iterable[Digested]) -> None:
        self.recheck(pending(digested, self._settings.auth_timeout_seconds))

    def recheck(self, items: list[Pending]) -> None:
        """Queue messages for a verdict (digested here, or claimed from a gone process)."""
        if not self.enabled or self._stopping or not items:
            return
        if self._writer is not None and not self._writer.is_closing():
            frames.write(self._writer, items)
            return
        self._waiting.extend(items)  # a checker that fails to take them rechecks them anyway
        self._begin()

    def _begin(self) -> None:
        if self._supervisor is None:
            self._supervisor = asyncio.create_task(self._supervise(), name="agentid-verdicts")

    async def stop(self) -> None:
        self._stopping = True
        if self._writer is not None and self._writer.can_write_eof():
            self._writer.write_eof()  # it writes what it has, answers, and ends
        grace = STOP_SECONDS
        if self._supervisor is not None:
            try:
                async with asyncio.timeout(STOP_SECONDS):
                    await asyncio.shield(self._supervisor)
            except TimeoutError:
                log.warning("verdict checker did not end in time", extra={"waited": STOP_SECONDS})
                grace = 0.0  # it has had its grace: no second one
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._end(grace)

    async def _supervise(self) -> None:
        delay = RESTART_FIRST
        while not self._stopping:
            try:
                reader = await self._launch()
            except Exception as exc:
                self._health.mark_down(PART, f"could not start the verdict checker: {exc}")
            else:
                self._health.mark_up(PART)
                started = time.monotonic()
                await self._relay(reader)
                if self._stopping:
                    return
                self._health.mark_down(PART, await self._reap())
                self.restarts += 1
                if time.monotonic() - started > STABLE_SECONDS:
                    delay = RESTART_FIRST
                    continue  # it worked for a while: start another at once
            await asyncio.sleep(delay)
            delay = min(RESTART_MAX, delay * 2)

    async def _launch(self) -> asyncio.StreamReader:
        ours, theirs = socket.socketpair()
        process = processes.context().Process(
            target=check_forever,
            args=(theirs, self._settings, self._notifier),
            name="agentid-verdicts",
            daemon=True,
        )
        try:
            await asyncio.to_thread(process.start)  # the fork server may be slow to answer
        except Exception:
            ours.close()
            raise
        finally:
            theirs.close()
        self._process = process
        reader, self._writer = await asyncio.open_unix_connection(sock=ours)
        if self._waiting:
            waiting, self._waiting = self._waiting, []
            frames.write(self._writer, waiting)
        if self._stopping:  # stop() came while it started
            self._writer.write_eof()
        return reader

    async def _relay(self, reader: asyncio.StreamReader) -> None:
        """The checker's committed events, to the server's bus, until it goes away."""
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                self._publish(await frames.read(reader))

    async def _reap(self) -> str:
        """Collect a checker that went away; why it did."""
        code = await self._end()
        if code is not None and code < 0:
            return f"the verdict checker was killed by {signal.Signals(-code).name}"
        return f"the verdict checker exited ({code})"

    async def _end(self, grace: float = STOP_SECONDS) -> int | None:
        """Close the checker's socket and reap it; its exit code (None: there was none)."""
        process, self._process = self._process, None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        return None if process is None else await processes.reap(process, grace)


Verdicts = VerdictStage | VerdictProcess
