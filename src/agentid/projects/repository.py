"""Statements on projects, tokens and the audit log.

Who may see a project is part of the statement (``readable``): the operator sees every
project, a project token its own only, so a project that is not the token's is exactly
as absent as one that does not exist.
"""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import update

from agentid.auth import Principal
from agentid.ids import new_id
from agentid.store.repository import Page
from agentid.store.repository import Repository
from agentid.store.tables import AuditEvent
from agentid.store.tables import Project
from agentid.store.tables import Token


def readable(who: Principal) -> Select[Project]:
    """Every project ``who`` may see."""
    statement = select(Project)
    if not who.is_admin:
        statement = statement.where(Project.id == who.project_id)
    return statement


def audit(project_id: str | None, kind: str, detail: dict[str, object]) -> AuditEvent:
    """An audit row, to add in the transaction of the change it records."""
    return AuditEvent(id=new_id(), project_id=project_id, kind=kind, detail=detail)


class ProjectRepository(Repository):
    async def visible(self, who: Principal, project_id: str) -> Project | None:
        """The project, when it exists and ``who`` may see it: one query."""
        return await self.get_one_or_none(readable(who).where(Project.id == project_id))

    async def get(self, project_id: str) -> Project | None:
        return await self.session.get(Project, project_id)

    async def lock(self, project_id: str) -> Project:
        """The project, its row locked until the transaction ends (SELECT ... FOR NO KEY
        UPDATE: other lockers wait, while rows that name the project, inserted meanwhile,
        do not; SQLite locks on the first write instead). It exists: the request resolved
        it."""
        statement = select(Project).where(Project.id == project_id).with_for_update(key_share=True)
        return (await self.session.scalars(statement)).one()

    async def hold(self, project_id: str) -> None:
        """Until the transaction ends, no other one holds the project. What counts a
        project's rows before adding one (the send rate, webhooks, authenticators) holds it
        first, so two requests at once cannot both count under the limit and both add.

        PostgreSQL locks the project's row (``lock``). SQLite has no row locks: a write
        that changes nothing takes its one write lock now instead of at the first insert,
        which keeps every other writer waiting: hold it for statements only, never across
        a call out."""
        if self.session.get_bind().dialect.name == "sqlite":
            unchanged = {"retention_days": Project.retention_days}
            touch = update(Project).where(Project.id == project_id).values(unchanged)
            await self.session.execute(touch.execution_options(synchronize_session=False))
        else:
            await self.lock(project_id)

    async def retention(self) -> list[tuple[str, int]]:
        """Every project's id and how many days it keeps its mail."""
        found = await self.session.execute(select(Project.id, Project.retention_days))
        return [(project_id, days) for project_id, days in found]

    async def domain_taken(self, domain: str) -> bool:
        taken = await self.session.scalar(select(Project.id).where(Project.domain == domain))
        return taken is not None

    async def page(self, who: Principal, limit: int, after: str | None) -> Page[Project]:
        """By id; ``after`` is the id the previous page ended with."""
        statement = readable(who).order_by(Project.id)
        if after is not None:
            statement = statement.where(Project.id > after)
        return await self.paginate(statement, limit)


class TokenRepository(Repository):
    async def by_hash(self, token_hash: str) -> Token | None:
        return await self.get_one_or_none(select(Token).where(Token.token_hash == token_hash))

    async def page(self, project_id: str, limit: int, before: str | None) -> Page[Token]:
        """Newest first; ``before`` is the id the previous page ended with."""
        statement = select(Token).where(Token.project_id == project_id)
        if before is not None:
            statement = statement.where(Token.id < before)
        return await self.paginate(statement.order_by(Token.id.desc()), limit)

    async def revoke(self, project_id: str, token_id: str) -> bool:
        """Delete the project's token; False when it has none by that id (or another
        request revoked it first)."""
        gone = await self.delete_where(Token, Token.project_id == project_id, Token.id == token_id)
        return gone > 0
