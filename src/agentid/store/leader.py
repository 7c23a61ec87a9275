"""Which process runs a cluster-wide job: on PostgreSQL, the one holding the job's advisory
lock; with SQLite (one process), always this one. And which processes are alive.

Periodic jobs (retention, the outbox's deliveries and retries, webhook deliveries, the
phone number collector) must run once across every process on a store, not once per
process: two outboxes would each restart the other's deliveries in flight as "cut off by
a stop". Each job has a session-level ``pg_try_advisory_lock`` key (per schema, so two
services sharing a database do not share jobs), taken on one connection this process
keeps for the purpose. The process holding it runs the job; the others try again every
``RETRY_SECONDS``. A process that dies, or whose connection drops, lets the lock go with
its session, and another takes the job over on its next try: at most ``RETRY_SECONDS``
without a runner. Work queued through any process wakes the runner over the event bus
(``Kind.OUTBOX_DUE``, ``Kind.WEBHOOKS_DUE``).

Each process is also a *node*: a random id (``node``) it writes as the owner of what only
it should work on (the messages it commits, ``email/inbound/claims``), and, on the same
connection, from ``start`` on, an advisory lock on that id. The lock goes with the
session, so ``alive`` tells another process which owners are still there: a process
killed on this machine lets go at once; one whose machine or network went away, once
PostgreSQL's keepalives on that session give up (``KEEPALIVE``, about 25 s). A process
whose connection dropped takes its lock again on the next use; in between others may
think it gone, so whatever owners decide must be safe when it was not (claims are).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from agentid.config import Settings
from agentid.store.bus import connection_failures
from agentid.times import utcnow

if TYPE_CHECKING:  # imported on the first try for a lock: a SQLite service never loads it
    import asyncpg

log = logging.getLogger("agentid.leader")

RETRY_SECONDS = 2.0
# the server's keepalives on this session: a peer gone without a word is noticed in ~25 s
KEEPALIVE = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}
_ALIVE = """SELECT k FROM unnest($1::bigint[]) AS k WHERE EXISTS (
    SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = ((k >> 32) & 4294967295)::oid AND l.objid = (k & 4294967295)::oid)"""


def lock_key(schema: str | None, job: str) -> int:
    """The job's advisory lock key: a signed 64-bit number of the schema and the job."""
    digest = hashlib.sha256(f"agentid:{schema or ''}:{job}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class Leadership:
    """The cluster-wide jobs this process runs now (``dsn`` None: every one, SQLite)."""

    def __init__(self, dsn: str | None = None, schema: str | None = None) -> None:
        self._dsn = dsn
        self._schema = schema
        self._conn: asyncpg.Connection | None = None
        self._held: set[str] = set()
        self._lock = asyncio.Lock()
        self.node = secrets.token_hex(8)  # this process, as the owner of what it works on

    @classmethod
    def for_settings(cls, settings: Settings) -> Leadership:
        url = settings.resolved_database_url()
        if not url.startswith("postgresql"):
            return cls()
        return cls("postgresql://" + url.partition("://")[2], settings.database_schema)

    @property
    def shared(self) -> bool:
        """Whether other processes may share the store (PostgreSQL)."""
        return self._dsn is not None

    async def start(self) -> None:
        """Connect and take this node's lock, before this process commits anything it
        owns (raise if the store cannot be reached, as ``agentid serve`` would anyway)."""
        if self._dsn is not None:
            async with self._lock:
                await self._connection()

    async def alive(self, nodes: Collection[str]) -> set[str]:
        """Which of ``nodes`` are processes still running on this store (this one
        included); raises when that cannot be told now (the store is unreachable)."""
        if self._dsn is None:
            return {self.node} & set(nodes)  # SQLite: this process is the only one
        keys = {lock_key(self._schema, f"node:{node}"): node for node in nodes}
        async with self._lock:
            try:
                conn = await self._connection()
                found = await conn.fetch(_ALIVE, list(keys))
            except connection_failures():
                await self._drop()
                raise
        return {keys[row[0]] for row in found}

    async def held(self, job: str) -> bool:
        """Whether this process runs ``job`` now (taking it when nobody does)."""
        if self._dsn is None:
            return True
        async with self._lock:
            try:
                conn = await self._connection()
                if job in self._held:
                    await conn.fetchval("SELECT 1")  # still ours while the session lives
                    return True
                got = bool(
                    await conn.fetchval(
                        "SELECT pg_try_advisory_lock($1)", lock_key(self._schema, job)
                    )
                )
            except connection_failures():
                await self._drop()
                return False
            if got:
                self._held.add(job)
                log.info("running a cluster-wide job", extra={"job": job})
            return got

    async def wait(self, job: str) -> None:
        """Until this process runs ``job``."""
        while True:
            if await self.held(job):
                return
            await asyncio.sleep(RETRY_SECONDS)

    async def close(self) -> None:
        """Let every job go (another process takes them on its next try)."""
        async with self._lock:
            self._held.clear()
            await self._drop()

    async def _connection(self) -> asyncpg.Connection:
        """The lock connection, with this node's lock taken (again, after a drop)."""
        if self._conn is None or self._conn.is_closed():
            await self._drop()
            assert self._dsn is not None
            import asyncpg

            conn = await asyncpg.connect(self._dsn, timeout=10, server_settings=KEEPALIVE)
            try:
                await conn.execute(
                    "SELECT pg_advisory_lock($1)", lock_key(self._schema, f"node:{self.node}")
                )
            except BaseException:
                await conn.close()
                raise
            self._conn = conn
        return self._conn

    async def _drop(self) -> None:
        if self._held:
            log.warning("cluster-wide jobs let go", extra={"jobs": sorted(self._held)})
        self._held.clear()
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.close(), 2)


async def periodically(
    leader: Leadership, job: str, interval: float, work: Callable[[], Awaitable[None]]
) -> None:
    """Run ``work`` every ``interval`` seconds while this process runs ``job``; while
    another does, wait to take it over."""
    while True:
        await leader.wait(job)
        await work()
        await asyncio.sleep(interval)


async def in_rounds(
    leader: Leadership,
    job: str,
    *,
    restart: Callable[[], Awaitable[None]],
    work: Callable[[], Awaitable[bool]],
    next_due: Callable[[], Awaitable[datetime | None]],
    wake: asyncio.Event,
    idle: float,
    failed: Callable[[], None],
    gap: float = 0.0,
) -> None:
    """Run a queue's ``job`` (the outbox, webhook deliveries) while this process holds it:
    on taking it over, ``restart`` what a stop cut off; then rounds of ``work`` (whether
    there was any) and, after an idle one, a sleep until the next is ``next_due``, ``wake``
    is set, or ``idle`` seconds pass, and at least ``gap`` seconds after the idle round
    (so a stream of wake-ups costs a round per gap). A round that raises (the store
    hiccuped) calls ``failed`` (in the ``except``, to log it) and is tried again."""
    while True:
        await leader.wait(job)
        try:
            await restart()
        except Exception:
            failed()
            await asyncio.sleep(idle)
            continue
        while await leader.held(job):
            wake.clear()
            try:
                worked = await work()
            except Exception:
                failed()
                worked = False
            if not worked:
                looked = time.monotonic()
                await _nap(await next_due(), wake, idle)
                await asyncio.sleep(gap - (time.monotonic() - looked))


async def _nap(due: datetime | None, wake: asyncio.Event, most: float) -> None:
    """Until ``due``, until ``wake`` is set, or ``most`` seconds."""
    wait = most
    if due is not None:
        wait = min(wait, max(0.0, (due - utcnow()).total_seconds()))
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(wait):
            await wake.wait()
