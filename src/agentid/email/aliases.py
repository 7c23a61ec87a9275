"""Aliases: addresses made on the fly (``signup-k3f9x2@domain``), disabled when done."""

from __future__ import annotations

import secrets
import string

from sqlalchemy.exc import IntegrityError

from agentid.email.hosting import shared_address
from agentid.email.repository import AliasRepository
from agentid.email.schemas import AliasCreate
from agentid.email.schemas import AliasList
from agentid.email.schemas import AliasOut
from agentid.errors import Conflict
from agentid.errors import NotFound
from agentid.errors import ValidationFailed
from agentid.names import normalize
from agentid.names import valid_local_part
from agentid.projects.repository import audit
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Alias
from agentid.store.tables import Project

SUFFIX_ALPHABET = string.ascii_lowercase + string.digits
SUFFIX_LENGTH = 6
ATTEMPTS = 5


def _suffix() -> str:
    return "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(SUFFIX_LENGTH))


def _address(rt: Runtime, project: Project, local: str) -> str:
    if project.domain is not None:
        return f"{local}@{project.domain}"
    return shared_address(rt, project.id, local)


def _with_email(project: Project) -> Project:
    if not project.email_active:
        raise Conflict(f"email is not provisioned for {project.id!r} (POST .../email/provision)")
    return project


def alias_out(alias: Alias) -> AliasOut:
    return AliasOut.model_validate(alias, from_attributes=True)


async def create_alias(
    rt: Runtime, session: AsyncSession, project: Project, body: AliasCreate
) -> Alias:
    _with_email(project)
    if body.local_part is not None:
        local = body.local_part.lower()
        if not valid_local_part(local) or rt.settings.shared_separator in local:
            raise ValidationFailed(f"not a valid local part: {body.local_part!r}")
        candidates = [local]
    else:
        label = body.label or "alias"
        candidates = [f"{label}-{_suffix()}" for _ in range(ATTEMPTS)]
    repo = AliasRepository(session)
    for local in candidates:
        alias = Alias(
            address=_address(rt, project, local),
            project_id=project.id,
            label=body.label,
            enabled=True,
            expires_at=body.expires_at,
        )
        if alias.address == project.primary_address:
            raise Conflict(f"{alias.address} is the project's primary address")
        repo.add(alias, audit(project.id, "alias.created", {"address": alias.address}))
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()
            continue
        rt.routes_changed()
        return alias
    raise Conflict(f"{_address(rt, project, candidates[-1])} is already taken")


async def list_aliases(
    session: AsyncSession, project: Project, limit: int, before: str | None
) -> AliasList:
    """Oldest first; ``before`` is the ``next`` of the previous page (the address it
    ended with)."""
    _with_email(project)
    repo = AliasRepository(session)
    after = await repo.alias(before) if before is not None else None
    if before is not None and (after is None or after.project_id != project.id):
        raise ValidationFailed("before must be the address of an alias of this project")
    page = await repo.page(project.id, limit, after)
    return AliasList(
        aliases=[alias_out(a) for a in page.items], next=page.next(lambda a: a.address)
    )


async def disable_alias(rt: Runtime, session: AsyncSession, project_id: str, address: str) -> Alias:
    key = normalize(address)
    if any(ord(c) < 0x20 or c == "\x7f" for c in key):  # no alias has these; NUL breaks queries
        raise NotFound(f"alias {key!r} not found")
    repo = AliasRepository(session)
    alias = await repo.alias(key)
    if alias is None or alias.project_id != project_id:
        raise NotFound(f"alias {key} not found")
    alias.enabled = False
    repo.add(audit(project_id, "alias.disabled", {"address": key}))
    await session.commit()
    rt.routes_changed()
    return alias
