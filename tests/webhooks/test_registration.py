"""Registering webhooks, on both stores: bad input is a clear 422, an unknown webhook 404,
and only the operator's token may touch them."""

from __future__ import annotations

import asyncio

from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import new_token
from tests.webhooks.helpers import add_webhook

GOOD = {"url": "https://hooks.example/agentid", "events": ["message.received"]}


BAD: list[tuple[dict[str, object], str]] = [
    ({**GOOD, "url": "ftp://hooks.example/x"}, "http:// or https://"),
    ({**GOOD, "url": "hooks.example/x"}, "http:// or https://"),
    ({**GOOD, "url": "http://"}, "needs a host"),
    ({**GOOD, "url": "https://user:pw@hooks.example/"}, "user:password@"),
    ({**GOOD, "url": "https://hooks.example/a b"}, "no spaces"),
    ({**GOOD, "url": "https://hooks.example:99999/"}, "port"),
    ({**GOOD, "url": "https://hooks.example/#x"}, "fragment"),
    ({**GOOD, "url": "https://bad_label-.example/"}, "not a valid name"),
    ({**GOOD, "url": "https://hooks.example/" + "a" * 3000}, "at most 2048"),
    ({**GOOD, "events": ["message.received", "message.exploded"]}, "events.1"),
    ({**GOOD, "events": ["message.authenticated"]}, "message.received"),
    ({**GOOD, "events": []}, "at least 1"),
    ({"url": GOOD["url"]}, "events: Field required"),
    ({**GOOD, "secret": "whsec_mine"}, "secret"),
]


async def test_bad_input_is_a_clear_422(service: Service) -> None:
    await create_project(service, "acme")
    for body, said in BAD:
        r = await service.http.post("/projects/acme/webhooks", json=body)
        message = assert_error(r, 422, "validation_failed")["error"]["message"]
        assert said in message, (body, message)
    assert (await service.http.get("/projects/acme/webhooks")).json() == {"webhooks": []}


async def test_events_are_kept_once_each_in_the_order_given(service: Service) -> None:
    await create_project(service, "acme")
    events = ["sms.received", "code.found", "sms.received"]
    hook = await add_webhook(service, "http://hooks.example:8080/in?x=1", events)
    assert hook["events"] == ["sms.received", "code.found"]
    assert hook["url"] == "http://hooks.example:8080/in?x=1"


async def test_unknown_webhooks_and_deliveries_are_404(service: Service) -> None:
    await create_project(service, "acme")
    await create_project(service, "beta")
    hook = await add_webhook(service, GOOD["url"], GOOD["events"], project_id="beta")
    for wid in ("0" * 26, "nope", "x" * 300, hook["id"]):  # beta's webhook is not acme's
        base = f"/projects/acme/webhooks/{wid}"
        assert_error(await service.http.get(base), 404, "not_found")
        assert_error(await service.http.delete(base), 404, "not_found")
        assert_error(await service.http.get(f"{base}/deliveries"), 404, "not_found")
        assert_error(
            await service.http.post(f"{base}/deliveries/{'0' * 26}/replay"), 404, "not_found"
        )
    assert_error(await service.http.get("/projects/ghost/webhooks"), 404, "not_found")
    r = await service.http.get(f"/projects/beta/webhooks/{hook['id']}/deliveries?before=zzz")
    assert_error(r, 422, "validation_failed")


async def test_only_the_operator_token(service: Service) -> None:
    await create_project(service, "acme")
    hook = await add_webhook(service, GOOD["url"], GOOD["events"])
    token = await new_token(service, "acme")  # read, write and send
    async with service.client(token) as agent:
        answers = [
            await agent.post("/projects/acme/webhooks", json=GOOD),
            await agent.get("/projects/acme/webhooks"),
            await agent.get(f"/projects/acme/webhooks/{hook['id']}"),
            await agent.delete(f"/projects/acme/webhooks/{hook['id']}"),
            await agent.get(f"/projects/acme/webhooks/{hook['id']}/deliveries"),
        ]
    for r in answers:
        assert "operator" in assert_error(r, 403, "forbidden")["error"]["message"]
    assert len((await service.http.get("/projects/acme/webhooks")).json()["webhooks"]) == 1


async def test_at_most_twenty_per_project(service: Service) -> None:
    await create_project(service, "acme")
    for n in range(20):
        await add_webhook(service, f"https://hooks.example/{n}", GOOD["events"])
    r = await service.http.post("/projects/acme/webhooks", json=GOOD)
    assert "at most 20" in assert_error(r, 409, "conflict")["error"]["message"]


async def test_webhooks_added_at_once_cannot_pass_the_limit_together(service: Service) -> None:
    """Each request counted the project's webhooks, then added one: six at once with 17
    registered all counted 17 and all added theirs. The project's row is locked first."""
    await create_project(service, "acme")
    for n in range(17):
        await add_webhook(service, f"https://hooks.example/{n}", GOOD["events"])
    answers = await asyncio.gather(
        *(
            service.http.post(
                "/projects/acme/webhooks", json={**GOOD, "url": f"https://hooks.example/x{n}"}
            )
            for n in range(6)
        )
    )
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 3, [
        r.text for r in answers
    ]
    assert len((await service.http.get("/projects/acme/webhooks")).json()["webhooks"]) == 20
