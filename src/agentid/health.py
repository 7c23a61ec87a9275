"""Which parts of a running agentid are down, and why.

The rule: a part's state changes are logged, its failures are not. ``mark_down`` logs one
error line when a part goes down and nothing while it stays down (however many messages
fail meanwhile); ``mark_up`` logs one info line when it comes back. ``/healthz`` answers
503 naming every part that is down.

Parts call these from the event loop or from their own threads; both are safe.
"""

from __future__ import annotations

import logging
import threading
import time

log = logging.getLogger("agentid.health")


class Health:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down: dict[str, str] = {}
        self._since: dict[str, float] = {}

    def mark_down(self, part: str, reason: str) -> None:
        """``part`` is down for ``reason``; logged only if it was up until now."""
        with self._lock:
            was_up = part not in self._down
            self._down[part] = reason  # the latest reason is the one /healthz shows
            if was_up:
                self._since[part] = time.monotonic()
        if was_up:
            log.error("%s is down: %s", part, reason, extra={"part": part, "reason": reason})

    def mark_up(self, part: str) -> None:
        """``part`` works again; logged only if it was down until now."""
        with self._lock:
            if self._down.pop(part, None) is None:
                return
            seconds = time.monotonic() - self._since.pop(part)
        log.info("%s is up again", part, extra={"part": part, "down_seconds": round(seconds, 3)})

    def down(self) -> dict[str, str]:
        """Every part that is down, with its reason (a copy)."""
        with self._lock:
            return dict(self._down)
