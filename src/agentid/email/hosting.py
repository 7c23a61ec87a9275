"""Provisioning email for a project: host its domain (or the shared one), make its DKIM key."""

from __future__ import annotations

import asyncio

from sqlalchemy.exc import IntegrityError

from agentid.crypto import SecretBox
from agentid.dns import service as dns
from agentid.dns.plan import plan
from agentid.email import dkim
from agentid.email.repository import AliasRepository
from agentid.email.schemas import DNSRecord
from agentid.email.schemas import ProvisionOut
from agentid.errors import AgentIDError
from agentid.errors import Conflict
from agentid.errors import ValidationFailed
from agentid.names import normalize
from agentid.names import split
from agentid.names import valid_local_part
from agentid.projects.repository import ProjectRepository
from agentid.projects.repository import audit
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Domain
from agentid.store.tables import Project

DEFAULT_LOCAL_PART = "agent"


def _primary(requested: str | None, domain: str) -> str:
    if requested is None:
        return f"{DEFAULT_LOCAL_PART}@{domain}"
    if "@" in requested:
        address = normalize(requested)
        parts = split(address)
        if parts is None or parts[1] != domain:
            raise ValidationFailed(f"the address must be on {domain}")
        local = parts[0]
    else:
        local = requested.lower()
    if not valid_local_part(local):
        raise ValidationFailed(f"not a valid local part: {local[:64]!r}")
    return f"{local}@{domain}"


def shared_address(rt: Runtime, project_id: str, tag: str | None = None) -> str:
    assert rt.settings.shared_domain is not None
    local = project_id if tag is None else f"{project_id}{rt.settings.shared_separator}{tag}"
    return f"{local}@{rt.settings.shared_domain.lower()}"


async def provision(
    rt: Runtime, session: AsyncSession, project: Project, requested: str | None
) -> ProvisionOut:
    """Idempotent: a second call keeps the DKIM key and returns the same records. On the
    project's own domain, the records are then applied through its DNS provider (a zone
    file in the data dir by default) and, when a provider published them, verified; a
    DNS failure is reported in ``dns_error`` and leaves the hosting in place."""
    project_id, domain = project.id, project.domain
    try:
        out = await _provision(rt, session, project_id, domain, requested)
    except IntegrityError:
        # A concurrent call stored the domain first (SQLite has no SELECT ... FOR UPDATE):
        # this pass finds it and returns its records.
        await session.rollback()
        out = await _provision(rt, session, project_id, domain, requested)
    if domain is None:
        return out
    project = await ProjectRepository(session).lock(project_id)
    try:
        out.dns = await dns.apply(rt, session, project)
        out.dns_records = [  # with the relay's records, asked for while applying
            DNSRecord(type=r.type, name=r.name, value=r.value, priority=r.priority)
            for r in out.dns.records
        ]
        if out.dns.provider != "zonefile":  # published: see whether the world sees it
            out.verification = await dns.verify(rt, session, project)
    except AgentIDError as err:
        await session.rollback()
        out.dns_error = err.message
    return out


async def _provision(
    rt: Runtime, session: AsyncSession, project_id: str, name: str | None, requested: str | None
) -> ProvisionOut:
    key = None
    domains = AliasRepository(session)
    if name is not None and await domains.domain(name) is None:
        await session.commit()  # no transaction held while the key is made
        key = await asyncio.to_thread(dkim.new_key, rt.secrets)
    project = await ProjectRepository(session).lock(project_id)
    if project.domain is None:
        if not rt.settings.shared_domain:
            raise Conflict(
                f"project {project.id!r} has no domain and no shared domain is configured "
                "(set AGENTID_SHARED_DOMAIN, or create the project with a domain)"
            )
        project.email_active = True
        project.primary_address = shared_address(rt, project.id)
        domains.add(audit(project.id, "email.provisioned", {"shared": True}))
        out = ProvisionOut(
            address=project.primary_address,
            domain=rt.settings.shared_domain.lower(),
            dns_records=[],
        )
    else:
        domain = await domains.domain(project.domain)
        if domain is None:
            assert key is not None
            domain = Domain(
                name=project.domain,
                project_id=project.id,
                dkim_selector=rt.settings.dkim_selector,
                dkim_private_key=key.sealed_private_key,
                dkim_public_key=key.public_key_b64,
                dns_status="planned",
            )
            domains.add(domain)
        if requested is not None or project.primary_address is None:
            project.primary_address = _primary(requested, project.domain)
        project.email_active = True
        domains.add(audit(project.id, "email.provisioned", {"domain": project.domain}))
        made = plan(await dns.mail_of(rt, project.id, domain), dns.stored(domain))
        records = [
            DNSRecord(type=r.type, name=r.name, value=r.value, priority=r.priority)
            for r in (p.record for p in made.records)
        ]
        out = ProvisionOut(address=project.primary_address, domain=domain.name, dns_records=records)
    await session.commit()
    rt.routes_changed()
    return out


async def reseal_dkim_keys(session: AsyncSession, box: SecretBox) -> int:
    """Every hosted domain's DKIM private key, sealed again under the current service key;
    how many. Part of ``agentid secrets rotate``'s one transaction."""
    rows = await AliasRepository(session).domains()
    for row in rows:
        row.dkim_private_key = box.reseal(row.dkim_private_key, what=f"the DKIM key of {row.name}")
    return len(rows)
