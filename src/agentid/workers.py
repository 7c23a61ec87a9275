"""Background workers: one lifecycle for every part that runs beside the HTTP and SMTP
servers (WAL checkpointer, inbound mail, the outbox sender, retention, the number
collector, the webhook dispatcher), listed in ``create_app``. A worker's task is a
``Loop``; a job that runs every so often in one process of a cluster, a ``PeriodicJob``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any
from typing import Protocol

from agentid.store.leader import Leadership
from agentid.store.leader import periodically


class Worker(Protocol):
    async def start(self) -> None:
        """Begin; return once running (raise if it cannot)."""
        ...

    async def stop(self) -> None:
        """Finish what is in hand and end; safe to call when not started."""
        ...


async def start_all(stack: AsyncExitStack, workers: list[Worker]) -> None:
    """Start ``workers`` in order; ``stack`` stops them in reverse order when it closes."""
    for worker in workers:
        await worker.start()
        stack.push_async_callback(worker.stop)


class Loop:
    """The one task a background worker runs beside the servers: begun by its ``start``,
    cancelled (and awaited) by its ``stop``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._task: asyncio.Task[None] | None = None

    def begin(self, work: Coroutine[Any, Any, None]) -> None:
        self._task = asyncio.create_task(work, name=self.name)

    async def end(self) -> None:
        """Cancel the task and wait for it to finish; nothing when it never began."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None


class PeriodicJob:
    """A worker that runs ``work`` every ``interval`` seconds in the one process of a
    cluster that holds ``job`` (``store.leader.periodically``); a pass that raises is
    logged as ``failed`` and the next one comes as planned."""

    def __init__(
        self,
        leader: Leadership,
        job: str,
        interval: float,
        work: Callable[[], Awaitable[object]],
        log: logging.Logger,
        failed: str,
    ) -> None:
        self._leader, self._job, self._interval = leader, job, interval
        self._work, self._log, self._failed = work, log, failed
        self._loop = Loop(f"agentid-{job}")

    async def start(self) -> None:
        self._loop.begin(periodically(self._leader, self._job, self._interval, self._pass))

    async def stop(self) -> None:
        await self._loop.end()

    async def _pass(self) -> None:
        try:
            await self._work()
        except Exception:
            self._log.exception(self._failed)
