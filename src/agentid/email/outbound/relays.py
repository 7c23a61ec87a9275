"""Which relay a project's message goes through: chosen once, when it is queued.

The project's own relay account, else the service-wide ``AGENTID_RELAY_URL``, else none
(``AccountSource``). The choice is stored with the message (``outbound.relay``), so the
DKIM decision made when it was queued (the relay's ``signs_dkim``) holds for the relay
that delivers it, and a bounce reported through the shared relay's webhook is filed under
the project that sent the message, found by the relay's message id. A delivery uses the
chosen source's current URL (its credentials may have been rotated meanwhile); a
project's own account removed since the message was queued fails it rather than sending
through another relay than the one it was signed for.

A relay is built once per URL and kept (an SDK client lives in it); URLs hold
credentials, so the cache is in memory only and never shown.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentid.errors import ValidationFailed
from agentid.providers.accounts import Accounts
from agentid.providers.accounts import service_url
from agentid.providers.base import MailRelay
from agentid.providers.registry import REGISTRY
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.schemas import AccountSource
from agentid.providers.schemas import ProviderKind
from agentid.runtime import Runtime

RELAY = ProviderKind.RELAY
_KEPT = 256  # relays kept (one per URL); past that the cache starts again


@dataclass(frozen=True, slots=True)
class Chosen:
    """Where a message's relayed recipients go: ``source`` (stored with the message) and
    the relay it names now (None: no relay, or a URL that no longer builds one)."""

    source: AccountSource
    relay: MailRelay | None


class GoneAccount(ValidationFailed):
    """The project's own relay account, chosen when the message was queued, is gone."""


class Relays:
    """Builds and keeps relays per URL; answers which one a project uses."""

    def __init__(self, rt: Runtime, transports: Transports, registry: Registry = REGISTRY):
        self._rt = rt
        self._transports = transports
        self._registry = registry
        self._built: dict[str, MailRelay] = {}

    def build(self, url: str) -> MailRelay:
        """The relay ``url`` names, built once (``ValidationFailed`` when it names none)."""
        relay = self._built.get(url)
        if relay is None:
            if len(self._built) >= _KEPT:
                self._built.clear()
            relay = self._built[url] = self._registry.relay(url, self._transports)
        return relay

    async def choose(self, project_id: str) -> Chosen:
        """The choice made when a message is queued. A URL that builds no relay is still
        the choice (its message fails at delivery with the reason); meanwhile agentid
        signs, as for any relay it cannot ask."""
        async with self._rt.sessions() as session:
            source, url = await Accounts.of(self._rt).choice(session, project_id, RELAY)
        try:
            return Chosen(source, None if url is None else self.build(url))
        except ValidationFailed:
            return Chosen(source, None)

    async def of(self, project_id: str, source: str | None) -> MailRelay | None:
        """The relay a message queued with ``source`` goes through now; None: none was
        chosen. ``ValidationFailed`` for a URL that builds none, ``GoneAccount`` when the
        project's own account was removed since. A message stored before the choice was
        kept (``source`` None) takes the project's current one."""
        if source is None:
            async with self._rt.sessions() as session:
                url = await Accounts.of(self._rt).url_for(session, project_id, RELAY)
        elif source == AccountSource.SERVICE:
            url = service_url(self._rt.settings, RELAY)
        elif source == AccountSource.PROJECT:
            async with self._rt.sessions() as session:
                url = await Accounts.of(self._rt).own_url(session, project_id, RELAY)
            if url is None:
                raise GoneAccount(
                    "the project's own relay account, chosen when the message was queued,"
                    " was removed"
                )
        else:
            return None
        return None if url is None else self.build(url)
