"""The event bus across processes: PostgreSQL LISTEN/NOTIFY around a ``LocalBus``.

Every agentid process on one PostgreSQL store (and schema) listens on one channel. A
signal published here is delivered to this process's listeners at once, as with the
local bus, and sent as a NOTIFY to the others (``store/notices``: its project, kind, the
event row's seq and the addresses it concerns). A process ignores its own notifications,
including those its helper processes send in their own transactions under its origin
(``notifier``, ``deliver``).

The rules:

- **Nothing is lost, at worst looked at twice.** NOTIFY is not durable: a process whose
  connection drops misses what was sent meanwhile. So after every reconnect each of its
  listeners and subscribers is woken once (``LocalBus.wake_all``): long-polls ask the
  store again, the router drops its cache, the webhook dispatcher reads the events table.
  While disconnected the part ``event-bus`` is down (``/healthz`` 503), and it retries
  every 0.1 s doubling to 2 s.
- **A NOTIFY waits for no disk.** The listening connection commits without waiting for
  its WAL to be flushed (``synchronous_commit=off``): a notification is delivered at the
  commit either way, and there is nothing in its transaction a crash could lose.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable
from collections.abc import Collection
from typing import TYPE_CHECKING
from typing import Any

from agentid.config import Settings
from agentid.events import EventBus
from agentid.events import Kind
from agentid.events import Listener
from agentid.events import LocalBus
from agentid.events import Signal
from agentid.health import Health
from agentid.store.notices import Notifier
from agentid.store.notices import channel_for
from agentid.store.notices import decode
from agentid.store.notices import encode

if TYPE_CHECKING:  # imported when a PgBus connects: a SQLite service never loads it
    import asyncpg

log = logging.getLogger("agentid.bus")

PART = "event-bus"  # its name in runtime.health and /healthz
RECONNECT_FIRST, RECONNECT_MAX = 0.1, 2.0  # seconds
_NOTIFY = "SELECT pg_notify($1, p) FROM unnest($2::text[]) WITH ORDINALITY AS t(p, n) ORDER BY n"


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as asyncpg's own ``connect`` takes it."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql{sep}{rest}" if scheme.startswith("postgres") else url


def connection_failures() -> tuple[type[Exception], ...]:
    """What asyncpg raises when its connection is gone or can no longer be used: besides
    network and server errors, ``InternalClientError`` when the server ended the session
    while the protocol was between states (``pg_terminate_backend``, a restart)."""
    import asyncpg

    return (
        OSError,
        TimeoutError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        asyncpg.InternalClientError,
    )


class PgBus:
    """The bus of a process that shares its PostgreSQL store with others."""

    def __init__(self, dsn: str, channel: str, health: Health) -> None:
        self._dsn = dsn
        self.channel = channel
        self._health = health
        self._local = LocalBus()
        self._origin = secrets.token_hex(8)
        self._pending: list[str] = []
        self._kick = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.heard = 0  # signals received from other processes
        self.server_pid: int | None = None  # the listening connection's backend, when up

    # What every bus does: local delivery (now), and a NOTIFY for the others.
    def publish(self, signal: Signal) -> None:
        self._local.publish(signal)
        self._pending.extend(encode(self._origin, signal))
        self._kick.set()

    def deliver(self, signal: Signal) -> None:
        """To this process's listeners only: the others heard it from the transaction that
        stored it (``notifier``)."""
        self._local.publish(signal)

    @property
    def notifier(self) -> Notifier:
        """How a helper process NOTIFYs the others as this bus would (``store/notices``)."""
        return Notifier(self.channel, self._origin)

    def listen(
        self, project_id: str, kinds: Collection[Kind], keys: Collection[str] | None = None
    ) -> contextlib.AbstractAsyncContextManager[Listener]:
        return self._local.listen(project_id, kinds, keys)

    def subscribe(self, kind: Kind, callback: Callable[[Signal], None]) -> None:
        self._local.subscribe(kind, callback)

    def close(self) -> None:
        self._local.close()

    def listener_count(self, project_id: str) -> int:
        return self._local.listener_count(project_id)

    async def start(self) -> None:
        """Connect and listen; return once listening (raise if the store cannot be reached,
        as ``agentid serve`` would fail on it anyway)."""
        first = await self._connect()
        self._task = asyncio.create_task(self._run(first), name="agentid-event-bus")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _connect(self) -> asyncpg.Connection:
        import asyncpg

        conn: asyncpg.Connection = await asyncpg.connect(
            self._dsn, timeout=10, server_settings={"synchronous_commit": "off"}
        )
        try:
            await conn.add_listener(self.channel, self._heard)
        except BaseException:
            await conn.close()
            raise
        self.server_pid = conn.get_server_pid()
        return conn

    def _heard(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        decoded = decode(payload)
        if decoded is None or decoded[0] == self._origin:
            return
        self.heard += 1
        self._local.publish(decoded[1])

    async def _run(self, conn: asyncpg.Connection | None) -> None:
        delay = RECONNECT_FIRST
        while True:
            if conn is None:
                try:
                    conn = await self._connect()
                except connection_failures() as exc:
                    self._health.mark_down(PART, f"cannot listen: {type(exc).__name__}")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RECONNECT_MAX)
                    continue
                self._local.wake_all()  # what was sent while away was not heard
            delay = RECONNECT_FIRST
            self._health.mark_up(PART)
            try:
                await self._send_until_lost(conn)
            except connection_failures() as exc:
                self._health.mark_down(PART, f"connection lost: {type(exc).__name__}")
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), 2)
            conn = None

    async def _send_until_lost(self, conn: asyncpg.Connection) -> None:
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        while not conn.is_closed():
            if not self._pending:
                self._kick.clear()
                await _first_of(self._kick, lost)
                if lost.is_set():
                    raise ConnectionResetError("the listening connection closed")
                continue
            batch, self._pending = self._pending, []
            try:
                await conn.execute(_NOTIFY, self.channel, batch)
            except BaseException:
                self._pending[:0] = batch  # sent again on the next connection
                raise
        raise ConnectionResetError("the listening connection closed")


async def _first_of(*events: asyncio.Event) -> None:
    """Until one of ``events`` is set."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


def bus_for(settings: Settings, health: Health) -> EventBus:
    """A PostgreSQL store shares its signals between processes; SQLite has one process."""
    url = settings.resolved_database_url()
    if not url.startswith("postgresql"):
        return LocalBus()
    return PgBus(asyncpg_dsn(url), channel_for(settings.database_schema), health)
