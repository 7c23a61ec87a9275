"""A worker that drains a queue kept in the store (the outbox, webhook deliveries).

One process of a cluster runs it (``store.leader.in_rounds``): on taking the job over it
restarts what a stop cut off, then works in rounds; after a round with nothing to do it
sleeps until the next item is due, ``wake`` is called, or ``idle`` seconds pass.

A round claims its items, does them, then records what became of them (``recorded``).
The items were done by then (mail sent, webhooks posted): a write that fails in a way
that may pass (``store.engines.transient``: the database locked, a connection lost) is
tried again after RECORD_DELAYS, so that a hiccup of the store does not leave the items
claimed until a takeover does them again.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC
from abc import abstractmethod
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from typing import ClassVar
from typing import TypeVar

from agentid.runtime import Runtime
from agentid.store.engines import describe
from agentid.store.engines import transient
from agentid.store.leader import in_rounds
from agentid.workers import Loop

log = logging.getLogger("agentid.queue")

RECORD_DELAYS = (0.2, 0.5, 1.0, 2.0, 5.0, 10.0)  # then the round fails (and is logged)

T = TypeVar("T")


class QueueWorker(ABC):
    """The rounds of one queue (a ``Worker``): a subclass names its ``job`` and says what
    restarting, a round and the next due time are."""

    job: ClassVar[str]  # its name for store/leader and its task's name
    idle: ClassVar[float]  # the longest sleep between looks at the queue
    gap: ClassVar[float] = 0.0  # the least time between an idle look and the next

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._wake = asyncio.Event()
        self._loop = Loop(self.job)

    async def stop(self) -> None:
        await self._loop.end()

    async def _run(self) -> None:
        await in_rounds(
            self._rt.leader,
            self.job,
            restart=self._restart_interrupted,
            work=self._work,
            next_due=self._next_due,
            wake=self._wake,
            idle=self.idle,
            gap=self.gap,
            failed=self._failed,
        )

    async def recorded(self, write: Callable[[], Awaitable[T]]) -> T:
        """What ``write`` (one transaction recording a round's results) returns; it runs
        again after each of RECORD_DELAYS while it fails in a way that may pass; any other
        failure, or the last, is raised."""
        delays = iter(RECORD_DELAYS)
        while True:
            try:
                return await write()
            except Exception as exc:
                delay = next(delays, None) if transient(exc) else None
                if delay is None:
                    raise
                log.warning("%s: recording a round failed: %s", self.job, describe(exc))
            await asyncio.sleep(delay)

    @abstractmethod
    async def _restart_interrupted(self) -> None:
        """Make what a stop cut off (of this process or another) due again."""

    @abstractmethod
    async def _work(self) -> bool:
        """One round; whether there was anything to do."""

    @abstractmethod
    async def _next_due(self) -> datetime | None:
        """When the next item is due; None when none is waiting."""

    @abstractmethod
    def _failed(self) -> None:
        """Log a round that raised (called in its ``except``)."""
