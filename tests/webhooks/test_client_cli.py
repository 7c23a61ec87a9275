"""The Python client's webhook methods and ``agentid webhooks ...`` against a running
agentid and a real receiver (SQLite: both are thin, the API under them is tested on both
stores)."""

from __future__ import annotations

import json

import pytest

from agentid.client import AsyncClient
from agentid.errors import NotFound
from agentid.errors import ValidationFailed
from agentid.events import Kind
from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import create_project
from tests.service import eventually
from tests.test_cli_live import cli
from tests.webhooks.helpers import append_event
from tests.webhooks.receiver import receiving
from tests.webhooks.receiver import verified

FILTERED = {"kind": "sms.filtered", "error_code": "30038", "at": "2030-01-01T10:00:00Z"}


@pytest.fixture
def backend() -> str:
    return "sqlite"


async def test_client_webhook_calls(service: Service) -> None:
    await create_project(service, "acme")
    async with receiving() as receiver, AsyncClient(service.running.url, ADMIN) as client:
        made = await client.create_webhook("acme", receiver.url(), ["sms.filtered"])
        assert made.secret.startswith("whsec_") and made.events == ["sms.filtered"]
        assert [w.id for w in (await client.list_webhooks("acme")).webhooks] == [made.id]
        assert (await client.webhook("acme", made.id)).url == receiver.url()
        with pytest.raises(ValidationFailed, match="http:// or https://"):
            await client.create_webhook("acme", "gopher://x.example/", ["sms.filtered"])
        await append_event(service, "acme", Kind.SMS_FILTERED, FILTERED)
        (first,) = await receiver.wait_for(1)
        assert verified(made.secret, first)["data"]["error_code"] == "30038"

        async def delivered() -> bool:
            page = await client.webhook_deliveries("acme", made.id, limit=1)
            return [d.status for d in page.deliveries] == ["delivered"]

        await eventually(delivered, "the delivery recorded")
        (delivery,) = (await client.webhook_deliveries("acme", made.id)).deliveries
        again = await client.replay_delivery("acme", made.id, delivery.id)
        assert again.replay == 1 and again.message_id == delivery.message_id
        _, second = await receiver.wait_for(2)
        assert second.body == first.body
        await client.delete_webhook("acme", made.id)
        with pytest.raises(NotFound):
            await client.webhook_deliveries("acme", made.id)


async def test_webhooks_commands(service: Service) -> None:
    await create_project(service, "acme")
    async with receiving() as receiver:
        added = await cli(
            service, "webhooks", "add", "acme", "--url", receiver.url(),
            "--event", "sms.filtered", "--event", "code.found",
        )  # fmt: skip
        secret = added.stdout.strip()
        assert secret.startswith("whsec_") and "not shown again" in added.stderr
        listed = json.loads((await cli(service, "webhooks", "list", "acme", "--json")).stdout)
        (hook,) = listed["webhooks"]
        assert hook["events"] == ["sms.filtered", "code.found"] and "secret" not in hook
        assert hook["id"] in (await cli(service, "webhooks", "list", "acme")).stdout
        await append_event(service, "acme", Kind.SMS_FILTERED, FILTERED)
        await receiver.wait_for(1)

        async def recorded() -> bool:
            shown = await cli(service, "webhooks", "deliveries", "acme", hook["id"], "--json")
            return [d["status"] for d in json.loads(shown.stdout)["deliveries"]] == ["delivered"]

        await eventually(recorded, "the delivery recorded")
        shown = await cli(service, "webhooks", "deliveries", "acme", hook["id"], "--json")
        (delivery,) = json.loads(shown.stdout)["deliveries"]
        table = (await cli(service, "webhooks", "deliveries", "acme", hook["id"])).stdout
        assert delivery["id"] in table  # the first column is never cut short
        replayed = await cli(service, "webhooks", "replay", "acme", hook["id"], delivery["id"])
        assert len(replayed.stdout.strip()) == 26
        _, again = await receiver.wait_for(2)
        assert verified(secret, again)["type"] == "sms.filtered"
        gone = await cli(service, "webhooks", "delete", "acme", hook["id"])
        assert f"webhook {hook['id']} deleted" in gone.stderr
        missing = await cli(service, "webhooks", "delete", "acme", hook["id"], check=False)
        assert missing.returncode == 1 and missing.stderr.startswith("error: webhook")
        bad = await cli(
            service, "webhooks", "add", "acme", "--url", receiver.url(), "--event", "nope",
            check=False,
        )  # fmt: skip
        assert bad.returncode == 1 and bad.stderr.startswith("error: events.0")
