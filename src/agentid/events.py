"""The event bus: who must look at the store again now.

Every event that matters to a client is a row of the events table (``store/event_log``),
written with the change it reports. The bus carries only a ``Signal`` (project, kind, the
row's seq, the addresses it concerns), so whatever listens reads the store for the rest:
the store stays the one definition of what a filter matches, and a bus between
processes (PostgreSQL's LISTEN/NOTIFY) can carry the same signals.

A listener is registered *before* its owner queries the store, so nothing published
between the query and the wait is missed. A listener is a flag, not a queue: however many
signals arrive while its owner is busy, the owner looks once more, and nothing is ever
dropped. A listener names the kinds and, optionally, the addresses it cares about, and is
woken only by those: 200 long-polls on 200 aliases cost one wake-up per message, not 200.
A listener on ``EVERY_PROJECT`` (the operator's stream) hears those kinds from every project.

``LocalBus`` is the bus of one process; with a PostgreSQL store, ``store/bus.PgBus`` wraps
one and carries every signal to the other processes on the same store (NOTIFY), so a
long-poll on one process wakes when another stores what it waits for. A helper process
that stores a message tells the other processes in its own transaction (``notifier``);
its server then only ``deliver``s the signal to its own listeners.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Collection
from contextlib import AbstractAsyncContextManager
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from typing import Protocol
from typing import TypeVar

if TYPE_CHECKING:
    from agentid.store.notices import Notifier

_K = TypeVar("_K")


class Kind(StrEnum):
    MESSAGE_RECEIVED = "message.received"  # payload: the message as the inbox lists it
    CODE_FOUND = "code.found"  # payload: the code as the codes API shows it
    # payload: {message_id, authenticated, auth_results}; only for a message with codes
    MESSAGE_AUTHENTICATED = "message.authenticated"
    MESSAGE_SENT = "message.sent"  # payload: the sent message as the outbox shows it
    MESSAGE_FAILED = "message.failed"  # payload: the same, when no recipient got it
    SMS_RECEIVED = "sms.received"  # payload: the SMS as the phone messages list shows it
    SMS_FILTERED = "sms.filtered"  # payload: the notice /codes shows (a carrier filtered one)
    ESCALATION_OPENED = "escalation.opened"  # payload: the escalation as the API shows it
    ESCALATION_ANSWERED = "escalation.answered"  # payload: the same, answered
    ROUTES_CHANGED = "routes.changed"  # a domain, alias or catch-all changed (not stored)
    OUTBOX_DUE = "outbox.due"  # mail was queued to send: the outbox looks now (not stored)
    WEBHOOKS_DUE = "webhooks.due"  # a delivery was queued (a replay): the same (not stored)


@dataclass(frozen=True, slots=True)
class Signal:
    project_id: str  # "" for the whole service
    kind: Kind
    seq: int | None = None  # the event's row (None: not a stored event)
    keys: tuple[str, ...] = ()  # the addresses it concerns (envelope recipients)


# ``listen`` on this "project" hears the signals of every project (the operator's stream);
# never a project id (those are slugs)
EVERY_PROJECT = "*"


class Listener:
    def __init__(self, kinds: Collection[Kind], keys: frozenset[str] | None) -> None:
        self.kinds = frozenset(kinds)
        self.keys = keys  # None: every address
        self._flag = asyncio.Event()
        self.closed = False

    def notify(self) -> None:
        self._flag.set()

    def close(self) -> None:
        self.closed = True
        self._flag.set()

    async def wait(self, seconds: float) -> bool:
        """Until notified (True: look again) or ``seconds`` pass or the bus closes (False)."""
        if not self._flag.is_set():
            try:
                async with asyncio.timeout(max(seconds, 0.0)):
                    await self._flag.wait()
            except TimeoutError:
                return False
        self._flag.clear()
        return not self.closed


class EventBus(Protocol):
    def publish(self, signal: Signal) -> None: ...

    def deliver(self, signal: Signal) -> None:
        """Like ``publish``, but to this process's listeners only: the transaction that
        stored what ``signal`` reports told the other processes (``notifier``)."""
        ...

    @property
    def notifier(self) -> Notifier | None:
        """How a helper process's transaction tells the other processes of a signal, as
        this bus would; None when there are none (one process)."""
        ...

    def listen(
        self, project_id: str, kinds: Collection[Kind], keys: Collection[str] | None = None
    ) -> AbstractAsyncContextManager[Listener]: ...

    def subscribe(self, kind: Kind, callback: Callable[[Signal], None]) -> None:
        """Call ``callback`` (in the event loop, it must not block) for every such signal."""
        ...

    def close(self) -> None:
        """The service is stopping: every listener's wait ends."""
        ...

    def listener_count(self, project_id: str) -> int: ...

    async def start(self) -> None:
        """Connect whatever carries signals between processes (nothing for one process)."""
        ...

    async def stop(self) -> None:
        """Disconnect it; ``close`` has ended the waits already."""
        ...


class LocalBus:
    """The bus of one process."""

    def __init__(self) -> None:
        self._anywhere: defaultdict[str, set[Listener]] = defaultdict(set)
        self._by_key: defaultdict[tuple[str, str], set[Listener]] = defaultdict(set)
        self._callbacks: defaultdict[Kind, list[Callable[[Signal], None]]] = defaultdict(list)
        self._closed = False

    def publish(self, signal: Signal) -> None:
        for callback in tuple(self._callbacks.get(signal.kind, ())):
            callback(signal)
        everywhere = self._anywhere.get(EVERY_PROJECT, ()) if signal.project_id else ()
        for listener in (*self._anywhere.get(signal.project_id, ()), *everywhere):
            if signal.kind in listener.kinds:
                listener.notify()
        for key in signal.keys:
            for listener in self._by_key.get((signal.project_id, key), ()):
                if signal.kind in listener.kinds:
                    listener.notify()

    def deliver(self, signal: Signal) -> None:
        self.publish(signal)

    @property
    def notifier(self) -> Notifier | None:
        return None

    @asynccontextmanager
    async def listen(
        self, project_id: str, kinds: Collection[Kind], keys: Collection[str] | None = None
    ) -> AsyncIterator[Listener]:
        listener = Listener(kinds, None if keys is None else frozenset(keys))
        places = (
            [self._anywhere[project_id]]
            if listener.keys is None
            else [self._by_key[(project_id, key)] for key in listener.keys]
        )
        for place in places:
            place.add(listener)
        if self._closed:
            listener.close()
        try:
            yield listener
        finally:
            self._discard(project_id, listener)

    def _discard(self, project_id: str, listener: Listener) -> None:
        if listener.keys is None:
            self._remove(self._anywhere, project_id, listener)
        else:
            for key in listener.keys:
                self._remove(self._by_key, (project_id, key), listener)

    @staticmethod
    def _remove(where: defaultdict[_K, set[Listener]], at: _K, listener: Listener) -> None:
        listeners = where.get(at)
        if listeners is not None:
            listeners.discard(listener)
            if not listeners:
                del where[at]

    def subscribe(self, kind: Kind, callback: Callable[[Signal], None]) -> None:
        self._callbacks[kind].append(callback)

    def close(self) -> None:
        self._closed = True
        for listeners in (*self._anywhere.values(), *self._by_key.values()):
            for listener in listeners:
                listener.close()

    def wake_all(self) -> None:
        """Signals may have been missed (a bus between processes reconnected): every
        listener and every subscriber looks at the store again."""
        for kind, callbacks in tuple(self._callbacks.items()):
            for callback in tuple(callbacks):
                callback(Signal("", kind))
        for listeners in (*self._anywhere.values(), *self._by_key.values()):
            for listener in tuple(listeners):
                listener.notify()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def listener_count(self, project_id: str) -> int:
        keyed = {
            id(listener)
            for (project, _), listeners in self._by_key.items()
            if project == project_id
            for listener in listeners
        }
        return len(self._anywhere.get(project_id, ())) + len(keyed)
