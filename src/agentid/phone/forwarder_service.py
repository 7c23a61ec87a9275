"""Registering, listing and revoking a project's forwarders, and taking what they post
(the rules are in ``agentid.phone.forwarders``)."""

from __future__ import annotations

import logging

from agentid.crypto import SecretBox
from agentid.errors import NotFound
from agentid.ids import new_id
from agentid.phone import forwarders
from agentid.phone.inbound import Recipient
from agentid.phone.inbound import receive
from agentid.phone.repository import PhoneRepository
from agentid.phone.schemas import ForwarderCreate
from agentid.phone.schemas import ForwarderCreated
from agentid.phone.schemas import ForwarderList
from agentid.phone.schemas import ForwarderOut
from agentid.projects.repository import audit
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Forwarder
from agentid.times import utcnow

log = logging.getLogger("agentid.phone")
WEBHOOK_PATH = "/webhooks/forwarder/"


def _out(row: Forwarder) -> ForwarderOut:
    return ForwarderOut(id=row.id, number=row.number, label=row.label, created_at=row.created_at)


async def create(
    rt: Runtime, session: AsyncSession, project_id: str, body: ForwarderCreate, base_url: str
) -> ForwarderCreated:
    """Register a forwarder; its URL and secret are shown this once."""
    token = forwarders.new_token()
    secret, key = forwarders.new_secret()
    row = Forwarder(
        id=new_id(),
        project_id=project_id,
        number=body.number,
        label=body.label,
        token_hash=forwarders.token_hash(token),
        secret_sealed=rt.secrets.seal(key),
        created_at=utcnow(),
    )
    detail: dict[str, object] = {"forwarder_id": row.id, "number": row.number}
    PhoneRepository(session).add(row, audit(project_id, "phone.forwarder.created", detail))
    await session.commit()
    url = (rt.settings.public_url or base_url).rstrip("/") + WEBHOOK_PATH + token
    return ForwarderCreated(**_out(row).model_dump(), webhook_url=url, secret=secret)


async def listed(session: AsyncSession, project_id: str) -> ForwarderList:
    rows = await PhoneRepository(session).forwarders(project_id)
    return ForwarderList(forwarders=[_out(r) for r in rows])


async def revoke(session: AsyncSession, project_id: str, forwarder_id: str) -> None:
    """Its URL answers 404 from now on; what it forwarded stays. ``forwarder_id`` is an
    id (``path_id``)."""
    repo = PhoneRepository(session)
    row = await repo.forwarder(project_id, forwarder_id)
    if row is None:
        raise NotFound(f"forwarder {forwarder_id!r} not found")
    row.revoked_at = utcnow()
    repo.add(audit(project_id, "phone.forwarder.revoked", {"forwarder_id": row.id}))
    await session.commit()


async def take(
    rt: Runtime,
    session: AsyncSession,
    token: str,
    headers: dict[str, str],
    body: bytes,
    content_type: str,
) -> str | None:
    """Store what the forwarder behind ``token`` posted; the SMS id, or None when it was
    stored before. ``NotFound`` for a wrong or revoked URL, ``Forbidden`` for a bad
    signature, ``ValidationFailed`` for a body holding no SMS."""
    row = None
    if 16 <= len(token) <= 128:
        row = await PhoneRepository(session).forwarder_by_token(forwarders.token_hash(token))
    await session.commit()
    if row is None:
        raise NotFound("no forwarder at this URL")
    now = utcnow()
    webhook_id = forwarders.check_signature(rt.secrets, row.secret_sealed, headers, body, now)
    posted = forwarders.read(body, content_type)
    sms = forwarders.sms_of(row.id, row.number, posted, webhook_id, now)
    return await receive(rt, session, Recipient(row.project_id, None, "forwarder"), sms)


async def reseal_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Every forwarder's signing secret sealed again under the current service key; how
    many. Part of ``agentid secrets rotate``'s one transaction."""
    rows = await PhoneRepository(session).every_forwarder()
    for row in rows:
        row.secret_sealed = box.reseal(row.secret_sealed, what=f"forwarder {row.id}'s secret")
    return len(rows)
