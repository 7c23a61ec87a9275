"""How many wrong tokens a client may present, in this process: a token carries 256
random bits, so this bounds the work a guesser makes (and the odds against an operator
token the operator chose), not the odds against a generated one. Past the limit, the
client is refused (429) before its token is looked up.

Two uses. The web page's sign-in (``attempt``, ``succeeded``) counts an attempt when it
begins, before the lookup awaits anything, so that many posts sent at once cannot all
pass the check; a right token forgives its own attempt and no other, so that a guesser
holding some valid token cannot clear its failures with it. The API (``blocked``,
``failed``) counts a wrong token once it is known to be wrong: every request carries a
token, and a client's many requests at once are not guesses; guesses sent at once are
all looked up, and the limit bounds what follows.

A client is its IPv4 address, or its IPv6 /64 (one host's share of a network: a guesser
has the whole of it). At most CLIENTS are remembered; the oldest goes first."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections import deque

ATTEMPTS = 10
WINDOW_SECONDS = 60.0
CLIENTS = 4096


class TokenLimiter:
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

    def blocked(self, address: str) -> float | None:
        """When the client of ``address`` has used up its attempts, the seconds until it
        may try again; else None. Nothing is counted."""
        client, now = client_of(address), time.monotonic()
        times = self._recent(client, now)
        return max(1.0, times[0] + self.window - now) if len(times) >= self.attempts else None

    def failed(self, address: str) -> None:
        """Count a wrong token (or an attempt that may be one) from ``address``, now."""
        client, now = client_of(address), time.monotonic()
        times = self._recent(client, now)
        times.append(now)
        self._failed[client] = times
        self._failed.move_to_end(client)
        while len(self._failed) > self.clients:
            self._failed.popitem(last=False)

    def attempt(self, address: str) -> float | None:
        """Count a sign-in from ``address`` beginning now; or, when its client has used up
        its attempts, the seconds until it may try again (nothing counted)."""
        if (wait := self.blocked(address)) is not None:
            return wait
        self.failed(address)
        return None

    def succeeded(self, address: str) -> None:
        """The attempt from ``address`` was a right token: it is not counted (its client's
        failures still are)."""
        times = self._failed.get(client_of(address))
        if times:
            times.pop()


def client_of(address: str) -> str:
    """Who the limit counts: an IPv4 address as it is, an IPv6 one by its /64."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address  # "unknown", a unix socket's peer
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
