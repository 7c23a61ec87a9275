"""The inbound checks as the verdict stage runs them: the settings read once (name
servers, authserv-id, trusted relays and ARC sealers), one shared resolver, and a verdict
for each message within its deadline. Imported by the stage when it starts, so a service
that never receives mail never loads dkimpy, pyspf or dmarc.

An unsigned message's verdict depends on its envelope and DNS alone, so one from the same
client, HELO, sender and From domain as a message checked within the last second gets
that message's verdict (a burst from one sender is checked once a second, not once a
message; DNS answers are cached for their TTL anyway). A signed message is always
checked, and a verdict with a temperror in it is never reused."""

from __future__ import annotations

import time
from ipaddress import IPv4Network
from ipaddress import IPv6Network
from typing import Any

from agentid.config import Settings
from agentid.dns import mail_auth
from agentid.dns.auth_lookups import Lookups
from agentid.dns.auth_lookups import shared_resolver
from agentid.dns.gate import Gate
from agentid.dns.resolver import nameservers
from agentid.names import split

REUSE_SECONDS = 1.0  # how long an unsigned message's verdict stands for its sender's next
REUSE_ENTRIES = 1024
_Key = tuple[str | None, str | None, str, str | None]


class Checker:
    def __init__(self, settings: Settings) -> None:
        self._recent: dict[_Key, tuple[float, dict[str, Any]]] = {}
        self._resolver = shared_resolver(nameservers(settings.dns_nameservers))
        sealers = (s.strip().lower().rstrip(".") for s in settings.trusted_arc_sealers)
        self._trust = mail_auth.Trust(settings.authserv(), frozenset(sealers))
        self.relays: tuple[IPv4Network | IPv6Network, ...] = tuple(settings.trusted_relays)

    def run(
        self,
        ip: str | None,
        helo: str | None,
        mail_from: str,
        from_address: str | None,
        raw: bytes,
        deadline: float,
        gate: Gate | None = None,
    ) -> dict[str, Any]:
        parts = split(from_address) if from_address else None
        from_domain = parts[1].lower().rstrip(".") if parts else None
        key = None if mail_auth.signed(raw) else (ip, helo, mail_from, from_domain)
        if key is not None and (recent := self._recent.get(key)) and recent[0] > time.monotonic():
            return recent[1]
        envelope = mail_auth.Envelope(ip, helo, mail_from, from_domain, raw)
        verdict = mail_auth.check(envelope, Lookups(self._resolver, deadline, gate), self._trust)
        if key is not None and "temperror" not in (
            verdict["spf"],
            verdict["spf_helo"],
            verdict["dmarc"],
        ):
            if len(self._recent) >= REUSE_ENTRIES:
                self._recent.clear()
            self._recent[key] = (time.monotonic() + REUSE_SECONDS, verdict)
        return verdict

    def timed_out(self) -> dict[str, Any]:
        return mail_auth.timed_out(self._trust.authserv_id)
