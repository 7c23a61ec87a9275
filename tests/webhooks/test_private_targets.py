"""No server-side request forgery through a webhook, on both stores, with
AGENTID_WEBHOOK_ALLOW_PRIVATE off (the default): a URL naming a loopback, private,
link-local, metadata or otherwise non-public address is refused when registered, and a
name resolving to one is refused at delivery, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Service
from tests.service import assert_error
from tests.service import deliver
from tests.service import eventually
from tests.service import hosted
from tests.webhooks.helpers import add_webhook
from tests.webhooks.helpers import deliveries
from tests.webhooks.receiver import receiving

REFUSED = {
    "http://127.0.0.1/": "a loopback address",
    "http://127.1:8080/": "a loopback address",  # the short form the system takes
    "http://2130706433/": "a loopback address",  # 127.0.0.1 as one number
    "http://0x7f.0.0.1/": "a loopback address",
    "http://[::1]/": "a loopback address",
    "https://10.1.2.3/": "a private address",
    "https://172.16.0.9/": "a private address",
    "https://192.168.1.1/": "a private address",
    "https://[fd00::1]/": "a private address",  # IPv6 unique-local
    "https://169.254.169.254/latest/meta-data/": "a cloud metadata address",
    "https://[fd00:ec2::254]/": "a cloud metadata address",
    "https://169.254.7.7/": "a link-local address",
    "https://[fe80::1]/": "a link-local address",
    "https://[::ffff:127.0.0.1]/": "a loopback address inside an IPv6 address",
    "https://[::ffff:169.254.169.254]/": "a cloud metadata address inside an IPv6 address",
    "https://[64:ff9b::a00:1]/": "a private address inside an IPv6 address",  # NAT64
    "https://[2002:c0a8:101::1]/": "a private address inside an IPv6 address",  # 6to4
    "https://0.0.0.0/": "the unspecified address",
    "https://[::]/": "the unspecified address",
    "https://224.0.0.1/": "a multicast address",
    "https://100.64.0.1/": "not a public address",  # carrier-grade NAT
    "https://240.0.0.1/": "a reserved address",
}


@pytest.fixture
def overrides() -> dict[str, Any]:
    return {"webhook_retry_seconds": 0.05}


async def test_literal_private_addresses_are_refused_when_registered(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for url, why in REFUSED.items():
        r = await service.http.post(
            "/projects/acme/webhooks", json={"url": url, "events": ["message.received"]}
        )
        message = assert_error(r, 422, "validation_failed")["error"]["message"]
        assert why in message and "AGENTID_WEBHOOK_ALLOW_PRIVATE=1" in message, (url, message)
    assert (await service.http.get("/projects/acme/webhooks")).json() == {"webhooks": []}
    for url in ("https://8.8.8.8/hook", "https://[2606:4700::1111]/", "http://localhost:1/"):
        await add_webhook(service, url, ["message.received"])  # a public address, or a name


async def test_a_name_resolving_to_loopback_is_refused_at_delivery(service: Service) -> None:
    project = await hosted(service, "acme", "acme.test")
    async with receiving() as receiver:
        hook = await add_webhook(service, receiver.url(host="localhost"), ["message.received"])
        await deliver(service, "acme", project["address"])
        found: list[dict[str, Any]] = []

        async def tried_twice() -> bool:
            found[:] = await deliveries(service, hook)
            return bool(found) and found[0]["attempts"] >= 2 and found[0]["status"] == "pending"

        await eventually(tried_twice, "two refused attempts")
        assert receiver.requests == []  # nothing was sent
    (refused,) = found
    assert refused["status_code"] is None and refused["next_attempt_at"] is not None
    assert "localhost resolves to" in refused["error"]
    assert "a loopback address" in refused["error"]
