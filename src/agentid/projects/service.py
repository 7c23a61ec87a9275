"""Projects and their tokens.

Routes resolve the project itself (agentid.api.project); these functions run on the
request's session and commit what they change before they return.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from agentid.auth import SCOPES
from agentid.auth import Principal
from agentid.crypto import hash_token
from agentid.crypto import new_token
from agentid.errors import Conflict
from agentid.errors import NotFound
from agentid.errors import ValidationFailed
from agentid.ids import is_valid
from agentid.ids import new_id
from agentid.names import SLUG
from agentid.names import normalize_domain
from agentid.projects.repository import ProjectRepository
from agentid.projects.repository import TokenRepository
from agentid.projects.repository import audit
from agentid.projects.schemas import ProjectCreate
from agentid.projects.schemas import ProjectList
from agentid.projects.schemas import ProjectOut
from agentid.projects.schemas import ProjectUpdate
from agentid.projects.schemas import TokenCreate
from agentid.projects.schemas import TokenInfo
from agentid.projects.schemas import TokenList
from agentid.projects.schemas import TokenOut
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Project
from agentid.store.tables import Token


def project_out(project: Project) -> ProjectOut:
    return ProjectOut.model_validate(project, from_attributes=True)


async def create_project(rt: Runtime, session: AsyncSession, body: ProjectCreate) -> Project:
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
        authenticated_codes=body.authenticated_codes,
    )
    projects = ProjectRepository(session)
    if await projects.get(body.id) is not None:
        raise Conflict(f"project {body.id!r} already exists")
    if domain and await projects.domain_taken(domain):
        raise Conflict(f"domain {domain} is already hosted by another project")
    projects.add(project, audit(body.id, "project.created", {"domain": domain}))
    try:
        await session.commit()
    except IntegrityError as exc:  # a concurrent create won
        raise Conflict(f"project {body.id!r} or domain {domain} already exists") from exc
    return project


async def list_projects(
    session: AsyncSession, who: Principal, limit: int, before: str | None
) -> ProjectList:
    """By id; ``before`` is the ``next`` of the previous page (the id it ended with)."""
    if before is not None and not SLUG.fullmatch(before):
        raise ValidationFailed("before must be a project id")
    page = await ProjectRepository(session).page(who, limit, before)
    return ProjectList(
        projects=[project_out(p) for p in page.items], next=page.next(lambda p: p.id)
    )


async def update_project(
    rt: Runtime, session: AsyncSession, project: Project, body: ProjectUpdate
) -> Project:
    session.add(project)
    if body.catch_all is not None:
        project.catch_all = body.catch_all
    if body.retention_days is not None:
        project.retention_days = body.retention_days
    if body.authenticated_codes is not None:
        project.authenticated_codes = body.authenticated_codes
    await session.commit()
    rt.routes_changed()
    return project


def _token_info(row: Token) -> TokenInfo:
    return TokenInfo.model_validate(row, from_attributes=True)


async def create_token(session: AsyncSession, project_id: str, body: TokenCreate) -> TokenOut:
    unknown = sorted(set(body.scopes) - set(SCOPES))
    if unknown or not body.scopes:
        raise ValidationFailed(f"scopes must be among {list(SCOPES)}; got {body.scopes}")
    token = new_token("aid_" + project_id[:12])
    row = Token(
        id=new_id(),
        project_id=project_id,
        token_hash=hash_token(token),
        scopes=sorted(set(body.scopes)),
        name=body.name,
    )
    TokenRepository(session).add(
        row, audit(project_id, "token.created", {"token_id": row.id, "scopes": row.scopes})
    )
    await session.commit()
    return TokenOut(**_token_info(row).model_dump(), token=token)


async def list_tokens(
    session: AsyncSession, project_id: str, limit: int, before: str | None = None
) -> TokenList:
    """Newest first; ``next`` is set when older tokens remain."""
    page = await TokenRepository(session).page(project_id, limit, before)
    return TokenList(
        tokens=[_token_info(row) for row in page.items],
        next=page.next(lambda row: row.id),
    )


async def revoke_token(session: AsyncSession, project_id: str, token_id: str) -> None:
    """Delete the token: the next request that presents it gets 401."""
    if not is_valid(token_id.upper()):  # (never a hostile id to the store)
        raise NotFound(f"token {token_id[:26]!r} not found in project {project_id!r}")
    tokens = TokenRepository(session)
    if not await tokens.revoke(project_id, token_id.upper()):
        raise NotFound(f"token {token_id[:26]!r} not found in project {project_id!r}")
    tokens.add(audit(project_id, "token.revoked", {"token_id": token_id.upper()}))
    await session.commit()
