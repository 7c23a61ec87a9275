"""Statements on ``project_providers``: a project's own provider accounts (sealed URLs)."""

from __future__ import annotations

from sqlalchemy import select

from agentid.store.repository import Repository
from agentid.store.tables import ProjectProvider


class ProviderAccountRepository(Repository):
    async def get(self, project_id: str, kind: str) -> ProjectProvider | None:
        return await self.session.get(ProjectProvider, (project_id, kind))

    async def of_project(self, project_id: str) -> list[ProjectProvider]:
        return await self.get_all(
            select(ProjectProvider).where(ProjectProvider.project_id == project_id)
        )

    async def every(self) -> list[ProjectProvider]:
        return await self.get_all(
            select(ProjectProvider).order_by(ProjectProvider.project_id, ProjectProvider.kind)
        )

    async def remove(self, project_id: str, kind: str) -> bool:
        """False when there was none (or another request removed it first)."""
        gone = await self.delete_where(
            ProjectProvider, ProjectProvider.project_id == project_id, ProjectProvider.kind == kind
        )
        return gone > 0
