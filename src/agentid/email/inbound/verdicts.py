"""The verdict stage: agentid's own SPF, DKIM and DMARC verdict on every digested message,
in the background, after parsing.

A message is visible (and its codes wake plain waits) as soon as it is digested; this
stage never holds that up. Each digested message gets a deadline
(``AGENTID_AUTH_TIMEOUT_SECONDS`` from the moment it was digested); checkers, each in a
thread of this stage's own pool (the DNS libraries block), take messages in arrival order,
and a check that cannot finish by the deadline, or a message that waited past it, gets
``temperror``. So a wait for ``authenticated=true`` codes learns within that long whether
a code qualifies, and a burst of mail only turns late verdicts into temperror.

Finished verdicts are written together (one transaction for all that finished while the
previous write ran): ``messages.auth_results``, ``codes.authenticated`` for the message's
codes, and, for a message that has codes, a ``message.authenticated`` event whose signal
wakes the waits that asked for authenticated codes. A write that fails for a passing
reason is retried with backoff; what is never written (a crash) is checked again on the
next start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from collections.abc import Iterable
from typing import TYPE_CHECKING
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from agentid.config import Settings
from agentid.dns.gate import Gate
from agentid.email.inbound import verdict_reads as reads
from agentid.email.inbound.digested import AuthInput
from agentid.email.inbound.digested import Digested
from agentid.email.inbound.relayed import client
from agentid.email.inbound.verdict_records import RECOVER_MAX
from agentid.email.inbound.verdict_records import Done
from agentid.email.inbound.verdict_records import Pending
from agentid.email.inbound.verdict_records import left_unchecked
from agentid.email.inbound.verdict_records import pending
from agentid.email.inbound.verdict_records import recovered
from agentid.email.inbound.verdict_records import store
from agentid.events import Signal
from agentid.store.db import create_sync_engine
from agentid.store.notices import Notifier

if TYPE_CHECKING:
    from agentid.dns.auth_checker import Checker

log = logging.getLogger("agentid.auth")

BACKOFF_FIRST, BACKOFF_MAX = 0.2, 10.0
STOP_WAIT = 2.0  # how long a stop waits for the stage's tasks to end
WATCH_SECONDS = 1.0  # how often the writer looks for checks past their deadline
OVERRUN_GRACE = 0.25  # past its deadline by this much, a check is answered temperror
# verdicts of messages without codes (no wait hears of them) are written together, at most
# this often: fewer write transactions to contend with the spool's commits during a flood
QUIET_WRITE_SECONDS = 0.25


def _ip_of(peer: str | None) -> str | None:
    """The address of a stored peer (``host:port``)."""
    if not peer:
        return None
    host, _, port = peer.rpartition(":")
    return (host or None) if port.isdigit() else peer


def _checked(
    check: Checker, found: AuthInput, raw: bytes, deadline: float, gate: Gate
) -> dict[str, Any]:
    ip, helo = client(_ip_of(found.peer), found.helo, raw, check.relays)
    return check.run(ip, helo, found.mail_from, found.from_address, raw, deadline, gate)


class VerdictStage:
    """The checks and their writes: ``publish`` hears of each ``message.authenticated``
    event once it is committed.

    The checks run in plain threads that take messages from the queue in arrival order,
    one computing at a time while the others wait on the network (``agentid.dns.gate``),
    and hand verdicts to the writer task (one wake-up of the event loop per write, not per
    message). A check that overruns its deadline, or a message still queued past it
    (every thread stuck), gets ``temperror`` from the writer's watch; what the thread
    finds later is dropped."""

    def __init__(
        self,
        settings: Settings,
        publish: Callable[[list[Signal]], None],
        notifier: Notifier | None = None,
    ) -> None:
        self._settings = settings
        self._publish = publish
        self._notifier = notifier  # other processes are told in the verdicts' transaction
        self.enabled = settings.inbound_auth
        self._timeout = settings.auth_timeout_seconds
        self._thread_count = settings.auth_threads
        self._held: set[str] = set()  # queued, being checked or written: each once at a time
        # shared with the threads, under the lock
        self._lock = threading.Lock()
        self._queued = threading.Condition(self._lock)
        self._queue: deque[Pending] = deque()
        self._running: dict[str, Pending] = {}
        self._done: list[Done] = []
        self._told = self._told_urgent = False  # the loop was woken since the last write
        self._stopping = False
        # the event loop's side
        self._loop: asyncio.AbstractEventLoop | None = None
        self._finished = asyncio.Event()
        self._urgent = asyncio.Event()  # a finished verdict that a wait may be waiting for
        self._tasks: list[asyncio.Task[None]] = []
        self._engine: Engine | None = None
        self._check: Checker | None = None  # made on the first message
        self._loading = threading.Lock()
        self._gate = Gate()  # which thread may start checks
        self._budget = reads.Budget()
        self.checked = 0

    def submit(self, digested: Iterable[Digested]) -> None:
        """Queue digested messages for a verdict (called as they are published)."""
        if self.enabled:
            self.queue(pending(digested, self._timeout))

    def recheck(self, items: list[Pending]) -> None:
        """Queue messages claimed from a gone process for a verdict."""
        if self.enabled:
            self.queue(items)

    def queue(self, items: Iterable[Pending]) -> None:
        fresh = [item for item in items if item.message_id not in self._held]
        self._held.update(item.message_id for item in fresh)
        with self._queued:
            self._queue.extend(fresh)
            self._queued.notify(len(fresh))

    async def start(self) -> None:
        if not self.enabled:
            return
        self._loop = asyncio.get_running_loop()
        # not durable: a verdict lost in a crash is checked again (``_recover``)
        self._engine = create_sync_engine(self._settings, durable=False)
        for n in range(self._thread_count):
            threading.Thread(target=self._work, name=f"agentid-auth-{n}", daemon=True).start()
        self._tasks.append(asyncio.create_task(self._writer()))
        await self._recover()

    async def stop(self) -> None:
        with self._queued:
            self._stopping = True
            self._queued.notify_all()
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_WAIT)
        self._tasks = []
        if self._done:  # what finished before the stop is written; the rest is recovered
            await self._write_all()
        if self._engine is not None:
            self._engine.dispose()

    async def _recover(self) -> None:
        """Queue what was digested but never got a verdict (a stop or crash between)."""

        def load() -> list[Any]:
            assert self._engine is not None
            with self._engine.connect() as conn:
                return list(conn.execute(left_unchecked().limit(RECOVER_MAX)))

        rows = await asyncio.to_thread(load)
        if not rows:
            return
        log.info("checking messages left without a verdict", extra={"count": len(rows)})
        self.queue(recovered(rows, self._timeout))

    def _checker(self) -> Checker:
        """The checker, made on the first message (importing dkimpy, pyspf and dmarc takes
        a while, and a service that receives no mail never pays for it)."""
        with self._loading:
            if self._check is None:
                from agentid.dns.auth_checker import Checker

                self._check = Checker(self._settings)
            return self._check

    def _work(self) -> None:
        """A checker thread: while it holds the gate, the next message and its verdict
        (``agentid.dns.gate``), until the stage stops."""
        gate = self._gate
        while True:
            gate.enter()
            try:
                while gate.holding():
                    item = self._take()
                    if item is None:
                        return
                    self._run(item)
            finally:
                gate.leave()

    def _take(self) -> Pending | None:
        """The next message (waiting for one); None once the stage stops."""
        with self._queued:
            while not self._queue and not self._stopping:
                self._queued.wait()
            if self._stopping:
                return None
            item = self._queue.popleft()
            self._running[item.message_id] = item
            return item

    def _run(self, item: Pending) -> None:
        try:
            check = self._check or self._checker()
            verdict = check.timed_out()
            if item.deadline > time.monotonic():
                verdict = self._verdict(item, check)
        except Exception:  # a checker bug: logged, and the writer's watch answers it
            log.exception("verdict check failed", extra={"id": item.message_id})
            return
        self._finish(item, verdict)

    def _finish(self, item: Pending, verdict: dict[str, Any]) -> None:
        """Hand a verdict to the writer (unless the watch answered for it already)."""
        with self._lock:
            if self._running.pop(item.message_id, None) is None:
                return
            self._done.append(Done(item, verdict))
            wake = not self._told or (item.has_codes and not self._told_urgent)
            self._told = True
            self._told_urgent = self._told_urgent or item.has_codes
        if wake and self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop closed: a stop is under way
                self._loop.call_soon_threadsafe(self._wake, item.has_codes)

    def _wake(self, urgent: bool) -> None:
        self._finished.set()
        if urgent:
            self._urgent.set()

    def _watch(self) -> None:
        """``temperror`` for checks past their deadline (and a little more) and, should
        every thread be stuck, for messages that waited in the queue past theirs."""
        if self._check is None:
            return
        late = time.monotonic() - OVERRUN_GRACE
        with self._lock:
            overdue = [item for item in self._running.values() if item.deadline < late]
            for item in overdue:
                del self._running[item.message_id]
            while self._queue and self._queue[0].deadline < late:
                overdue.append(self._queue.popleft())
            self._done.extend(Done(item, self._check.timed_out()) for item in overdue)

    def _verdict(self, item: Pending, check: Checker) -> dict[str, Any]:
        """In a checker thread: what the check reads (handed on by the digest, else read
        here), the whole message if a signature needs it, then the checks."""
        assert self._engine is not None
        found = item.auth_input
        if found is None:
            self._gate.leave()  # another check starts while this one reads
            with self._engine.connect() as conn:
                found = reads.read(conn, item.message_id)
            if found is None:  # deleted meanwhile
                return check.timed_out()
        if not reads.needs_body(found):
            return _checked(check, found, found.head, item.deadline, self._gate)
        self._gate.leave()
        if not self._budget.take(found.size, item.deadline):
            return check.timed_out()
        try:
            with self._engine.connect() as conn:
                raw = reads.whole(conn, item.message_id, found.size)
            return _checked(check, found, raw, item.deadline, self._gate)
        finally:
            self._budget.give(found.size)

    async def _writer(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(WATCH_SECONDS):
                    await self._finished.wait()
            self._finished.clear()  # the batch taken below holds all it was set for
            self._watch()
            if not self._done:
                continue
            if not any(d.pending.has_codes for d in self._done):
                # nobody waits for these: let more finish before the next transaction
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(QUIET_WRITE_SECONDS):
                        await self._urgent.wait()
            self._urgent.clear()
            await self._write_all()

    async def _write_all(self) -> None:
        assert self._engine is not None
        backoff = 0.0
        while self._done:
            with self._lock:
                batch, self._done = self._done, []
                self._told = self._told_urgent = False
            try:
                signals = await asyncio.to_thread(store, self._engine, batch, self._notifier)
            except SQLAlchemyError:
                log.warning("verdicts not stored yet; retrying", exc_info=True)
                with self._lock:
                    self._done = batch + self._done
                if self._stopping:  # left for the next start to check again
                    return
                backoff = min(BACKOFF_MAX, backoff * 2 or BACKOFF_FIRST)
                await asyncio.sleep(backoff)
                continue
            backoff = 0.0
            self.checked += len(batch)
            self._held.difference_update(d.pending.message_id for d in batch)
            if signals:
                self._publish(signals)
