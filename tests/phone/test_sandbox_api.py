"""The phone API on the sandbox provider (the default), against a running agentid on both
stores: provision, one number per project, SMS injected, codes, waits, release, pins and
the collector, tokens and other projects."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import new_token

FICTIONAL = re.compile(r"^\+1[2-9][0-9]{2}55501[0-9]{2}$")


async def provisioned(service: Service, project_id: str, **body: Any) -> dict[str, Any]:
    await create_project(service, project_id)
    r = await service.http.post(f"/projects/{project_id}/phone/provision", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def inject(
    service: Service, to: str, body: str, sender: str = "+15005550006"
) -> dict[str, Any]:
    r = await service.http.post("/sandbox/sms", json={"to": to, "from": sender, "body": body})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_provision_receive_release(service: Service) -> None:
    number = await provisioned(service, "acme", area_code="415")
    assert FICTIONAL.match(number["number"]) and number["number"].startswith("+1415")
    assert (number["provider"], number["status"], number["keep"]) == ("sandbox", "active", False)
    assert "sms" in number["capabilities"] and number["warning"] is None
    shown = await service.http.get("/projects/acme/phone")
    assert shown.json()["number"] == number["number"]
    assert_error(
        await service.http.post("/projects/acme/phone/provision", json={}), 409, "conflict"
    )

    sms = await inject(service, number["number"], "Your Acme verification code is 482913.")
    assert sms["from"] == "+15005550006" and sms["codes"][0]["value"] == "482913"
    listed = (await service.http.get("/projects/acme/phone/messages")).json()
    assert [m["id"] for m in listed["messages"]] == [sms["id"]] and listed["next"] is None
    codes = (await service.http.get("/projects/acme/codes", params={"channel": "sms"})).json()
    (code,) = codes["codes"]
    assert code["value"] == "482913" and code["source"] == {"type": "sms", "id": sms["id"]}
    assert code["from"] == "+15005550006" and code["to"] == [number["number"]]

    released = await service.http.delete("/projects/acme/phone")
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released" and released.json()["released_at"]
    assert_error(await service.http.get("/projects/acme/phone"), 404, "not_found")
    kept = (await service.http.get("/projects/acme/phone/messages")).json()["messages"]
    assert [m["id"] for m in kept] == [sms["id"]]  # SMS history outlives the number
    r = await service.http.post(
        "/sandbox/sms", json={"to": number["number"], "from": "x", "body": "y"}
    )
    assert_error(r, 404, "not_found")
    again = await service.http.post("/projects/acme/phone/provision", json={})
    assert again.status_code == 201  # a released number frees the project's one place


async def test_filters_paging_and_wait(service: Service) -> None:
    number = (await provisioned(service, "acme"))["number"]
    first = await inject(service, number, "hello there", sender="+15550001111")
    second = await inject(service, number, "Your code: 1234", sender="+15550002222")
    get = service.http.get
    url = "/projects/acme/phone/messages"
    assert [m["id"] for m in (await get(url)).json()["messages"]] == [second["id"], first["id"]]
    page = (await get(url, params={"limit": 1})).json()
    assert page["next"] == second["id"]
    older = (await get(url, params={"limit": 1, "before": page["next"]})).json()
    assert [m["id"] for m in older["messages"]] == [first["id"]]
    assert [m["id"] for m in (await get(url, params={"from": "0001111"})).json()["messages"]] == [
        first["id"]
    ]
    assert [m["id"] for m in (await get(url, params={"contains": "CODE"})).json()["messages"]] == [
        second["id"]
    ]
    assert (await get(url, params={"contains": "100%_"})).json()["messages"] == []

    waiting = asyncio.create_task(get(url, params={"after": second["id"], "wait": 10}))
    await asyncio.sleep(0.2)
    third = await inject(service, number, "G-123456 is your code")
    answered = (await waiting).json()["messages"]
    assert [m["id"] for m in answered] == [third["id"]]
    waited = await service.http.get(
        "/projects/acme/codes", params={"channel": "sms", "after": third["id"], "wait": 0.2}
    )
    assert waited.status_code == 200


async def test_tokens_and_other_projects(service: Service) -> None:
    number = (await provisioned(service, "acme"))["number"]
    await create_project(service, "other")
    await inject(service, number, "code 111222")
    reader = service.client(await new_token(service, "acme", ["read"]))
    outsider = service.client(await new_token(service, "other"))
    async with reader, outsider:
        assert (await reader.get("/projects/acme/phone/messages")).status_code == 200
        assert (await reader.get("/projects/acme/phone")).status_code == 200
        assert_error(await reader.post("/projects/acme/phone/provision", json={}), 403)
        assert_error(await reader.delete("/projects/acme/phone"), 403)
        assert_error(await reader.patch("/projects/acme/phone", json={"keep": True}), 403)
        assert_error(
            await reader.post("/sandbox/sms", json={"to": number, "from": "a", "body": "b"}), 403
        )
        assert_error(await outsider.get("/projects/acme/phone/messages"), 404)
        assert_error(await outsider.get("/projects/acme/phone"), 404)
        assert (await outsider.get("/projects/other/phone/messages")).json()["messages"] == []
        codes = (await outsider.get("/projects/other/codes")).json()["codes"]
        assert codes == []
    assert_error(await service.http.get("/projects/other/phone"), 404)


async def test_pin_and_collect(service: Service) -> None:
    await provisioned(service, "acme")
    url = "/projects/acme/phone"
    pinned = await service.http.patch(url, json={"keep": True})
    assert pinned.status_code == 200 and pinned.json()["keep"] is True
    gc = await service.http.post(f"{url}/gc", json={"inactive_days": 1})
    assert gc.json() == {"dry_run": False, "numbers": []}
    await service.http.patch(url, json={"keep": False})
    # nothing is a day old yet: the collector leaves a fresh number
    assert (await service.http.post(f"{url}/gc", json={"inactive_days": 1})).json()["numbers"] == []
    assert (await service.http.get(url)).status_code == 200


async def test_bad_requests(service: Service) -> None:
    await create_project(service, "acme")
    post = service.http.post
    for body in (
        {"country": "us"},
        {"country": "USA"},
        {"area_code": "4a5"},
        {"type": "satellite"},
        {"extra": 1},
        {"country": "US\x00"},
        {"area_code": "4" * 5000},
    ):
        assert_error(await post("/projects/acme/phone/provision", json=body), 422)
    r = await post("/projects/acme/phone/provision", json={"country": "FR"})
    assert_error(r, 422, "provider_rejected")  # the fictional range is North American
    assert_error(await service.http.get("/projects/acme/phone"), 404)
    for body in (
        {"to": "+1415", "from": "a", "body": "b"},
        {"to": "+14155550100", "from": "", "body": "b"},
        {"to": "+14155550100", "from": "a", "body": "x" * 1601},
    ):
        assert_error(await post("/sandbox/sms", json=body), 422)
    for params in (
        {"before": "nope"},
        {"since": "2024-01-01T00:00:00"},
        {"limit": 0},
        {"wait": 301},
        {"from": "a\x00"},
    ):
        assert_error(await service.http.get("/projects/acme/phone/messages", params=params), 422)
    assert_error(await service.http.patch("/projects/acme/phone", json={"keep": "yes please"}), 422)
    assert_error(await post("/projects/acme/phone/gc", json={"inactive_days": 0}), 422)
    assert_error(await service.http.delete("/projects/acme/phone"), 404)
    big = b'{"country": "US", "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    r = await post(
        "/projects/acme/phone/provision", content=big, headers={"Content-Type": "application/json"}
    )
    assert_error(r, 413)


async def backdate(service: Service, project_id: str, days: int) -> None:
    """Make the project's number (and its last SMS) ``days`` old."""
    from datetime import timedelta

    from sqlalchemy import update

    from agentid.store.tables import PhoneNumber
    from agentid.times import utcnow

    then = utcnow() - timedelta(days=days)
    async with service.running.runtime.sessions() as session:
        await session.execute(
            update(PhoneNumber)
            .where(PhoneNumber.project_id == project_id)
            .values(created_at=then, last_activity_at=then)
        )
        await session.commit()


async def test_collector_releases_inactive_numbers(service: Service) -> None:
    from agentid.phone.collector import NumberCollector
    from agentid.providers.registry import Transports

    old = (await provisioned(service, "old"))["number"]
    await provisioned(service, "pinned")
    fresh = (await provisioned(service, "fresh"))["number"]
    await service.http.patch("/projects/pinned/phone", json={"keep": True})
    for project_id in ("old", "pinned", "fresh"):
        await backdate(service, project_id, 10)
    await inject(service, fresh, "hello")  # an SMS today: active again

    dry = (
        await service.http.post(
            "/projects/old/phone/gc", json={"inactive_days": 7, "dry_run": True}
        )
    ).json()
    assert [n["number"] for n in dry["numbers"]] == [old] and dry["dry_run"] is True
    assert (await service.http.get("/projects/old/phone")).status_code == 200
    assert (await service.http.post("/projects/old/phone/gc", json={"inactive_days": 30})).json()[
        "numbers"
    ] == []

    rt = service.running.runtime
    rt.settings.phone_gc_inactive_days = 7
    assert await NumberCollector(rt, Transports()).once() == 1
    assert_error(await service.http.get("/projects/old/phone"), 404)
    assert (await service.http.get("/projects/pinned/phone")).status_code == 200
    assert (await service.http.get("/projects/fresh/phone")).status_code == 200


async def test_an_injected_nul_is_stored_replaced(service: Service) -> None:
    """``{"body": "a\\u0000b"}`` passed validation and was a 500 on PostgreSQL (its text
    cannot hold a NUL): the SMS is stored with U+FFFD in its place, as mail is."""
    number = (await provisioned(service, "acme"))["number"]
    sms = await inject(service, number, "a\x00b code 123456", sender="+1555\x000006")
    assert (sms["body"], sms["from"]) == ("a\ufffdb code 123456", "+1555\ufffd0006")
    assert [c["value"] for c in sms["codes"]] == ["123456"]
