"""Which committed messages are digested next: fair across projects, fresh first, none starved.

- Round-robin across projects: a burst to one project takes one turn in each round, so a
  message to another project waits for at most a batch, not for the burst.
- Newest first within a project: the message an agent is waiting for right now is the one
  that just arrived, not the ten thousand before it.
- A message waiting longer than the maximum lag goes before everything else, oldest first,
  so under sustained load nothing waits for ever.

Items are taken lazily from two views (per-project stacks, one arrival queue): an item
taken through one view is skipped when the other reaches it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(eq=False, slots=True)
class Item:
    message_id: str
    project_id: str
    size: int
    queued_at: float = field(default_factory=time.monotonic)
    suspect: bool = False  # a worker died while reading it: digest it alone
    taken: bool = False


class DigestQueue:
    def __init__(self, max_lag: float) -> None:
        self._max_lag = max_lag
        self._arrivals: deque[Item] = deque()
        self._projects: dict[str, deque[Item]] = {}
        self._rotation: deque[str] = deque()
        self._count = 0
        self._changed = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return self._count

    def put(self, item: Item) -> None:
        item.taken = False
        self._arrivals.append(item)
        self._stack(item.project_id).append(item)
        self._count += 1
        self._changed.set()

    def put_back(self, items: Iterable[Item]) -> None:
        """Items taken but not digested (a worker ended): first in line again."""
        back = list(items)
        for item in reversed(back):
            item.taken = False
            self._arrivals.appendleft(item)
        for item in back:
            self._stack(item.project_id).append(item)
        self._count += len(back)
        self._changed.set()

    def close(self) -> None:
        """Wake every taker with an empty batch."""
        self._closed = True
        self._changed.set()

    async def take(self, max_count: int, max_bytes: int) -> list[Item]:
        """The next batch (waits while there is none); empty once closed."""
        while not self._count:
            if self._closed:
                return []
            self._changed.clear()
            await self._changed.wait()
        if self._closed:
            return []
        return self.take_now(max_count, max_bytes)

    def take_now(self, max_count: int, max_bytes: int) -> list[Item]:
        batch: list[Item] = []
        size = 0

        def full() -> bool:
            return len(batch) >= max_count or (size >= max_bytes and bool(batch))

        overdue = time.monotonic() - self._max_lag
        while self._arrivals and not full():
            head = self._arrivals[0]
            if head.taken:
                self._arrivals.popleft()
                continue
            if head.queued_at > overdue or (head.suspect and batch):
                break
            self._arrivals.popleft()
            self._take(head, batch)
            size += head.size
            if head.suspect:
                return batch
        while self._rotation and not full():
            project_id = self._rotation[0]
            self._rotation.rotate(-1)
            stack = self._projects[project_id]
            while stack and stack[-1].taken:
                stack.pop()
            if not stack:
                del self._projects[project_id]
                self._rotation.remove(project_id)
                continue
            item = stack[-1]
            if item.suspect:
                if batch:
                    break
                stack.pop()
                self._take(item, batch)
                return batch
            stack.pop()
            self._take(item, batch)
            size += item.size
        return batch

    def _take(self, item: Item, batch: list[Item]) -> None:
        item.taken = True
        self._count -= 1
        batch.append(item)

    def _stack(self, project_id: str) -> deque[Item]:
        stack = self._projects.get(project_id)
        if stack is None:
            stack = self._projects[project_id] = deque()
            self._rotation.append(project_id)
        return stack
