"""How many wrong tokens an address may present, in this process: at most ``attempts``
a minute. A token carries 256 random bits, so this bounds the work a guesser makes and,
above all, its odds against the operator token, which the operator chose.

An attempt is counted when it begins, before the lookup awaits anything, so that many
requests sent at once cannot all pass the check; a right token forgives its own attempt
and no other, so that a guesser holding some valid token cannot clear its failures with
it. The web page's sign-in refuses a limited address outright; the API still lets a
project token through (agentid.api.gate).

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

    def attempt(self, address: str) -> float | None:
        """Count an attempt from ``address`` beginning now; or, when its client has used
        up its attempts, the seconds until it may try again (nothing counted)."""
        client, now = client_of(address), time.monotonic()
        times = self._recent(client, now)
        if len(times) >= self.attempts:
            return max(1.0, times[0] + self.window - now)
        times.append(now)
        self._failed[client] = times
        self._failed.move_to_end(client)
        while len(self._failed) > self.clients:
            self._failed.popitem(last=False)
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
