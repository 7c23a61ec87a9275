"""Which process runs a cluster-wide job: on PostgreSQL, the one holding the job's advisory
lock; with SQLite (one process), always this one.

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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from agentid.config import Settings

if TYPE_CHECKING:  # imported on the first try for a lock: a SQLite service never loads it
    import asyncpg

log = logging.getLogger("agentid.leader")

RETRY_SECONDS = 2.0


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

    @classmethod
    def for_settings(cls, settings: Settings) -> Leadership:
        url = settings.resolved_database_url()
        if not url.startswith("postgresql"):
            return cls()
        return cls("postgresql://" + url.partition("://")[2], settings.database_schema)

    async def held(self, job: str) -> bool:
        """Whether this process runs ``job`` now (taking it when nobody does)."""
        if self._dsn is None:
            return True
        import asyncpg

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
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
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
        if self._conn is None or self._conn.is_closed():
            await self._drop()
            assert self._dsn is not None
            import asyncpg

            self._conn = await asyncpg.connect(self._dsn, timeout=10)
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
