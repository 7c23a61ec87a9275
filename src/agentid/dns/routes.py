"""HTTP routes for a project's DNS: the plan, applying it, verifying it (HTTP only; the
behaviour is in ``agentid.dns.service``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body

from agentid.api.project import ProjectAdminDep
from agentid.api.project import ProjectReadDep
from agentid.api.project import project_router
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.auth import RuntimeDep
from agentid.dns import service
from agentid.dns.schemas import DnsApplyOut
from agentid.dns.schemas import DnsApplyRequest
from agentid.dns.schemas import DnsPlanOut
from agentid.dns.schemas import DnsVerifyOut
from agentid.errors import Conflict
from agentid.errors import ProviderError

router = project_router("/email/dns", "dns")


@router.get("", response_model=DnsPlanOut, responses=errors(Conflict))
async def dns_plan(project: ProjectReadDep, rt: RuntimeDep, session: SessionDep) -> DnsPlanOut:
    """The records the domain needs, how the last apply went, the last verification."""
    return await service.plan_out(rt, session, project)


@router.post("", response_model=DnsApplyOut, responses=errors(Conflict, ProviderError, *WITH_BODY))
async def dns_apply(
    project: ProjectAdminDep,
    rt: RuntimeDep,
    session: SessionDep,
    body: Annotated[DnsApplyRequest | None, Body()] = None,
) -> DnsApplyOut:
    """Write the records through the project's DNS provider; 409 when a record agentid did
    not create stands in the way (``force`` replaces it)."""
    return await service.apply(rt, session, project, force=bool(body and body.force))


@router.post("/verify", response_model=DnsVerifyOut, responses=errors(Conflict))
async def dns_verify(project: ProjectAdminDep, rt: RuntimeDep, session: SessionDep) -> DnsVerifyOut:
    """Resolve every record again at the configured name servers, and store the result."""
    return await service.verify(rt, session, project)
