"""The inbound checks as the verdict stage runs them: the settings read once (name
servers, authserv-id, trusted relays and ARC sealers), one shared resolver, and a verdict
for each message within its deadline. Imported by the stage when it starts, so a service
that never receives mail never loads dkimpy, pyspf or dmarc."""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network
from typing import Any

from agentid.config import Settings
from agentid.dns import mail_auth
from agentid.dns.auth_lookups import Lookups, shared_resolver
from agentid.dns.resolver import nameservers
from agentid.names import split


class Checker:
    def __init__(self, settings: Settings) -> None:
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
    ) -> dict[str, Any]:
        parts = split(from_address) if from_address else None
        envelope = mail_auth.Envelope(
            ip=ip,
            helo=helo,
            mail_from=mail_from,
            from_domain=parts[1].lower().rstrip(".") if parts else None,
            raw=raw,
        )
        return mail_auth.check(envelope, Lookups(self._resolver, deadline), self._trust)

    def timed_out(self) -> dict[str, Any]:
        return mail_auth.timed_out(self._trust.authserv_id)
