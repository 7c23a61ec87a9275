"""Per-project provider accounts: a project's own relay, phone or DNS provider URL.

The rule this module keeps: a provider URL carries credentials, so it is stored sealed
with the service key (``SecretBox``), shown only as scheme, host and a keyed fingerprint,
and never put into a log line, an audit entry or an error message. A project without an
account of its own uses the service-wide ``AGENTID_<KIND>_URL``: ``provider_url_for``
answers which URL applies, and ``relay_for`` / ``phone_for`` / ``dns_for`` build the
adapter from it through the registry, as ``create_app`` does for the service-wide ones.

Its statements are in ``providers/repository.py``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import quote

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from agentid.config import Settings
from agentid.crypto import SecretBox
from agentid.errors import NotFound
from agentid.errors import ValidationFailed
from agentid.projects.repository import audit
from agentid.providers.base import DnsProvider
from agentid.providers.base import MailRelay
from agentid.providers.base import PhoneProvider
from agentid.providers.failures import scrub
from agentid.providers.registry import REGISTRY
from agentid.providers.registry import Provider
from agentid.providers.registry import Registry
from agentid.providers.registry import Transports
from agentid.providers.registry import parse_url
from agentid.providers.repository import ProviderAccountRepository
from agentid.providers.schemas import AccountSource
from agentid.providers.schemas import ProviderAccountList
from agentid.providers.schemas import ProviderAccountOut
from agentid.providers.schemas import ProviderKind
from agentid.runtime import Runtime
from agentid.store.tables import AuditEvent
from agentid.store.tables import ProjectProvider
from agentid.times import utcnow

log = logging.getLogger("agentid.providers")


def service_url(settings: Settings, kind: ProviderKind) -> str | None:
    """The service-wide URL for ``kind`` (``AGENTID_<KIND>_URL``); None when unset or empty."""
    value: SecretStr | None = {
        ProviderKind.RELAY: settings.relay_url,
        ProviderKind.PHONE: settings.phone_url,
        ProviderKind.DNS: settings.dns_url,
    }[kind]
    return (value.get_secret_value() or None) if value is not None else None


def build(registry: Registry, kind: ProviderKind, url: str, transports: Transports) -> Provider:
    """The adapter ``url`` names, checked to be a provider of ``kind``."""
    if kind is ProviderKind.RELAY:
        return registry.relay(url, transports)
    if kind is ProviderKind.PHONE:
        return registry.phone(url, transports)
    return registry.dns(url, transports)


async def check_url(registry: Registry, kind: ProviderKind, url: str) -> None:
    """``ValidationFailed`` unless the registry builds a ``kind`` provider from ``url``. The
    message says what is wrong, never the URL nor a credential in it (a third-party
    factory's message is scrubbed as well). Factories do no I/O: nothing is contacted."""
    transports = Transports()
    try:
        build(registry, kind, url, transports)
    except ValidationFailed as err:
        try:
            secrets = (url, *parse_url(url).secrets())
        except ValidationFailed:
            secrets = (url,)
        message = f"invalid {kind} provider URL: {_hide(err.message, secrets)}"
        raise ValidationFailed(message) from None
    finally:
        await transports.aclose()


def _hide(message: str, secrets: Iterable[str]) -> str:
    """``message`` with each of ``secrets`` (plain or percent-encoded) replaced by ``***``
    where it stands as itself, not where its letters merely occur inside a longer word: a
    one-letter user name must not turn "unknown" into "***nknown"."""
    for secret in sorted(set(secrets), key=len, reverse=True):
        for form in dict.fromkeys((secret, quote(secret, safe=""))):
            head = r"(?<![A-Za-z0-9])" if form[0].isalnum() else ""
            tail = r"(?![A-Za-z0-9])" if form[-1].isalnum() else ""
            message = re.sub(head + re.escape(form) + tail, "***", message)
    return scrub(message)


def _shown(
    box: SecretBox, kind: ProviderKind, source: AccountSource, url: str | None
) -> ProviderAccountOut:
    """What may be shown of ``url``: scheme, host, keyed fingerprint."""
    if url is None:
        return ProviderAccountOut(kind=kind, source=AccountSource.NONE)
    parsed = parse_url(url)
    return ProviderAccountOut(
        kind=kind,
        source=source,
        scheme=parsed.scheme + ("+http" if parsed.http else ""),
        host=parsed.host,
        fingerprint=box.fingerprint(url.encode()),
    )


@dataclass(frozen=True, slots=True)
class Accounts:
    """The per-project provider accounts, on the caller's session (the project exists:
    the route's project dependency resolved it)."""

    box: SecretBox
    settings: Settings
    registry: Registry = REGISTRY

    @classmethod
    def of(cls, rt: Runtime, registry: Registry = REGISTRY) -> Accounts:
        return cls(rt.secrets, rt.settings, registry)

    async def put(
        self, session: AsyncSession, project_id: str, kind: ProviderKind, url: str
    ) -> ProviderAccountOut:
        """Set (or replace) the project's own ``kind`` account; 422 for a URL the registry
        cannot build a ``kind`` provider from."""
        await check_url(self.registry, kind, url)
        shown = _shown(self.box, kind, AccountSource.PROJECT, url)
        shown.updated_at = utcnow()
        accounts = ProviderAccountRepository(session)
        row = {
            "project_id": project_id,
            "kind": str(kind),
            "url_sealed": self.box.seal(url.encode()),
            "fingerprint": shown.fingerprint or "",
            "updated_at": shown.updated_at,
        }
        # one statement: a PUT racing another PUT or a DELETE neither fails nor finds no row
        await accounts.upsert(ProjectProvider, [row])
        accounts.add(_audit(project_id, "provider.set", shown))
        await session.commit()
        log.info("provider account set", extra=_log_fields(project_id, shown))
        return shown

    async def remove(self, session: AsyncSession, project_id: str, kind: ProviderKind) -> None:
        """Delete the project's own ``kind`` account: the service-wide one applies again."""
        accounts = ProviderAccountRepository(session)
        row = await accounts.get(project_id, str(kind))
        if row is None:
            raise NotFound(f"project {project_id!r} has no {kind} account of its own")
        shown = ProviderAccountOut(
            kind=kind, source=AccountSource.PROJECT, fingerprint=row.fingerprint
        )
        if not await accounts.remove(project_id, str(kind)):  # removed meanwhile
            raise NotFound(f"project {project_id!r} has no {kind} account of its own")
        accounts.add(_audit(project_id, "provider.removed", shown))
        await session.commit()
        log.info("provider account removed", extra=_log_fields(project_id, shown))

    async def show(self, session: AsyncSession, project_id: str) -> ProviderAccountList:
        """Per kind, the URL the project uses (its own, the service's, or none), shown safely."""
        own = {r.kind: r for r in await ProviderAccountRepository(session).of_project(project_id)}
        shown: list[ProviderAccountOut] = []
        for kind in ProviderKind:
            row = own.get(str(kind))
            if row is None:
                url = service_url(self.settings, kind)
                shown.append(_shown(self.box, kind, AccountSource.SERVICE, url))
                continue
            url = self.box.open(row.url_sealed).decode()
            out = _shown(self.box, kind, AccountSource.PROJECT, url)
            out.fingerprint, out.updated_at = row.fingerprint, row.updated_at
            shown.append(out)
        return ProviderAccountList(providers=shown)

    async def url_for(
        self, session: AsyncSession, project_id: str, kind: ProviderKind
    ) -> str | None:
        """The project's own URL for ``kind``, else the service-wide one; None: neither."""
        return (await self.choice(session, project_id, kind))[1]

    async def choice(
        self, session: AsyncSession, project_id: str, kind: ProviderKind
    ) -> tuple[AccountSource, str | None]:
        """Whose URL the project uses for ``kind`` (its own, the service's, none), and it."""
        own = await self.own_url(session, project_id, kind)
        if own is not None:
            return AccountSource.PROJECT, own
        url = service_url(self.settings, kind)
        return (AccountSource.NONE if url is None else AccountSource.SERVICE), url

    async def own_url(
        self, session: AsyncSession, project_id: str, kind: ProviderKind
    ) -> str | None:
        """The project's own URL for ``kind``; None when it has no account of its own."""
        row = await ProviderAccountRepository(session).get(project_id, str(kind))
        return None if row is None else self.box.open(row.url_sealed).decode()


async def reseal_accounts(session: AsyncSession, box: SecretBox) -> int:
    """Seal every stored account again under the current service key (its fingerprint
    too); how many were. Part of ``agentid secrets rotate``'s one transaction."""
    rows = await ProviderAccountRepository(session).every()
    for row in rows:
        url = box.open(row.url_sealed, what=f"project {row.project_id!r}'s {row.kind} account")
        row.url_sealed, row.fingerprint = box.seal(url), box.fingerprint(url)
    return len(rows)


async def provider_url_for(rt: Runtime, project_id: str, kind: ProviderKind) -> str | None:
    """The URL a feature uses for ``kind`` on behalf of ``project_id``: the project's own
    account, else the service-wide ``AGENTID_<KIND>_URL``; None when there is neither."""
    async with rt.sessions() as session:
        return await Accounts.of(rt).url_for(session, project_id, kind)


async def relay_for(
    rt: Runtime, project_id: str, transports: Transports, registry: Registry = REGISTRY
) -> MailRelay | None:
    """The mail relay ``project_id`` sends through; None when sending is off for it."""
    url = await provider_url_for(rt, project_id, ProviderKind.RELAY)
    return None if url is None else registry.relay(url, transports)


async def phone_for(
    rt: Runtime, project_id: str, transports: Transports, registry: Registry = REGISTRY
) -> PhoneProvider | None:
    """The phone provider ``project_id`` buys numbers from; None when phone is off for it."""
    url = await provider_url_for(rt, project_id, ProviderKind.PHONE)
    return None if url is None else registry.phone(url, transports)


async def dns_for(
    rt: Runtime, project_id: str, transports: Transports, registry: Registry = REGISTRY
) -> DnsProvider | None:
    """The DNS provider ``project_id``'s records go to; None when DNS is off for it."""
    url = await provider_url_for(rt, project_id, ProviderKind.DNS)
    return None if url is None else registry.dns(url, transports)


def _audit(project_id: str, kind: str, shown: ProviderAccountOut) -> AuditEvent:
    detail: dict[str, object] = {
        "kind": str(shown.kind),
        "scheme": shown.scheme,
        "fingerprint": shown.fingerprint,
    }
    return audit(project_id, kind, detail)


def _log_fields(project_id: str, shown: ProviderAccountOut) -> dict[str, str | None]:
    return {
        "project_id": project_id,
        "provider_kind": str(shown.kind),
        "scheme": shown.scheme,
        "fingerprint": shown.fingerprint,
    }
