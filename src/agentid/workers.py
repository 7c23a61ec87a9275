"""Background workers: one lifecycle for every part that runs beside the HTTP and SMTP
servers (WAL checkpointer, inbound mail, the outbox sender, retention, the number
collector, the webhook dispatcher), listed in ``create_app``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any, Protocol


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
