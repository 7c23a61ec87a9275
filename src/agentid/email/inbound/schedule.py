"""Which committed messages are digested next: fair across projects and their addresses,
fresh first, none starved.

- Round-robin across projects, and within a project across the addresses mail came to: a
  burst to one alias takes one turn in each round, so a message to another alias (or
  another project) waits for at most a batch, not for the burst.
- Newest first within an address: the message an agent is waiting for right now is the
  one that just arrived, not the ten thousand before it.
- A batch that holds the only message to its address (what a waiting agent is most
  likely waiting for, while a burst fills another address) is cut short at
  ``WAITED_BATCH`` messages, so its results are stored and published after a few messages
  rather than a full batch; bursts alone still go in full batches.
- A message waiting longer than the maximum lag is overdue: up to half of every batch goes
  to overdue messages, oldest first, so under sustained load nothing waits for ever, and
  fresh mail still gets the other half.
- A project whose mail overran the digest budget is set apart for a while: its messages
  are digested one at a time, and only when no other project has mail waiting (or once
  they are overdue), so a hostile sender slows down its own project and no other.

Items are taken lazily from two views (per-address stacks, one arrival queue): an item
taken through one view is skipped when the other reaches it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

WAITED_BATCH = 16


@dataclass(eq=False, slots=True)
class Item:
    message_id: str
    project_id: str
    size: int
    address: str = ""  # the (first) envelope recipient: the unit of fairness in a project
    queued_at: float = field(default_factory=time.monotonic)
    suspect: bool = False  # a worker died while reading it: digest it alone
    taken: bool = False

    def alone(self, set_apart: dict[str, float], now: float) -> bool:
        """Must this item be digested in a batch of its own?"""
        return self.suspect or set_apart.get(self.project_id, 0.0) > now


def _drop_taken(stack: deque[Item]) -> None:
    """Pop the items on top of ``stack`` already taken through the other view."""
    while stack and stack[-1].taken:
        stack.pop()


class _Rotation:
    """Keys taking turns, each with a stack of items (taken ones are skipped lazily)."""

    def __init__(self) -> None:
        self.order: deque[str] = deque()
        self.stacks: dict[str, deque[Item]] = {}

    def push(self, key: str, item: Item) -> None:
        stack = self.stacks.get(key)
        if stack is None:
            stack = self.stacks[key] = deque()
            self.order.append(key)
        stack.append(item)

    def next_key(self) -> str | None:
        """The key whose turn it is (moved to the back), after dropping empty ones."""
        while self.order:
            key = self.order[0]
            stack = self.stacks[key]
            _drop_taken(stack)
            if stack:
                self.order.rotate(-1)
                return key
            del self.stacks[key]
            self.order.popleft()
        return None


class DigestQueue:
    def __init__(self, max_lag: float) -> None:
        self._max_lag = max_lag
        self._arrivals: deque[Item] = deque()
        self._projects: dict[str, _Rotation] = {}  # project -> its addresses taking turns
        self._project_order: deque[str] = deque()
        self._set_apart: dict[str, float] = {}  # project -> until when (monotonic)
        self._count = 0
        self._changed = asyncio.Event()
        self._closed = False

    def __len__(self) -> int:
        return self._count

    def put(self, item: Item) -> None:
        item.taken = False
        self._arrivals.append(item)
        self._push(item)
        self._count += 1
        self._changed.set()

    def put_back(self, items: Iterable[Item]) -> None:
        """Items taken but not digested (a worker ended): first in line again."""
        back = list(items)
        for item in reversed(back):
            item.taken = False
            self._arrivals.appendleft(item)
        for item in back:
            self._push(item)
        self._count += len(back)
        self._changed.set()

    def set_apart(self, project_id: str, seconds: float) -> None:
        """Digest ``project_id``'s mail alone and after everyone else's, for ``seconds``."""
        now = time.monotonic()
        self._set_apart = {p: t for p, t in self._set_apart.items() if t > now}
        self._set_apart[project_id] = now + seconds

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
        now = time.monotonic()
        overdue = now - self._max_lag
        overdue_room = max(1, max_count // 2)
        while self._arrivals and len(batch) < overdue_room and size < max_bytes:
            head = self._arrivals[0]
            if head.taken:
                self._arrivals.popleft()
                continue
            alone = head.alone(self._set_apart, now)
            if head.queued_at > overdue or (alone and batch):
                break
            self._arrivals.popleft()
            self._take(head, batch)
            size += head.size
            if alone:
                return batch
        limit = max_count
        while len(batch) < limit and (size < max_bytes or not batch):
            item = self._next_fresh(now, set_apart_too=False)
            if item is None and not batch:
                item = self._next_fresh(now, set_apart_too=True)
            if item is None:
                break
            alone = item.alone(self._set_apart, now)
            if alone and batch:
                break
            stack = self._projects[item.project_id].stacks[item.address]
            stack.pop()
            self._take(item, batch)
            size += item.size
            if alone:
                break
            _drop_taken(stack)
            if not stack:  # the one message to its address: likely the one waited for
                limit = min(limit, max(len(batch), WAITED_BATCH))
        return batch

    def _next_fresh(self, now: float, *, set_apart_too: bool) -> Item | None:
        """The newest item of the next address of the next project, not yet taken; projects
        set apart are passed over unless ``set_apart_too``."""
        for _ in range(len(self._project_order)):
            project_id = self._project_order[0]
            project = self._projects[project_id]
            address = project.next_key()
            if address is None:  # nothing left in this project
                self._project_order.popleft()
                del self._projects[project_id]
                continue
            self._project_order.rotate(-1)
            if set_apart_too or self._set_apart.get(project_id, 0.0) <= now:
                return project.stacks[address][-1]
        return None

    def _take(self, item: Item, batch: list[Item]) -> None:
        item.taken = True
        self._count -= 1
        batch.append(item)

    def _push(self, item: Item) -> None:
        project = self._projects.get(item.project_id)
        if project is None:
            project = self._projects[item.project_id] = _Rotation()
            self._project_order.append(item.project_id)
        project.push(item.address, item)
