"""The project a route works on, resolved once per request: visibility (a project token
sees its own project only), existence and scope, in one query.

A project token on another project's resources gets the 404 a missing project gets; on
an admin-only route it gets 403 before anything is looked up; on its own project without
the route's scope, 403. The project comes detached from the request's session, as it was
read: a rollback later in the request does not expire it, and a route that changes it
adds it back (``session.add``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from typing import Annotated
from typing import Literal

from fastapi import APIRouter
from fastapi import Depends

from agentid.api.responses import ON_PROJECT
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.auth import PrincipalDep
from agentid.auth import admin
from agentid.auth import require_scope
from agentid.errors import NotFound
from agentid.names import SLUG
from agentid.projects.repository import ProjectRepository
from agentid.store.tables import Project

Need = Literal["any", "read", "write", "send", "admin"]


def project_for(need: Need) -> Callable[..., Awaitable[Project]]:
    """The dependency for routes on ``/projects/{project_id}`` that need ``need``: any
    token that sees the project, a scope, or the operator's token."""

    async def project(project_id: str, who: PrincipalDep, session: SessionDep) -> Project:
        if need == "admin":
            await admin(who)
        # An id that cannot name a project never reaches the store (NUL, 5,000 characters).
        found = None
        if SLUG.fullmatch(project_id):
            found = await ProjectRepository(session).visible(who, project_id)
        if found is None:
            raise NotFound(f"project {project_id[:63]!r} not found")
        if need in ("read", "write", "send"):
            require_scope(who, need)
        session.expunge(found)
        await session.commit()  # the read ends here: no connection held by a long-poll
        return found

    project.__name__ = f"project_{need}"
    return project


ProjectDep = Annotated[Project, Depends(project_for("any"))]
ProjectReadDep = Annotated[Project, Depends(project_for("read"))]
ProjectWriteDep = Annotated[Project, Depends(project_for("write"))]
ProjectSendDep = Annotated[Project, Depends(project_for("send"))]
ProjectAdminDep = Annotated[Project, Depends(project_for("admin"))]


def project_router(tail: str, tag: str) -> APIRouter:
    """The router of a feature's routes on ``/projects/{project_id}<tail>``: each declares
    what every route on a project can answer (``ON_PROJECT``) and adds its own."""
    return APIRouter(
        prefix="/projects/{project_id}" + tail, tags=[tag], responses=errors(*ON_PROJECT)
    )
