"""Which project an envelope recipient belongs to, or why it is refused.

Lookups are cached until routing changes: whatever changes a domain, an alias or a
project's catch-all publishes ``ROUTES_CHANGED`` (``Runtime.routes_changed``), which the
bus carries to every process on the store (PostgreSQL NOTIFY), so a disabled alias is
refused at once everywhere. A process whose bus reconnected drops its cache too, since it
may have missed a change meanwhile.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import TypeVar

from agentid.email.inbound.replies import BAD_ADDRESS_REPLY
from agentid.email.inbound.replies import NO_MAILBOX_REPLY
from agentid.email.inbound.replies import RELAY_DENIED_REPLY
from agentid.email.repository import AliasRepository
from agentid.events import Kind
from agentid.names import split
from agentid.projects.repository import ProjectRepository
from agentid.runtime import Runtime
from agentid.store.tables import Alias

T = TypeVar("T")

CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Accept:
    """A recipient we take: the project it belongs to and its address as stored."""

    project_id: str
    address: str


@dataclass(frozen=True, slots=True)
class Refuse:
    """A recipient we refuse, with the SMTP reply that says why."""

    reply: str


RELAY_DENIED = Refuse(RELAY_DENIED_REPLY)
NO_MAILBOX = Refuse(NO_MAILBOX_REPLY)
BAD_ADDRESS = Refuse(BAD_ADDRESS_REPLY)


@dataclass(frozen=True, slots=True)
class _DomainInfo:
    project_id: str
    catch_all: bool
    primary: str | None


class RecipientRouter:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._domains: dict[str, _DomainInfo | None] = {}
        self._aliases: dict[str, Alias | None] = {}
        self._generation = 0  # moved on by every invalidation
        runtime.bus.subscribe(Kind.ROUTES_CHANGED, lambda _: self.invalidate())

    def invalidate(self) -> None:
        self._generation += 1
        self._domains.clear()
        self._aliases.clear()

    async def route(self, address: str) -> Accept | Refuse:
        parts = split(address)
        if parts is None or len(address) > 320:
            return BAD_ADDRESS
        local, domain = parts
        normalized = f"{local}@{domain}"
        shared = self._rt.settings.shared_domain
        if shared and domain == shared.lower():
            return await self._shared(local, normalized)
        info = await self._domain(domain)
        if info is None:
            return RELAY_DENIED
        alias = await self._alias(normalized)
        if alias is not None:
            if alias.project_id != info.project_id or not _alias_live(alias):
                return NO_MAILBOX
            return Accept(info.project_id, normalized)
        if normalized == info.primary or info.catch_all:
            return Accept(info.project_id, normalized)
        return NO_MAILBOX

    async def hosts(self, domain: str) -> bool:
        """Does agentid receive mail for ``domain`` (a project's, or the shared one)?"""
        domain = domain.strip().rstrip(".").lower()
        shared = self._rt.settings.shared_domain
        if shared and domain == shared.lower():
            return True
        return await self._domain(domain) is not None

    async def _shared(self, local: str, address: str) -> Accept | Refuse:
        project_id, _, _tag = local.partition(self._rt.settings.shared_separator)
        info = await self._cached(self._domains, "@shared:" + project_id, self._load_shared)
        if info is None:
            return NO_MAILBOX
        alias = await self._alias(address)
        if alias is not None and (alias.project_id != info.project_id or not _alias_live(alias)):
            return NO_MAILBOX
        return Accept(info.project_id, address)

    async def _domain(self, domain: str) -> _DomainInfo | None:
        return await self._cached(self._domains, domain, self._load_domain)

    async def _alias(self, address: str) -> Alias | None:
        return await self._cached(self._aliases, address, self._load_alias)

    async def _cached(
        self, cache: dict[str, T], key: str, load: Callable[[str], Awaitable[T]]
    ) -> T:
        if key in cache:
            return cache[key]
        generation = self._generation
        value = await load(key)
        # a change signalled while the store was read may not be in ``value``: not kept
        if generation == self._generation:
            if len(cache) >= CACHE_MAX:
                cache.clear()
            cache[key] = value
        return value

    async def _load_domain(self, domain: str) -> _DomainInfo | None:
        async with self._rt.sessions() as session:
            project = await AliasRepository(session).receiving(domain)
        if project is None:
            return None
        return _DomainInfo(project.id, project.catch_all, project.primary_address)

    async def _load_shared(self, key: str) -> _DomainInfo | None:
        project_id = key.removeprefix("@shared:")
        async with self._rt.sessions() as session:
            project = await ProjectRepository(session).get(project_id)
        if project is None or project.domain is not None or not project.email_active:
            return None
        return _DomainInfo(project.id, True, None)

    async def _load_alias(self, address: str) -> Alias | None:
        async with self._rt.sessions() as session:
            return await AliasRepository(session).alias(address)


def _alias_live(alias: Alias) -> bool:
    return alias.enabled and (alias.expires_at is None or alias.expires_at > datetime.now(UTC))
