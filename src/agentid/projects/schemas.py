"""Project and token shapes shared by the API, the client and (later) MCP."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field
from pydantic import StringConstraints
from pydantic import computed_field

from agentid.names import ONE_LINE
from agentid.names import SLUG_PATTERN
from agentid.names import u_label

Slug = Annotated[
    str,
    StringConstraints(min_length=1, max_length=63, pattern=SLUG_PATTERN),
]


class ProjectCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Slug
    domain: str | None = Field(default=None, max_length=253)
    catch_all: bool = True
    retention_days: int = Field(default=30, gt=0, le=3650)
    authenticated_codes: bool = False  # codes queries default to authenticated=true


class ProjectUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    catch_all: bool | None = None
    retention_days: int | None = Field(default=None, gt=0, le=3650)
    authenticated_codes: bool | None = None


class ProjectOut(BaseModel):
    id: str
    domain: str | None  # stored and routed as its A-label (xn--...)
    email_active: bool
    primary_address: str | None
    catch_all: bool
    retention_days: int
    authenticated_codes: bool
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def domain_unicode(self) -> str | None:
        """The domain as people read it (the same as ``domain`` unless it is an IDN)."""
        return u_label(self.domain) if self.domain else None


class ProjectList(BaseModel):
    projects: list[ProjectOut]
    next: str | None = None  # pass as ``before`` for the next page


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scopes: list[str] = Field(default_factory=lambda: ["read", "write", "send"], max_length=10)
    name: str | None = Field(default=None, max_length=100, pattern=ONE_LINE)


class TokenOut(BaseModel):
    id: str
    token: str
    project_id: str
    scopes: list[str]
    name: str | None
    created_at: datetime


class TokenInfo(BaseModel):
    """A token as listed: never its secret (only its hash is stored)."""

    id: str
    project_id: str
    scopes: list[str]
    name: str | None
    created_at: datetime


class TokenList(BaseModel):
    tokens: list[TokenInfo]
    next: str | None  # pass as ``before`` for the next (older) page


class Me(BaseModel):
    """``GET /me``: who the token is."""

    admin: bool
    project: str | None  # the project a project token is scoped to (None: the operator)
    scopes: list[str]


class Identity(BaseModel):
    """``GET /projects/{id}/identity``: what an agent is told about itself."""

    project: str
    email: str | None  # the project's primary address (None until email is provisioned)
    phone: str | None  # its number in E.164 (None: no number)
    aliases_endpoint: str  # POST here with {"label": ...} for a fresh address per sign-up
    codes_endpoint: str  # GET here with site=, wait=, consume=true for a code
    constitution: str  # Markdown for the agent's prompt
