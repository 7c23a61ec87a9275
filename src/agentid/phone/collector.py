"""The number collector: once a day, every number bought ``pending`` is asked about again
at its provider (``active`` once the purchase is complete: Plivo may take days), and,
when ``AGENTID_PHONE_GC_INACTIVE_DAYS`` is set, every unpinned number with no inbound SMS
for that many days is released (the seed's lifecycle question, answered as a setting; off
by default). A number its provider will not release or describe now is tried again the
next day; nothing here stops the service."""

from __future__ import annotations

import logging

from agentid.phone.service import collect
from agentid.phone.service import settle_pending
from agentid.providers.registry import Transports
from agentid.runtime import Runtime
from agentid.workers import PeriodicJob

log = logging.getLogger("agentid.phone")
INTERVAL_SECONDS = 24 * 3600.0


class NumberCollector(PeriodicJob):
    """``once`` a day (``interval``), in one process of a cluster."""

    def __init__(
        self, runtime: Runtime, transports: Transports, interval: float = INTERVAL_SECONDS
    ) -> None:
        self._rt = runtime
        self._transports = transports
        job, failed = "number-collector", "number collection failed"
        super().__init__(runtime.leader, job, interval, self.once, log, failed)

    async def once(self) -> int:
        """One pass over every project; how many numbers were released."""
        async with self._rt.sessions() as session:
            active = await settle_pending(self._rt, session, self._transports)
        if active:
            log.info("pending numbers active", extra={"count": active})
        days = self._rt.settings.phone_gc_inactive_days
        if days is None:
            return 0
        async with self._rt.sessions() as session:
            found = await collect(self._rt, session, None, days, self._transports)
        if found.numbers:
            log.info("inactive numbers released", extra={"count": len(found.numbers)})
        return len(found.numbers)
