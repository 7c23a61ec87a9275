"""What the webhook tests do with a running agentid: register a webhook, read its
deliveries, write an event as a feature writes one, mail a code."""

from __future__ import annotations

from typing import Any

from agentid.events import Kind
from agentid.events import Signal
from agentid.store import event_log
from tests.conftest import Service
from tests.service import message

FAST = {"webhook_allow_private": True, "webhook_retry_seconds": 0.05}


async def add_webhook(
    service: Service, url: str, events: list[str], project_id: str = "acme"
) -> dict[str, Any]:
    r = await service.http.post(
        f"/projects/{project_id}/webhooks", json={"url": url, "events": events}
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def deliveries(
    service: Service, webhook: dict[str, Any], project_id: str = "acme"
) -> list[dict[str, Any]]:
    r = await service.http.get(f"/projects/{project_id}/webhooks/{webhook['id']}/deliveries")
    assert r.status_code == 200, r.text
    return list(r.json()["deliveries"])


async def append_event(
    service: Service, project_id: str, kind: Kind, payload: dict[str, Any], ref: str | None = None
) -> int:
    """An event written as a feature writes it (its row, then a signal on the bus): how the
    escalations, which this branch does not have, will write theirs."""
    rt = service.running.runtime
    async with rt.sessions.begin() as session:
        (seq,) = await event_log.append_async(
            session, [event_log.row(project_id, kind.value, ref, payload)]
        )
    rt.bus.publish(Signal(project_id, kind, seq))
    return seq


def code_mail(to: str, code: str = "482913") -> bytes:
    body = f"Your Orbitly verification code is {code}. It expires in 10 minutes."
    return message(to, f"{code} is your code", body, "Orbitly <no-reply@orbitly.example>")
