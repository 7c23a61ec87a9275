"""HTTP routes for a project's webhooks and their deliveries (admin token only; the
behaviour is in ``agentid.webhooks.service``)."""

from __future__ import annotations

from fastapi import status

from agentid.api.paging import IdPaging
from agentid.api.project import ProjectAdminDep
from agentid.api.project import project_router
from agentid.api.responses import CREATES
from agentid.api.responses import DELETES
from agentid.api.responses import errors
from agentid.api.session import SessionDep
from agentid.api.state import DispatcherDep
from agentid.auth import RuntimeDep
from agentid.errors import Conflict
from agentid.filters import cursor_filter
from agentid.webhooks import service
from agentid.webhooks.schemas import DeliveryList
from agentid.webhooks.schemas import DeliveryOut
from agentid.webhooks.schemas import WebhookCreate
from agentid.webhooks.schemas import WebhookCreated
from agentid.webhooks.schemas import WebhookList
from agentid.webhooks.schemas import WebhookOut

router = project_router("/webhooks", "webhooks")


@router.post("", response_model=WebhookCreated, **CREATES)
async def create_webhook(
    project: ProjectAdminDep, body: WebhookCreate, rt: RuntimeDep, session: SessionDep
) -> WebhookCreated:
    """Post the project's events of ``events`` to ``url``, signed (Standard Webhooks); the
    signing ``secret`` is shown this once. A URL naming a loopback, private, link-local or
    metadata address is refused (422) unless AGENTID_WEBHOOK_ALLOW_PRIVATE=1."""
    return await service.create(rt, session, project.id, body)


@router.get("", response_model=WebhookList)
async def list_webhooks(project: ProjectAdminDep, session: SessionDep) -> WebhookList:
    """The project's webhooks (never their secrets)."""
    return await service.listed(session, project.id)


@router.get("/{webhook_id}", response_model=WebhookOut)
async def get_webhook(project: ProjectAdminDep, webhook_id: str, session: SessionDep) -> WebhookOut:
    return await service.shown(session, project.id, webhook_id)


@router.delete("/{webhook_id}", **DELETES)
async def delete_webhook(project: ProjectAdminDep, webhook_id: str, session: SessionDep) -> None:
    """Remove a webhook and its deliveries: nothing more is sent to it."""
    await service.remove(session, project.id, webhook_id)


@router.get("/{webhook_id}/deliveries", response_model=DeliveryList)
async def list_deliveries(
    project: ProjectAdminDep, webhook_id: str, session: SessionDep, page: IdPaging
) -> DeliveryList:
    """The webhook's deliveries, newest first: status, attempts, the next attempt, the last
    answer's status code or failure."""
    before = cursor_filter(page.before, "before", "a delivery id")
    return await service.deliveries(session, project.id, webhook_id, before, page.limit)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=DeliveryOut,
    responses=errors(Conflict),
)
async def replay_delivery(
    project: ProjectAdminDep,
    webhook_id: str,
    delivery_id: str,
    session: SessionDep,
    worker: DispatcherDep,
) -> DeliveryOut:
    """Send a delivery's event again now, as a new delivery with the same body and
    ``webhook-id`` (409 when the webhook is disabled)."""
    again = await service.replay(session, project.id, webhook_id, delivery_id)
    worker.wake()
    return again
