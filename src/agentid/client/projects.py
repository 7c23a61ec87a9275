"""The client's calls on who the token is, projects and tokens."""

from __future__ import annotations

from typing import TypedDict
from typing import Unpack

from agentid.client.calls import Call
from agentid.client.calls import CallGroup
from agentid.client.calls import endpoint
from agentid.client.calls import json_body
from agentid.client.calls import page
from agentid.client.calls import read_nothing
from agentid.client.calls import reads
from agentid.client.calls import segment
from agentid.client.filters import Paging
from agentid.projects.schemas import Identity
from agentid.projects.schemas import Me
from agentid.projects.schemas import ProjectList
from agentid.projects.schemas import ProjectOut
from agentid.projects.schemas import TokenList
from agentid.projects.schemas import TokenOut


class ProjectChanges(TypedDict, total=False):
    """What ``update_project`` changes (only what is given is sent)."""

    catch_all: bool | None
    retention_days: int | None
    authenticated_codes: bool | None


class ProjectCalls(CallGroup):
    # -- who and what -----------------------------------------------------------------------

    @endpoint
    def me(self) -> Call[Me]:
        """Who the token is: the operator, or a project token and its scopes."""
        return Call("GET", "/me", reads(Me))

    @endpoint
    def identity(self, project_id: str | None = None) -> Call[Identity]:
        """The project's address, number and constitution (for the agent's prompt)."""
        return Call("GET", self._path(project_id, "identity"), reads(Identity))

    # -- projects and tokens ----------------------------------------------------------------

    @endpoint
    def create_project(self, id: str, domain: str | None = None) -> Call[ProjectOut]:
        body = json_body(id=id, domain=domain)
        return Call("POST", "/projects", reads(ProjectOut), json=body)

    @endpoint
    def list_projects(self, **paging: Unpack[Paging]) -> Call[ProjectList]:
        return page("/projects", ProjectList, paging)

    @endpoint
    def get_project(self, id: str) -> Call[ProjectOut]:
        return Call("GET", f"/projects/{segment(id)}", reads(ProjectOut))

    @endpoint
    def update_project(self, id: str, **changes: Unpack[ProjectChanges]) -> Call[ProjectOut]:
        return Call(
            "PATCH", f"/projects/{segment(id)}", reads(ProjectOut), json=json_body(**changes)
        )

    @endpoint
    def create_token(
        self, project_id: str, scopes: list[str] | None = None, name: str | None = None
    ) -> Call[TokenOut]:
        path = f"/projects/{segment(project_id)}/tokens"
        return Call("POST", path, reads(TokenOut), json=json_body(scopes=scopes, name=name))

    @endpoint
    def list_tokens(self, project_id: str, **paging: Unpack[Paging]) -> Call[TokenList]:
        return page(f"/projects/{segment(project_id)}/tokens", TokenList, paging)

    @endpoint
    def revoke_token(self, project_id: str, token_id: str) -> Call[None]:
        return Call(
            "DELETE", f"/projects/{segment(project_id)}/tokens/{segment(token_id)}", read_nothing
        )
