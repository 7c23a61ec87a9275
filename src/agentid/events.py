"""In-process events: long-poll waiters and server-sent event streams.

A listener is registered *before* the caller queries the store, so nothing that arrives
between the query and the wait is missed. Publishing never blocks: a slow stream whose
queue is full drops its oldest event and is told so with a ``stream.lagged`` event.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

QUEUE_SIZE = 1000
STOPPING = "service.stopping"


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened in one project, with the data waiters filter on."""

    project_id: str
    kind: str  # message.received, code.found, ...
    data: dict[str, Any] = field(default_factory=dict)


class Listener:
    def __init__(self) -> None:
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)

    def put(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.queue.get_nowait()
            self.queue.put_nowait(Event(event.project_id, "stream.lagged"))
            self.queue.put_nowait(event)

    async def next(self, seconds: float | None) -> Event | None:
        """The next event, or None when ``seconds`` pass first."""
        try:
            async with asyncio.timeout(seconds):
                return await self.queue.get()
        except TimeoutError:
            return None


class EventBus:
    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[Listener]] = defaultdict(set)

    def publish(self, event: Event) -> None:
        for listener in tuple(self._listeners.get(event.project_id, ())):
            listener.put(event)

    @asynccontextmanager
    async def listen(self, project_id: str) -> AsyncIterator[Listener]:
        listener = Listener()
        self._listeners[project_id].add(listener)
        try:
            yield listener
        finally:
            listeners = self._listeners.get(project_id)
            if listeners is not None:
                listeners.discard(listener)
                if not listeners:
                    del self._listeners[project_id]

    def close(self) -> None:
        """Tell every listener the service is stopping (long-polls and streams end)."""
        for listeners in tuple(self._listeners.values()):
            for listener in tuple(listeners):
                listener.put(Event("", STOPPING))

    def listener_count(self, project_id: str) -> int:
        return len(self._listeners.get(project_id, ()))


async def next_event(listener: Listener, stopping: asyncio.Event, seconds: float) -> Event | None:
    """The listener's next event; None on timeout or once the service is stopping."""
    if stopping.is_set():
        return None
    event = await listener.next(seconds)
    if event is None or event.kind == STOPPING:
        return None
    return event
