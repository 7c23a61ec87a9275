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
import time
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, Select, bindparam, select, update
from sqlalchemy.exc import SQLAlchemyError

from agentid.codes.sites import signed_by
from agentid.config import Settings
from agentid.email.inbound import verdict_reads as reads
from agentid.email.inbound.digested import Digested
from agentid.email.inbound.relayed import client
from agentid.events import Kind, Signal
from agentid.store import event_log
from agentid.store.db import create_sync_engine
from agentid.store.notices import Notifier
from agentid.store.tables import CodeRow, Message, table_of
from agentid.times import utcnow

if TYPE_CHECKING:
    from agentid.dns.auth_checker import Checker

log = logging.getLogger("agentid.auth")

RECOVER_WITHIN = timedelta(days=1)  # unchecked messages older than this stay unchecked
RECOVER_MAX = 10_000
BACKOFF_FIRST, BACKOFF_MAX = 0.2, 10.0
STOP_WAIT = 2.0  # how long a stop waits for the stage's tasks to end
# verdicts of messages without codes (no wait hears of them) are written together, at most
# this often: fewer write transactions to contend with the spool's commits during a flood
QUIET_WRITE_SECONDS = 0.25
_MESSAGES = table_of(Message)
_CODES = table_of(CodeRow)
_SET_VERDICT = (
    update(_MESSAGES)
    .where(_MESSAGES.c.id == bindparam("message_id"))
    .values(auth_results=bindparam("verdict"), signed_by=bindparam("signed_by"))
)
_SET_CODES = (
    update(_CODES)
    .where(_CODES.c.source_type == "email", _CODES.c.source_id == bindparam("message_id"))
    .values(authenticated=bindparam("authenticated"))
)


@dataclass(frozen=True, slots=True)
class Pending:
    project_id: str
    message_id: str
    keys: tuple[str, ...]
    has_codes: bool
    deadline: float  # monotonic


@dataclass(frozen=True, slots=True)
class Done:
    pending: Pending
    verdict: dict[str, Any]


def public(verdict: dict[str, Any]) -> dict[str, Any]:
    """The verdict as the API shows it (without the rendered header)."""
    return {k: v for k, v in verdict.items() if k != "header"}


def _ip_of(peer: str | None) -> str | None:
    """The address of a stored peer (``host:port``)."""
    if not peer:
        return None
    host, _, port = peer.rpartition(":")
    return (host or None) if port.isdigit() else peer


def left_unchecked() -> Select[str, str, list[str]]:
    """Messages of the last day digested without a verdict, oldest first."""
    return (
        select(Message.project_id, Message.id, Message.rcpt_to)
        .where(
            Message.status.in_(("parsed", "parse_error")),
            Message.auth_results.is_(None),
            Message.received_at >= utcnow() - RECOVER_WITHIN,
        )
        .order_by(Message.received_at)
    )


def pending(digested: Iterable[Digested], timeout: float) -> list[Pending]:
    """Digested messages as the stage queues them, each due ``timeout`` from now."""
    deadline = time.monotonic() + timeout
    return [
        Pending(
            d.project_id,
            d.message_id,
            d.keys,
            any(kind == Kind.CODE_FOUND.value for kind, _ in d.events),
            deadline,
        )
        for d in digested
    ]


class VerdictStage:
    """The checks and their writes: ``publish`` hears of each ``message.authenticated``
    event once it is committed."""

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
        self._threads = settings.auth_threads
        self._queue: deque[Pending] = deque()
        self._held: set[str] = set()  # queued or being checked: each message once at a time
        self._queued = asyncio.Event()
        self._done: list[Done] = []
        self._finished = asyncio.Event()
        self._urgent = asyncio.Event()  # a finished verdict that a wait may be waiting for
        self._tasks: list[asyncio.Task[None]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._engine: Engine | None = None
        self._check: Checker | None = None  # made on the first message
        self._loading = asyncio.Lock()
        self._budget = reads.Budget()
        self._stopping = False
        self.checked = 0

    def submit(self, digested: Iterable[Digested]) -> None:
        """Queue digested messages for a verdict (called as they are published)."""
        if self.enabled:
            self.queue(pending(digested, self._timeout))

    def queue(self, items: Iterable[Pending]) -> None:
        for item in items:
            if item.message_id not in self._held:
                self._held.add(item.message_id)
                self._queue.append(item)
        self._queued.set()

    async def start(self) -> None:
        if not self.enabled:
            return
        # not durable: a verdict lost in a crash is checked again (``_recover``)
        self._engine = create_sync_engine(self._settings, durable=False)
        self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="agentid-auth")
        self._tasks = [asyncio.create_task(self._checker()) for _ in range(self._threads)]
        self._tasks.append(asyncio.create_task(self._writer()))
        await self._recover()

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=STOP_WAIT)
        self._tasks = []
        if self._done:  # what finished before the stop is written; the rest is recovered
            await self._write_all()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
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
        deadline = time.monotonic() + self._timeout
        # their codes may be there already: the event wakes whoever waits for them
        self.queue(Pending(p, m, tuple(rcpt), True, deadline) for p, m, rcpt in rows)

    async def _load(self) -> Checker:
        """The checker, made on the first message (in a thread: importing dkimpy, pyspf
        and dmarc takes a while, and a service that receives no mail never pays for it)."""
        async with self._loading:
            if self._check is None:
                settings = self._settings

                def made() -> Checker:
                    from agentid.dns.auth_checker import Checker

                    return Checker(settings)

                self._check = await asyncio.to_thread(made)
        return self._check

    async def _checker(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stopping:
            while not self._queue:
                self._queued.clear()
                await self._queued.wait()
            check = self._check or await self._load()
            if not self._queue:  # others took it while this one loaded the checker
                continue
            item = self._queue.popleft()
            left = item.deadline - time.monotonic()
            verdict = check.timed_out()
            if left > 0:
                # asyncio.wait, not wait_for: on 3.11 wait_for can swallow a cancellation
                work = loop.run_in_executor(self._pool, self._verdict, item)
                done, _ = await asyncio.wait({work}, timeout=left + 0.25)
                if not done:
                    work.cancel()
                elif work.exception() is not None:  # a checker bug: the message still gets one
                    error = work.exception()
                    log.error(
                        "verdict check failed",
                        extra={"id": item.message_id},
                        exc_info=(type(error), error, error.__traceback__) if error else None,
                    )
                else:
                    verdict = work.result()
            self._done.append(Done(item, verdict))
            self._finished.set()
            if item.has_codes:
                self._urgent.set()

    def _verdict(self, item: Pending) -> dict[str, Any]:
        """In a pool thread: the message's envelope and bytes, then its checks."""
        assert self._engine is not None and self._check is not None
        with self._engine.connect() as conn:
            found = reads.read(conn, item.message_id)
            if found is None:  # deleted meanwhile
                return self._check.timed_out()
            raw, held = found.head, 0
            if reads.needs_body(found):
                if not self._budget.take(found.size, item.deadline):
                    return self._check.timed_out()
                held = found.size
        try:
            if held:
                with self._engine.connect() as conn:
                    raw = reads.whole(conn, item.message_id, found.size)
            ip, helo = client(_ip_of(found.peer), found.helo, raw, self._check.relays)
            return self._check.run(
                ip, helo, found.mail_from, found.from_address, raw, item.deadline
            )
        finally:
            if held:
                self._budget.give(held)

    async def _writer(self) -> None:
        while not self._stopping:
            await self._finished.wait()
            if not any(d.pending.has_codes for d in self._done):
                # nobody waits for these: let more finish before the next transaction
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(QUIET_WRITE_SECONDS):
                        await self._urgent.wait()
            self._finished.clear()
            self._urgent.clear()
            await self._write_all()

    async def _write_all(self) -> None:
        backoff = 0.0
        while self._done:
            batch, self._done = self._done, []
            try:
                signals = await asyncio.to_thread(self._store, batch)
            except SQLAlchemyError:
                log.warning("verdicts not stored yet; retrying", exc_info=True)
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

    def _store(self, batch: list[Done]) -> list[Signal]:
        """One transaction for the batch (with the NOTIFY of its events, when other
        processes listen); the signals of the events written."""
        assert self._engine is not None
        verdicts = [
            {
                "message_id": d.pending.message_id,
                "verdict": d.verdict,
                "signed_by": signed_by(d.verdict),
            }
            for d in batch
        ]
        flags = [
            {"message_id": d.pending.message_id, "authenticated": d.verdict["authenticated"]}
            for d in batch
            if d.pending.has_codes
        ]
        events = [
            event_log.row(
                d.pending.project_id,
                Kind.MESSAGE_AUTHENTICATED.value,
                d.pending.message_id,
                {
                    "message_id": d.pending.message_id,
                    "authenticated": d.verdict["authenticated"],
                    "auth_results": public(d.verdict),
                },
            )
            for d in batch
            if d.pending.has_codes
        ]
        with self._engine.begin() as conn:
            conn.execute(_SET_VERDICT, verdicts)
            if flags:
                conn.execute(_SET_CODES, flags)
            seqs = event_log.append(conn, events)
            with_codes = [d.pending for d in batch if d.pending.has_codes]
            signals = [
                Signal(p.project_id, Kind.MESSAGE_AUTHENTICATED, seq, p.keys)
                for p, seq in zip(with_codes, seqs, strict=True)
            ]
            if self._notifier is not None:
                self._notifier.send(conn, signals)
        return signals
