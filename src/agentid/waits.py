"""The one long-poll: listen, ask the store, wait for a signal that may change the answer,
ask again. The store is the only definition of what a query matches; the bus only says
when to look (``events``)."""

from __future__ import annotations

import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Collection
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from agentid.events import Kind
from agentid.runtime import Runtime

T = TypeVar("T")


async def wait_until(
    rt: Runtime,
    project_id: str,
    query: Callable[[], Awaitable[T]],
    found: Callable[[T], bool],
    *,
    kinds: Collection[Kind],
    keys: Collection[str] | None = None,
    wait: float,
) -> T:
    """``query()``'s answer once ``found`` says it holds something, or its last (empty)
    answer when ``wait`` seconds pass or the service stops. ``kinds`` and ``keys`` (the
    addresses the query is limited to, None for any) say which signals are worth a look."""
    deadline = time.monotonic() + wait
    async with rt.bus.listen(project_id, kinds, keys) as listener:
        while True:
            answer = await query()
            if found(answer) or rt.stopping.is_set():
                return answer
            if not await listener.wait(deadline - time.monotonic()):
                return answer


async def wait_for_page(
    rt: Runtime,
    session: AsyncSession,
    project_id: str,
    look: Callable[[], Awaitable[tuple[list[T], str | None]]],
    kind: Kind,
    to: str | None,
    wait: float,
) -> tuple[list[T], str | None]:
    """A page (items, next) once it holds something: ``wait_until`` for list routes, woken
    by events of ``kind``. ``to`` is the address the query is limited to; the request's
    ``session`` ends its read after each look, so no connection is held while waiting."""

    async def looked() -> tuple[list[T], str | None]:
        answer = await look()
        await session.commit()
        return answer

    keys = None if to is None else (to,)
    return await wait_until(
        rt, project_id, looked, lambda a: bool(a[0]), kinds=(kind,), keys=keys, wait=wait
    )
