"""Retention: messages older than their project's retention are purged in the background."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from agentid.codes.repository import EscalationRepository
from agentid.email.repository import MessageRepository
from agentid.phone.repository import PhoneRepository
from agentid.projects.repository import ProjectRepository
from agentid.runtime import Runtime
from agentid.store.leader import periodically
from agentid.webhooks.repository import WebhookRepository
from agentid.workers import Loop

log = logging.getLogger("agentid.retention")


async def purge_expired(runtime: Runtime, now: datetime | None = None) -> int:
    """Delete every message, SMS, code, escalation and event past its project's retention,
    and the webhook deliveries of those events; how many messages and SMS."""
    now = now or datetime.now(UTC)
    purged = 0
    async with runtime.sessions.begin() as session:
        messages, texts = MessageRepository(session), PhoneRepository(session)
        asked = EscalationRepository(session)
        for project_id, days in await ProjectRepository(session).retention():
            purged += await messages.purge(project_id, now - timedelta(days=days))
            purged += await texts.purge(project_id, now - timedelta(days=days))
            await asked.purge(project_id, now - timedelta(days=days))
        await WebhookRepository(session).forget_purged_events()
    if purged:
        runtime.scrub.set()
        log.info("purged expired messages", extra={"count": purged})
    return purged


class RetentionTask:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._loop = Loop("agentid-retention")

    async def start(self) -> None:
        self._loop.begin(self._run())

    async def stop(self) -> None:
        await self._loop.end()

    async def _run(self) -> None:
        """One process of a cluster purges (``store/leader``)."""
        await periodically(
            self._rt.leader, "retention", self._rt.settings.retention_interval_seconds, self._pass
        )

    async def _pass(self) -> None:
        try:
            await purge_expired(self._rt)
        except Exception:
            log.exception("retention purge failed")
