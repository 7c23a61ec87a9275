"""DKIM on what leaves: who signs, and with which key.

A relay that signs for the project (SendGrid, SES: their domain authentication) needs
nothing from us; an SMTP relay does not sign, so agentid signs with the project's key
(the one provisioning published as ``<selector>._domainkey``). The relay says which it is
(``MailRelay.signs_dkim``; an SMTP relay URL's ``?dkim=relay`` makes it one that signs);
the relay asked is the one chosen for the message when it is queued
(``agentid.email.outbound.relays``), the one that delivers it. A project on the shared
domain signs with ``AGENTID_SHARED_DOMAIN_DKIM_KEY``. Signing is CPU work, done in a
thread; a signer (its parsed key) is kept per domain, selector and key.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable
from collections.abc import Callable

from agentid.email.dkim import private_key_pem
from agentid.email.outbound.compose import Composed
from agentid.email.outbound.dkim_sign import DkimSigner
from agentid.email.outbound.relays import Chosen
from agentid.email.outbound.repository import OutboxRepository
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Project

_CACHE_SIZE = 256
_signers: OrderedDict[tuple[str, str, bytes], DkimSigner] = OrderedDict()


def relay_signs(chosen: Chosen) -> bool:
    """Does the relay chosen for a message sign for the project (so we need not)? With no
    relay (local deliveries only) we sign, so a hosted receiver can check it."""
    return chosen.relay is not None and chosen.relay.signs_dkim


async def signer(domain: str, selector: str, pem: bytes) -> DkimSigner:
    key = (domain, selector, hashlib.sha256(pem).digest())
    found = _signers.get(key)
    if found is None:
        # Loading the RSA key takes tens of milliseconds: in a thread. The cache itself is
        # only touched here, on the loop, so no two threads change it at once.
        found = await asyncio.to_thread(DkimSigner, domain, selector, pem)
        _signers[key] = found
        if len(_signers) > _CACHE_SIZE:
            _signers.popitem(last=False)
    _signers.move_to_end(key)
    return found


async def _key(rt: Runtime, session: AsyncSession, project: Project) -> DkimSigner | None:
    if project.domain is None:
        path, shared = rt.settings.shared_domain_dkim_key, rt.settings.shared_domain
        if path is None or shared is None:
            return None
        pem = await asyncio.to_thread(path.read_bytes)
        return await signer(shared.lower(), rt.settings.dkim_selector, pem)
    domain = await OutboxRepository(session).domain_key(project.id)
    if domain is None:
        return None
    pem = private_key_pem(rt.secrets, domain.dkim_private_key)
    return await signer(domain.name, domain.dkim_selector, pem)


def sign_for(
    rt: Runtime, session: AsyncSession, chosen: Chosen
) -> Callable[[Project, Composed], Awaitable[bytes]]:
    """The signing step ``queue`` calls: the message's bytes, signed when we sign."""

    async def sign(project: Project, message: Composed) -> bytes:
        if relay_signs(chosen):
            return message.raw
        found = await _key(rt, session, project)
        if found is None:
            return message.raw
        return await asyncio.to_thread(found.sign, message.raw)

    return sign
