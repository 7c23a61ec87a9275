"""The relay is chosen once, when a message is queued: a retry goes through the relay the
message was queued (and signed) for, never through another one picked later."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Service
from tests.providers.sink import HOST
from tests.providers.sink import Sink
from tests.providers.sink import free_port
from tests.service import eventually
from tests.service import hosted


@pytest.fixture
def overrides(sink: Sink) -> dict[str, Any]:  # the shared relay: a sink that takes all
    return {"relay_url": f"smtp://{HOST}:{sink.port}", "send_retry_seconds": 0.2}


async def status(service: Service, mid: str) -> dict[str, Any]:
    got: dict[str, Any] = (await service.http.get(f"/projects/acme/email/messages/{mid}")).json()
    return got


async def test_a_retry_keeps_the_relay_chosen_at_queue_time(service: Service, sink: Sink) -> None:
    await hosted(service, "acme", "acme.test")
    own = f"smtp://{HOST}:{free_port()}"  # the project's own relay: nobody answers there
    r = await service.http.put("/projects/acme/providers/relay", json={"url": own})
    assert r.status_code == 200, r.text
    r = await service.http.post(
        "/projects/acme/email/send",
        json={"to": ["bob@vendor.example"], "subject": "Hi", "text": "Hi."},
    )
    mid = r.json()["id"]

    async def deferred() -> bool:
        return bool((await status(service, mid))["recipients"][0]["status"] == "deferred")

    await eventually(deferred, "the first attempt found no relay listening")
    assert (await service.http.delete("/projects/acme/providers/relay")).status_code == 204

    async def failed() -> bool:
        return bool((await status(service, mid))["status"] == "failed")

    await eventually(failed, "the retry failed: its relay account is gone")
    (recipient,) = (await status(service, mid))["recipients"]
    assert "relay account" in recipient["error"] and "removed" in recipient["error"]
    assert sink.received == []  # not sent through the shared relay instead
