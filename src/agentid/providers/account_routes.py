"""HTTP routes for a project's own provider accounts (admin only; HTTP only: the behaviour
is in ``agentid.providers.accounts``). A URL goes in, and never comes out again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi import Depends

from agentid.api.project import ProjectAdminDep
from agentid.api.responses import DELETES
from agentid.api.responses import GATED
from agentid.api.responses import ON_PROJECT
from agentid.api.responses import WITH_BODY
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.auth import RuntimeDep
from agentid.providers.accounts import Accounts
from agentid.providers.registry import REGISTRY
from agentid.providers.registry import Registry
from agentid.providers.schemas import ProviderAccountList
from agentid.providers.schemas import ProviderAccountOut
from agentid.providers.schemas import ProviderAccountSet
from agentid.providers.schemas import ProviderKind

router = APIRouter(tags=["providers"], responses=errors(*GATED))


def provider_registry() -> Registry:
    """The registry provider URLs are checked against (the one ``create_app`` fills)."""
    return REGISTRY


RegistryDep = Annotated[Registry, Depends(provider_registry)]


@router.get(
    "/projects/{project_id}/providers",
    response_model=ProviderAccountList,
    responses=errors(*ON_PROJECT),
)
async def list_provider_accounts(
    project: ProjectAdminDep, session: SessionDep, rt: RuntimeDep, registry: RegistryDep
) -> ProviderAccountList:
    """Per kind (relay, phone, dns): whose URL the project uses, its scheme, host and
    fingerprint; never a credential."""
    return await Accounts.of(rt, registry).show(session, project.id)


@router.put(
    "/projects/{project_id}/providers/{kind}",
    response_model=ProviderAccountOut,
    responses=errors(*ON_PROJECT, *WITH_BODY),
)
async def set_provider_account(
    project: ProjectAdminDep,
    kind: ProviderKind,
    body: ProviderAccountSet,
    session: SessionDep,
    rt: RuntimeDep,
    registry: RegistryDep,
) -> ProviderAccountOut:
    """Set the project's own provider account, stored encrypted with the service key."""
    url = body.url.get_secret_value()
    return await Accounts.of(rt, registry).put(session, project.id, kind, url)


@router.delete("/projects/{project_id}/providers/{kind}", responses=errors(*ON_PROJECT), **DELETES)
async def delete_provider_account(
    project: ProjectAdminDep, kind: ProviderKind, session: SessionDep, rt: RuntimeDep
) -> None:
    """Remove the project's own account: the service-wide URL applies again."""
    await Accounts.of(rt).remove(session, project.id, kind)
