"""Retention: messages older than their project's retention are purged in the background."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.tables import CodeRow, Message, Project

log = logging.getLogger("agentid.retention")


async def purge_expired(runtime: Runtime, now: datetime | None = None) -> int:
    """Delete every message, code and event past its project's retention; how many messages."""
    now = now or datetime.now(UTC)
    purged = 0
    async with runtime.sessions.begin() as session:
        projects = (await session.execute(select(Project.id, Project.retention_days))).all()
        for project_id, days in projects:
            cutoff = now - timedelta(days=days)
            await session.execute(
                delete(CodeRow).where(
                    CodeRow.project_id == project_id, CodeRow.received_at < cutoff
                )
            )
            result = await session.execute(
                delete(Message).where(
                    Message.project_id == project_id, Message.received_at < cutoff
                )
            )
            purged += int(getattr(result, "rowcount", 0) or 0)
            await event_log.expire(session, project_id, cutoff)
    if purged:
        runtime.scrub.set()
        log.info("purged expired messages", extra={"count": purged})
    return purged


class RetentionTask:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agentid-retention")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await purge_expired(self._rt)
            except Exception:
                log.exception("retention purge failed")
            await asyncio.sleep(self._rt.settings.retention_interval_seconds)
