"""The client's calls on a project's webhooks and their deliveries."""

from __future__ import annotations

from typing import Unpack

from agentid.client.calls import Call
from agentid.client.calls import CallGroup
from agentid.client.calls import endpoint
from agentid.client.calls import page
from agentid.client.calls import read_nothing
from agentid.client.calls import reads
from agentid.client.calls import segment
from agentid.client.filters import Paging
from agentid.webhooks.schemas import DeliveryList
from agentid.webhooks.schemas import DeliveryOut
from agentid.webhooks.schemas import WebhookCreated
from agentid.webhooks.schemas import WebhookList
from agentid.webhooks.schemas import WebhookOut


class WebhookCalls(CallGroup):
    @endpoint
    def create_webhook(self, project_id: str, url: str, events: list[str]) -> Call[WebhookCreated]:
        """Post the project's events of ``events`` to ``url``, signed; the ``secret`` (a
        Standard Webhooks ``whsec_`` secret) shows once."""
        path = f"/projects/{segment(project_id)}/webhooks"
        body = {"url": url, "events": events}
        return Call("POST", path, reads(WebhookCreated), json=body)

    @endpoint
    def list_webhooks(self, project_id: str) -> Call[WebhookList]:
        return Call("GET", f"/projects/{segment(project_id)}/webhooks", reads(WebhookList))

    @endpoint
    def webhook(self, project_id: str, webhook_id: str) -> Call[WebhookOut]:
        return Call("GET", _webhook_path(project_id, webhook_id), reads(WebhookOut))

    @endpoint
    def delete_webhook(self, project_id: str, webhook_id: str) -> Call[None]:
        return Call("DELETE", _webhook_path(project_id, webhook_id), read_nothing)

    @endpoint
    def webhook_deliveries(
        self, project_id: str, webhook_id: str, **paging: Unpack[Paging]
    ) -> Call[DeliveryList]:
        """The webhook's deliveries, newest first, with their attempts."""
        return page(_webhook_path(project_id, webhook_id) + "/deliveries", DeliveryList, paging)

    @endpoint
    def replay_delivery(
        self, project_id: str, webhook_id: str, delivery_id: str
    ) -> Call[DeliveryOut]:
        """Send a delivery's event again now (a new delivery, the same ``webhook-id``)."""
        path = f"{_webhook_path(project_id, webhook_id)}/deliveries/{segment(delivery_id)}/replay"
        return Call("POST", path, reads(DeliveryOut))


def _webhook_path(project_id: str, webhook_id: str) -> str:
    return f"/projects/{segment(project_id)}/webhooks/{segment(webhook_id)}"
