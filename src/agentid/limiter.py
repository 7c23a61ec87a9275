"""How many wrong tokens an address may present, in this process: at most ``attempts``
a minute. A token carries 256 random bits, so this bounds the work a guesser makes and,
above all, its odds against the operator token, which the operator chose.

An attempt is counted when it begins, before the lookup awaits anything, so that many
requests sent at once cannot all pass the check; a right token forgives its own attempt
and no other, so that a guesser holding some valid token cannot clear its failures with
it. The web page's sign-in refuses a limited address outright; the API still lets a
project token through (agentid.api.gate).

A client is its IPv4 address, or its IPv6 /64 (one host's share of a network: a guesser
has the whole of it). Its network (an IPv4 /24, an IPv6 /48: what one site is given) may
make NETWORK_SHARE times a client's attempts, so that whoever holds many addresses of one
network (65,536 /64s in a /48) does not get as many times the attempts. At most CLIENTS
clients and networks are remembered; the oldest goes first."""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict
from collections import deque

ATTEMPTS = 10
WINDOW_SECONDS = 60.0
CLIENTS = 4096
NETWORK_SHARE = 16  # a network's attempts, in clients' worth


class _Attempts:
    """Attempt times by key (a client, or a network) within the window: at most ``most``
    each, and at most ``keys`` keys remembered (the oldest goes first)."""

    def __init__(self, most: int, window: float, keys: int) -> None:
        self.most, self.window, self.keys = most, window, keys
        self._times: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str, now: float) -> float | None:
        """The seconds until ``key`` may try again, when it has used up its attempts."""
        times = self._times.get(key)
        while times and times[0] <= now - self.window:
            times.popleft()
        if times is None or len(times) < self.most:
            return None
        return times[0] + self.window - now

    def add(self, key: str, now: float) -> None:
        self._times.setdefault(key, deque()).append(now)
        self._times.move_to_end(key)
        while len(self._times) > self.keys:
            self._times.popitem(last=False)

    def forgive(self, key: str) -> None:
        times = self._times.get(key)
        if times:
            times.pop()


class TokenLimiter:
    def __init__(
        self, attempts: int = ATTEMPTS, window: float = WINDOW_SECONDS, clients: int = CLIENTS
    ) -> None:
        self._clients = _Attempts(attempts, window, clients)
        self._networks = _Attempts(attempts * NETWORK_SHARE, window, clients)

    def _counts(self, address: str) -> list[tuple[_Attempts, str]]:
        """What an attempt from ``address`` counts against: its client, and its network
        when that is another (not for an address that is no IP)."""
        client, network = client_of(address), network_of(address)
        if network == client:
            return [(self._clients, client)]
        return [(self._clients, client), (self._networks, network)]

    def attempt(self, address: str) -> float | None:
        """Count an attempt from ``address`` beginning now; or, when its client or its
        network has used up its attempts, the seconds until it may try again (nothing
        counted)."""
        now, counts = time.monotonic(), self._counts(address)
        waits = [w for kept, key in counts if (w := kept.wait(key, now)) is not None]
        if waits:
            return max(1.0, *waits)
        for kept, key in counts:
            kept.add(key, now)
        return None

    def succeeded(self, address: str) -> None:
        """The attempt from ``address`` was a right token: it is not counted (its client's
        failures still are)."""
        for kept, key in self._counts(address):
            kept.forgive(key)


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


def network_of(address: str) -> str:
    """The network a client is part of: an IPv4 /24, an IPv6 /48."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return str(ipaddress.ip_network((ip, 24 if ip.version == 4 else 48), strict=False))
