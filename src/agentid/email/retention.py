"""Retention: messages older than their project's retention are purged in the background."""

from __future__ import annotations

import logging
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from functools import partial

from agentid.codes.repository import EscalationRepository
from agentid.email.repository import MessageRepository
from agentid.phone.repository import PhoneRepository
from agentid.projects.repository import ProjectRepository
from agentid.runtime import Runtime
from agentid.webhooks.repository import WebhookRepository
from agentid.workers import PeriodicJob

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


class RetentionTask(PeriodicJob):
    """``purge_expired`` every ``AGENTID_RETENTION_INTERVAL_SECONDS``, in one process of a
    cluster."""

    def __init__(self, runtime: Runtime) -> None:
        interval = runtime.settings.retention_interval_seconds
        work = partial(purge_expired, runtime)
        super().__init__(runtime.leader, "retention", interval, work, log, "retention purge failed")
