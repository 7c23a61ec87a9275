"""What a running agentid holds, built once from Settings and handed to every part."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass
from dataclasses import field

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.asyncio import async_sessionmaker

from agentid.config import Settings
from agentid.crypto import SecretBox
from agentid.events import EventBus
from agentid.events import Kind
from agentid.events import LocalBus
from agentid.events import Signal
from agentid.health import Health
from agentid.providers.base import Providers
from agentid.providers.registry import Transports
from agentid.store.leader import Leadership


@dataclass(slots=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    secrets: SecretBox
    admin_token: str
    bus: EventBus = field(default_factory=LocalBus)
    health: Health = field(default_factory=Health)
    providers: Providers = field(default_factory=Providers)  # relay, phone, dns; None: off
    transports: Transports = field(default_factory=Transports)  # what adapters talk through
    leader: Leadership = field(default_factory=Leadership)  # cluster-wide jobs run here?
    smtp_ready: bool = False
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # Set after mail is deleted: the store then wipes it from its files (WAL included).
    scrub: threading.Event = field(default_factory=threading.Event)

    def routes_changed(self) -> None:
        """Domains, aliases or catch-all changed: cached routing decisions go."""
        self.bus.publish(Signal("", Kind.ROUTES_CHANGED))
