"""Projects and their tokens."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agentid.auth import SCOPES
from agentid.crypto import hash_token, new_token
from agentid.errors import Conflict, NotFound, ValidationFailed
from agentid.ids import is_valid, new_id
from agentid.names import normalize_domain
from agentid.projects.schemas import (
    ProjectCreate,
    ProjectUpdate,
    TokenCreate,
    TokenInfo,
    TokenList,
    TokenOut,
)
from agentid.runtime import Runtime
from agentid.store.tables import AuditEvent, Project, Token


async def get_project(rt: Runtime, project_id: str) -> Project:
    async with rt.sessions() as session:
        project = await session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id!r} not found")
    return project


async def create_project(rt: Runtime, body: ProjectCreate) -> Project:
    domain = normalize_domain(body.domain) if body.domain else None
    shared = rt.settings.shared_domain
    if domain is not None and shared and domain == shared.lower():
        raise Conflict(f"{domain} is the shared domain; leave domain empty to use it")
    project = Project(
        id=body.id,
        domain=domain,
        email_active=False,
        catch_all=body.catch_all,
        retention_days=body.retention_days,
    )
    try:
        async with rt.sessions.begin() as session:
            if await session.get(Project, body.id) is not None:
                raise Conflict(f"project {body.id!r} already exists")
            if domain and await session.scalar(select(Project.id).where(Project.domain == domain)):
                raise Conflict(f"domain {domain} is already hosted by another project")
            session.add(project)
            session.add(audit(body.id, "project.created", {"domain": domain}))
    except IntegrityError as exc:  # a concurrent create won
        raise Conflict(f"project {body.id!r} or domain {domain} already exists") from exc
    return project


async def list_projects(rt: Runtime, only: str | None = None) -> list[Project]:
    query = select(Project).order_by(Project.id)
    if only is not None:
        query = query.where(Project.id == only)
    async with rt.sessions() as session:
        return list((await session.scalars(query)).all())


async def update_project(rt: Runtime, project_id: str, body: ProjectUpdate) -> Project:
    async with rt.sessions.begin() as session:
        project = await session.get(Project, project_id)
        if project is None:
            raise NotFound(f"project {project_id!r} not found")
        if body.catch_all is not None:
            project.catch_all = body.catch_all
        if body.retention_days is not None:
            project.retention_days = body.retention_days
    rt.routes_changed()
    return project


async def create_token(rt: Runtime, project_id: str, body: TokenCreate) -> TokenOut:
    unknown = sorted(set(body.scopes) - set(SCOPES))
    if unknown or not body.scopes:
        raise ValidationFailed(f"scopes must be among {list(SCOPES)}; got {body.scopes}")
    await get_project(rt, project_id)
    token = new_token("aid_" + project_id[:12])
    row = Token(
        id=new_id(),
        project_id=project_id,
        token_hash=hash_token(token),
        scopes=sorted(set(body.scopes)),
        name=body.name,
    )
    async with rt.sessions.begin() as session:
        session.add(row)
        session.add(audit(project_id, "token.created", {"token_id": row.id, "scopes": row.scopes}))
    return TokenOut(
        id=row.id,
        token=token,
        project_id=project_id,
        scopes=row.scopes,
        name=row.name,
        created_at=row.created_at,
    )


async def list_tokens(
    rt: Runtime, project_id: str, limit: int, before: str | None = None
) -> TokenList:
    """Newest first; ``next`` is set when older tokens remain."""
    await get_project(rt, project_id)
    query = select(Token).where(Token.project_id == project_id)
    if before is not None:
        query = query.where(Token.id < before)
    async with rt.sessions() as session:
        rows = list((await session.scalars(query.order_by(Token.id.desc()).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return TokenList(
        tokens=[TokenInfo.model_validate(row, from_attributes=True) for row in rows],
        next=rows[-1].id if more and rows else None,
    )


async def revoke_token(rt: Runtime, project_id: str, token_id: str) -> None:
    """Delete the token: the next request that presents it gets 401."""
    if not is_valid(token_id.upper()):  # (never a hostile id to the store)
        raise NotFound(f"token {token_id[:26]!r} not found in project {project_id!r}")
    async with rt.sessions.begin() as session:
        row = await session.get(Token, token_id.upper())
        if row is None or row.project_id != project_id:
            raise NotFound(f"token {token_id[:26]!r} not found in project {project_id!r}")
        await session.delete(row)
        session.add(audit(project_id, "token.revoked", {"token_id": row.id}))


def audit(project_id: str | None, kind: str, detail: dict[str, object]) -> AuditEvent:
    return AuditEvent(id=new_id(), project_id=project_id, kind=kind, detail=detail)
