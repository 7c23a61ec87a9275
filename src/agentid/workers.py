"""Background workers: one lifecycle for every part that runs beside the HTTP and SMTP
servers (WAL checkpointer, inbound mail, the outbox sender, retention, the number
collector; the coming webhook dispatcher joins the list in ``create_app``)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from typing import Protocol


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
