"""How many failed sign-ins the web page takes: at most ATTEMPTS per client address a
minute, in this process (a token carries 256 random bits, so this bounds the work a
guesser makes, not its odds). Past it, a sign-in is refused (429) before the token is
looked up. At most CLIENTS addresses are remembered; the oldest goes first."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections import deque

ATTEMPTS = 10
WINDOW_SECONDS = 60.0
CLIENTS = 4096


class SignInLimiter:
    def __init__(
        self, attempts: int = ATTEMPTS, window: float = WINDOW_SECONDS, clients: int = CLIENTS
    ) -> None:
        self.attempts, self.window, self.clients = attempts, window, clients
        self._failed: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, client: str, now: float) -> deque[float]:
        times = self._failed.get(client, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        return times

    def retry_after(self, client: str) -> float | None:
        """Seconds until ``client`` may try again; None: it may now."""
        now = time.monotonic()
        times = self._recent(client, now)
        if len(times) < self.attempts:
            return None
        return max(1.0, times[0] + self.window - now)

    def failed(self, client: str) -> None:
        now = time.monotonic()
        times = self._recent(client, now)
        times.append(now)
        self._failed[client] = times
        self._failed.move_to_end(client)
        while len(self._failed) > self.clients:
            self._failed.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._failed.pop(client, None)
