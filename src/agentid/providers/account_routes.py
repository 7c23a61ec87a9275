"""HTTP routes for a project's own provider accounts (admin only; HTTP only: the behaviour
is in ``agentid.providers.accounts``). A URL goes in, and never comes out again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from agentid.auth import AdminDep, RuntimeDep
from agentid.providers.accounts import Accounts
from agentid.providers.registry import REGISTRY, Registry
from agentid.providers.schemas import (
    ProviderAccountList,
    ProviderAccountOut,
    ProviderAccountSet,
    ProviderKind,
)

router = APIRouter(tags=["providers"])


def provider_registry() -> Registry:
    """The registry provider URLs are checked against (the one ``create_app`` fills)."""
    return REGISTRY


RegistryDep = Annotated[Registry, Depends(provider_registry)]


@router.get("/projects/{project_id}/providers", response_model=ProviderAccountList)
async def list_provider_accounts(
    project_id: str, rt: RuntimeDep, _: AdminDep, registry: RegistryDep
) -> ProviderAccountList:
    """Per kind (relay, phone, dns): whose URL the project uses, its scheme, host and
    fingerprint; never a credential."""
    return await Accounts.of(rt, registry).show(project_id)


@router.put("/projects/{project_id}/providers/{kind}", response_model=ProviderAccountOut)
async def set_provider_account(
    project_id: str,
    kind: ProviderKind,
    body: ProviderAccountSet,
    rt: RuntimeDep,
    _: AdminDep,
    registry: RegistryDep,
) -> ProviderAccountOut:
    """Set the project's own provider account, stored encrypted with the service key."""
    return await Accounts.of(rt, registry).put(project_id, kind, body.url.get_secret_value())


@router.delete("/projects/{project_id}/providers/{kind}", status_code=204)
async def delete_provider_account(
    project_id: str, kind: ProviderKind, rt: RuntimeDep, _: AdminDep, registry: RegistryDep
) -> Response:
    """Remove the project's own account: the service-wide URL applies again."""
    await Accounts.of(rt, registry).remove(project_id, kind)
    return Response(status_code=204)
