"""Webhooks end to end, on both stores: real mail and SMS make events, agentid posts them to
a real receiver on loopback, and the standardwebhooks library checks every signature.
Failures are retried with backoff and recorded, 410 disables, a replay sends again, only
the kinds asked for are sent, and payloads carry ids and summaries, never a code."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from agentid.email.retention import purge_expired
from agentid.store.tables import Webhook
from agentid.times import utcnow
from agentid.webhooks.repository import WebhookRepository
from tests.conftest import Service
from tests.service import assert_error
from tests.service import deliver
from tests.service import eventually
from tests.service import hosted
from tests.webhooks.helpers import add_webhook
from tests.webhooks.helpers import code_mail
from tests.webhooks.helpers import deliveries
from tests.webhooks.receiver import receiving
from tests.webhooks.receiver import verified


async def settled(
    service: Service, webhook: dict[str, Any], count: int, project_id: str = "acme"
) -> list[dict[str, Any]]:
    """The webhook's ``count`` deliveries once none is pending or being sent."""
    found: list[dict[str, Any]] = []

    async def done() -> bool:
        found[:] = await deliveries(service, webhook, project_id)
        return len(found) == count and all(d["status"] in ("delivered", "failed") for d in found)

    await eventually(done, f"{count} deliveries settled")
    return found


async def test_failed_attempts_are_retried_then_delivered_signed(service: Service) -> None:
    project = await hosted(service, "acme", "acme.test")
    async with receiving(500, 500) as receiver:
        hook = await add_webhook(service, receiver.url(), ["message.received"])
        assert hook["secret"].startswith("whsec_") and hook["enabled"] is True
        entry = await deliver(service, "acme", project["address"], code_mail(project["address"]))
        first, second, third = await receiver.wait_for(3)
        payloads = [verified(hook["secret"], seen) for seen in (first, second, third)]
    assert payloads[0] == payloads[1] == payloads[2]
    assert first.body == second.body == third.body  # built once, sent as built
    assert (
        first.headers["webhook-id"] == second.headers["webhook-id"] == third.headers["webhook-id"]
    )
    assert first.method == "POST" and first.target == "/hook"
    assert first.headers["content-type"] == "application/json"
    sent = payloads[0]
    assert sent["type"] == "message.received" and sent["timestamp"].endswith("Z")
    assert sent["data"] == {
        "project_id": "acme",
        "id": entry["id"],
        "received_at": entry["received_at"],
        "from": entry["from"],
        "to": entry["to"],
        "size": entry["size"],
        "has_attachments": False,
        "parse_error": False,
        "code_count": 1,
        "link_count": 0,
    }
    assert b"482913" not in first.body  # no code, no subject: fetched through the API

    (delivery,) = await settled(service, hook, 1)
    assert delivery["status"] == "delivered" and delivery["attempts"] == 3
    assert delivery["status_code"] == 200 and delivery["error"] is None
    assert delivery["event_type"] == "message.received" and delivery["replay"] == 0
    assert delivery["message_id"] == first.headers["webhook-id"]
    assert delivery["next_attempt_at"] is None and delivery["last_attempt_at"] is not None


async def test_only_the_kinds_asked_for_and_codes_never_leave(service: Service) -> None:
    project = await hosted(service, "acme", "acme.test")
    async with receiving() as receiver:
        hook = await add_webhook(service, receiver.url(), ["code.found", "sms.received"])
        await deliver(service, "acme", project["address"], code_mail(project["address"]))
        (code,) = await receiver.wait_for(1)
        r = await service.http.post("/projects/acme/phone/provision", json={})
        assert r.status_code == 201, r.text
        r = await service.http.post(
            "/sandbox/sms",
            json={"to": r.json()["number"], "from": "+15005550006", "body": "Code 776655"},
        )
        assert r.status_code == 201, r.text
        sms_id = r.json()["id"]
        await receiver.wait_for(3)  # the SMS and the code found in it, in either order
    by_type = {verified(hook["secret"], seen)["type"]: seen for seen in receiver.requests[1:]}
    assert sorted(by_type) == ["code.found", "sms.received"]
    sms, found = by_type["sms.received"], by_type["code.found"]
    data = verified(hook["secret"], code)["data"]
    assert data["kind"] == "code" and data["channel"] == "email" and "value" not in data
    assert data["source"]["type"] == "email" and data["project_id"] == "acme"
    assert b"482913" not in code.body and b"776655" not in found.body
    sms_data = verified(hook["secret"], sms)["data"]
    assert sms_data["id"] == sms_id and sms_data["from"] == "+15005550006"
    assert sms_data["code_count"] == 1 and "body" not in sms_data
    assert b"776655" not in sms.body
    listed = await deliveries(service, hook)
    assert sorted(d["event_type"] for d in listed) == ["code.found", "code.found", "sms.received"]


async def test_410_disables_the_webhook(service: Service) -> None:
    project = await hosted(service, "acme", "acme.test")
    async with receiving(410) as gone, receiving() as other:
        hook = await add_webhook(service, gone.url(), ["message.received"])
        witness = await add_webhook(service, other.url(), ["message.received"])
        await deliver(service, "acme", project["address"])
        await gone.wait_for(1)
        (failed,) = await settled(service, hook, 1)
        assert failed["status"] == "failed" and failed["status_code"] == 410
        assert failed["attempts"] == 1 and failed["next_attempt_at"] is None
        r = await service.http.get(f"/projects/acme/webhooks/{hook['id']}")
        assert r.json()["enabled"] is False and "410 Gone" in r.json()["disabled_reason"]
        # The next event goes to the witness, and makes no delivery for the disabled one.
        await deliver(service, "acme", project["address"])
        await other.wait_for(2)
        assert len(gone.requests) == 1
        assert len(await deliveries(service, hook)) == 1
        r = await service.http.post(
            f"/projects/acme/webhooks/{hook['id']}/deliveries/{failed['id']}/replay"
        )
        assert "disabled" in assert_error(r, 409, "conflict")["error"]["message"]
        listed = (await service.http.get("/projects/acme/webhooks")).json()["webhooks"]
        assert [(w["id"], w["enabled"]) for w in listed] == sorted(
            [(hook["id"], False), (witness["id"], True)]
        )


async def test_replay_sends_the_event_again(service: Service) -> None:
    project = await hosted(service, "acme", "acme.test")
    async with receiving() as receiver:
        hook = await add_webhook(service, receiver.url(), ["message.received"])
        await deliver(service, "acme", project["address"])
        (first,) = await receiver.wait_for(1)
        (original,) = await settled(service, hook, 1)
        path = f"/projects/acme/webhooks/{hook['id']}/deliveries"
        r = await service.http.post(f"{path}/{original['id']}/replay")
        assert r.status_code == 202, r.text
        replayed = r.json()
        assert replayed["replay"] == 1 and replayed["status"] == "pending"
        assert replayed["message_id"] == original["message_id"]
        _, again = await receiver.wait_for(2)
        assert again.body == first.body
        assert again.headers["webhook-id"] == first.headers["webhook-id"]
        assert verified(hook["secret"], again) == verified(hook["secret"], first)
        newest, oldest = await settled(service, hook, 2)  # newest first
        assert (newest["id"], newest["status"], newest["attempts"]) == (
            replayed["id"],
            "delivered",
            1,
        )
        assert oldest == original
        assert_error(await service.http.post(f"{path}/{'0' * 26}/replay"), 404, "not_found")
        assert_error(await service.http.post(f"{path}/nope/replay"), 404, "not_found")


async def test_replays_asked_at_once_each_get_their_own_number(service: Service) -> None:
    """A replay takes the next number of its event (unique per webhook, event and number):
    two asked at once took the same one, and the second was a 500."""
    project = await hosted(service, "acme", "acme.test")
    async with receiving() as receiver:
        hook = await add_webhook(service, receiver.url(), ["message.received"])
        await deliver(service, "acme", project["address"])
        (original,) = await settled(service, hook, 1)
        path = f"/projects/acme/webhooks/{hook['id']}/deliveries/{original['id']}/replay"
        answers = await asyncio.gather(*(service.http.post(path) for _ in range(4)))
        assert [r.status_code for r in answers] == [202] * 4, [r.text for r in answers]
        assert sorted(r.json()["replay"] for r in answers) == [1, 2, 3, 4]


async def test_a_late_answer_is_not_written_over_a_newer_claim(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """A process that takes the dispatcher over (the one sending lost its leader lock)
    makes due again what was being sent and claims it anew; the first attempt's answer,
    coming back after that, is not written over the newer claim."""
    caplog.set_level(logging.INFO, logger="agentid.webhooks")
    project = await hosted(service, "acme", "acme.test")
    async with receiving() as receiver:
        receiver.released.clear()  # the first attempt waits for its answer meanwhile
        hook = await add_webhook(service, receiver.url(), ["message.received"])
        await deliver(service, "acme", project["address"])

        async def being_sent() -> bool:
            return [d["status"] for d in await deliveries(service, hook)] == ["sending"]

        await eventually(being_sent, "the delivery is being sent")
        async with service.running.runtime.sessions() as session:
            repo = WebhookRepository(session)
            assert await repo.restart_interrupted(utcnow()) == 1
            (again,) = await repo.claim_due(utcnow(), 10)
            await session.commit()
        assert again.attempts == 2
        receiver.released.set()
        await receiver.wait_for(1)
        await eventually(
            lambda: any(r.getMessage() == "webhook delivery delivered" for r in caplog.records),
            "the first attempt's answer came back",
        )
        (delivery,) = await deliveries(service, hook)
        assert (delivery["status"], delivery["attempts"]) == ("sending", 2)


async def test_the_secret_is_shown_once_and_stored_sealed(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    hook = await add_webhook(service, "https://hooks.example/agentid", ["message.sent"])
    key = base64.b64decode(hook["secret"].removeprefix("whsec_"))
    assert len(key) == 32
    listed = (await service.http.get("/projects/acme/webhooks")).json()
    shown = {k: v for k, v in hook.items() if k != "secret"}
    assert listed == {"webhooks": [shown]}
    assert (await service.http.get(f"/projects/acme/webhooks/{hook['id']}")).json() == shown
    rt = service.running.runtime
    async with rt.sessions() as session:
        row = (await session.scalars(select(Webhook).where(Webhook.id == hook["id"]))).one()
    assert key not in row.secret_sealed and hook["secret"].encode() not in row.secret_sealed
    assert rt.secrets.open(row.secret_sealed) == key


async def test_delete_stops_deliveries(service: Service) -> None:
    project = await hosted(service, "acme", "acme.test")
    async with receiving() as receiver, receiving() as witness:
        hook = await add_webhook(service, receiver.url(), ["message.received"])
        await add_webhook(service, witness.url(), ["message.received"])
        r = await service.http.delete(f"/projects/acme/webhooks/{hook['id']}")
        assert r.status_code == 204
        assert_error(await service.http.delete(f"/projects/acme/webhooks/{hook['id']}"), 404)
        await deliver(service, "acme", project["address"])
        await witness.wait_for(1)
        assert receiver.requests == []
    path = f"/projects/acme/webhooks/{hook['id']}/deliveries"
    assert_error(await service.http.get(path), 404, "not_found")


async def test_a_webhook_deleted_while_posting_holds_up_nothing(service: Service) -> None:
    """The round that posted to it records the others' answers all the same."""
    project = await hosted(service, "acme", "acme.test")
    async with receiving() as held, receiving() as witness:
        held.released.clear()
        hook = await add_webhook(service, held.url(), ["message.received"])
        other = await add_webhook(service, witness.url(), ["message.received"])
        await deliver(service, "acme", project["address"])
        await witness.wait_for(1)  # posted in the same round as the held one
        r = await service.http.delete(f"/projects/acme/webhooks/{hook['id']}")
        assert r.status_code == 204
        held.released.set()
        await held.wait_for(1)
        (done,) = await settled(service, other, 1)
        assert done["status"] == "delivered"
        await deliver(service, "acme", project["address"])
        await witness.wait_for(2)
        assert len(held.requests) == 1


async def test_deliveries_go_with_the_events_retention_removes(service: Service) -> None:
    """A delivery's body carries its event's data: once retention removes the event, its
    deliveries (replays too) are gone; another project's stay."""
    acme = await hosted(service, "acme", "acme.test")
    beta = await hosted(service, "beta", "beta.test")
    async with receiving() as receiver:
        hook = await add_webhook(service, receiver.url(), ["message.received"])
        kept = await add_webhook(service, receiver.url(), ["message.received"], "beta")
        await deliver(service, "acme", acme["address"], code_mail(acme["address"]))
        (first,) = await settled(service, hook, 1)
        replay = f"/projects/acme/webhooks/{hook['id']}/deliveries/{first['id']}/replay"
        assert (await service.http.post(replay)).status_code == 202

        await settled(service, hook, 2)
        r = await service.http.patch("/projects/beta", json={"retention_days": 3650})
        assert r.status_code == 200, r.text
        await deliver(service, "beta", beta["address"], code_mail(beta["address"]))
        await settled(service, kept, 1, "beta")
    await purge_expired(service.running.runtime, now=datetime.now(UTC) + timedelta(days=400))
    assert await deliveries(service, hook) == []
    assert len(await deliveries(service, kept, "beta")) == 1
