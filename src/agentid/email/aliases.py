"""Aliases: addresses made on the fly (``signup-k3f9x2@domain``), disabled when done."""

from __future__ import annotations

import secrets
import string

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agentid.email.hosting import shared_address
from agentid.email.schemas import AliasCreate
from agentid.errors import Conflict, NotFound, ValidationFailed
from agentid.names import normalize, valid_local_part
from agentid.projects.service import audit
from agentid.runtime import Runtime
from agentid.store.tables import Alias, Project

SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
SUFFIX_LENGTH = 6
ATTEMPTS = 5


def _suffix() -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def _address(rt: Runtime, project: Project, local: str) -> str:
    if project.domain is not None:
        return f"{local}@{project.domain}"
    return shared_address(rt, project.id, local)


async def _project_with_email(rt: Runtime, project_id: str) -> Project:
    async with rt.sessions() as session:
        project = await session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id!r} not found")
    if not project.email_active:
        raise Conflict(f"email is not provisioned for {project_id!r} (POST .../email/provision)")
    return project


async def create_alias(rt: Runtime, project_id: str, body: AliasCreate) -> Alias:
    project = await _project_with_email(rt, project_id)
    if body.local_part is not None:
        local = body.local_part.lower()
        if not valid_local_part(local) or rt.settings.shared_separator in local:
            raise ValidationFailed(f"not a valid local part: {body.local_part!r}")
        candidates = [local]
    else:
        label = body.label or "alias"
        candidates = [f"{label}-{_suffix()}" for _ in range(ATTEMPTS)]
    for local in candidates:
        alias = Alias(
            address=_address(rt, project, local),
            project_id=project_id,
            label=body.label,
            enabled=True,
            expires_at=body.expires_at,
        )
        if alias.address == project.primary_address:
            raise Conflict(f"{alias.address} is the project's primary address")
        try:
            async with rt.sessions.begin() as session:
                session.add(alias)
                session.add(audit(project_id, "alias.created", {"address": alias.address}))
        except IntegrityError:
            continue
        rt.routes_changed()
        return alias
    raise Conflict(f"{_address(rt, project, candidates[-1])} is already taken")


async def list_aliases(rt: Runtime, project_id: str) -> list[Alias]:
    await _project_with_email(rt, project_id)
    async with rt.sessions() as session:
        rows = await session.scalars(
            select(Alias).where(Alias.project_id == project_id).order_by(Alias.created_at)
        )
        return list(rows.all())


async def disable_alias(rt: Runtime, project_id: str, address: str) -> Alias:
    key = normalize(address)
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):  # no alias has these; NUL breaks queries
        raise NotFound(f"alias {key!r} not found")
    async with rt.sessions.begin() as session:
        alias = await session.get(Alias, key)
        if alias is None or alias.project_id != project_id:
            raise NotFound(f"alias {key} not found")
        alias.enabled = False
        session.add(audit(project_id, "alias.disabled", {"address": key}))
    rt.routes_changed()
    return alias
