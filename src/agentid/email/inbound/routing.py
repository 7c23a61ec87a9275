"""Which project an envelope recipient belongs to, or why it is refused.

Lookups are cached briefly; whatever changes aliases or domains in this process calls
``invalidate`` so a disabled alias is refused at once (other workers within the TTL).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from agentid.email.inbound.replies import (
    BAD_ADDRESS_REPLY,
    NO_MAILBOX_REPLY,
    RELAY_DENIED_REPLY,
)
from agentid.email.repository import AliasRepository
from agentid.events import Kind
from agentid.names import split
from agentid.projects.repository import ProjectRepository
from agentid.runtime import Runtime
from agentid.store.tables import Alias

T = TypeVar("T")

CACHE_TTL = 5.0
CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class Accept:
    project_id: str
    address: str


@dataclass(frozen=True, slots=True)
class Refuse:
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
        self._domains: dict[str, tuple[float, _DomainInfo | None]] = {}
        self._aliases: dict[str, tuple[float, Alias | None]] = {}
        runtime.bus.subscribe(Kind.ROUTES_CHANGED, lambda _: self.invalidate())

    def invalidate(self) -> None:
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
        self, cache: dict[str, tuple[float, T]], key: str, load: Callable[[str], Awaitable[T]]
    ) -> T:
        now = time.monotonic()
        hit = cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = await load(key)
        if len(cache) >= CACHE_MAX:
            cache.clear()
        cache[key] = (now + CACHE_TTL, value)
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
