"""What the web page shows and does, read as a browser without scripts would: the inbox,
a message (its HTML served apart, under its own policy), codes, aliases, the outbox's
retry, an escalation answered, the event stream."""

from __future__ import annotations

import asyncio
import re

from tests.conftest import ADMIN
from tests.conftest import Service
from tests.service import deliver
from tests.service import eventually
from tests.service import new_project
from tests.service import new_token
from tests.service import sse_events
from tests.web.mail import hostile
from tests.web.mail import verification
from tests.web.pages import post_form
from tests.web.pages import signed_in


async def test_inbox_message_and_its_parts(service: Service) -> None:
    project = await new_project(service)
    entry = await deliver(service, project.id, project.primary, verification(project.primary))
    base = f"/ui/projects/{project.id}"
    async with signed_in(service, await new_token(service, project.id, ["read"])) as client:
        page = await client.get(f"{base}/inbox")
        assert entry["id"] in page.text and "482913" in page.text
        assert 'data-live="/ui/projects/' in page.text
        rows = await client.get(f"{base}/inbox", params={"part": "rows"})
        assert rows.text.lstrip().startswith("<tr") and entry["id"] in rows.text
        for params, found in (
            ({"subject": "verify"}, True), ({"subject": "nothing"}, False),
            ({"from": "shop.example"}, True), ({"to": project.primary}, True),
            ({"to": "else@" + project.domain}, False), ({"unread": "1"}, True),
        ):  # fmt: skip
            r = await client.get(f"{base}/inbox", params=params)
            assert (entry["id"] in r.text) is found, params

        shown = await client.get(f"{base}/messages/{entry['id']}")
        assert shown.status_code == 200
        text = shown.text
        assert "482913" in text and "noreply@shop.example" in text and "inv.pdf" in text
        assert 'sandbox=""' in text and f"{base}/messages/{entry['id']}/html" in text
        assert "Remote images: blocked" in text

        html = await client.get(f"{base}/messages/{entry['id']}/html")
        policy = html.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "sandbox" in policy
        assert "https:" not in policy and "script-src" not in policy
        assert "form-action 'none'" in policy and html.headers["x-frame-options"] == "SAMEORIGIN"
        assert "data:image/png;base64," in html.text and "cid:" not in html.text
        remote = await client.get(f"{base}/messages/{entry['id']}/html", params={"remote": "1"})
        assert "img-src data: cid: https:" in remote.headers["content-security-policy"]

        [index] = re.findall(r'/attachments/(\d+)" download>inv.pdf<', text)
        got = await client.get(f"{base}/messages/{entry['id']}/attachments/{index}")
        assert got.content == b"invoice body"
        assert got.headers["content-disposition"].startswith("attachment;")


async def test_hostile_html_is_served_without_what_acts(service: Service) -> None:
    project = await new_project(service)
    entry = await deliver(service, project.id, project.primary, hostile(project.primary))
    async with signed_in(service, ADMIN) as client:
        page = await client.get(f"/ui/projects/{project.id}/messages/{entry['id']}")
        assert "<script>alert(1)</script>" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
        html = await client.get(f"/ui/projects/{project.id}/messages/{entry['id']}/html")
        for gone in ("<script", "http-equiv", "<base", "<link", "<iframe"):
            assert gone not in html.text.lower(), gone
        assert "739204" in html.text


async def test_aliases_are_made_and_disabled_from_the_page(service: Service) -> None:
    project = await new_project(service)
    page = f"/ui/projects/{project.id}/aliases"
    async with signed_in(service, await new_token(service, project.id)) as client:
        r = await post_form(client, page, page, {"label": "signup"})
        assert r.status_code == 303
        made = (await client.get(r.headers["location"])).text
        [address] = set(re.findall(r"signup-[a-z0-9]+@" + re.escape(project.domain), made))
        r = await post_form(client, page, page + "/disable", {"address": address})
        assert r.status_code == 303
    listed = (await service.http.get(f"/projects/{project.id}/email/aliases")).json()
    assert [(a["address"], a["enabled"]) for a in listed["aliases"]] == [(address, False)]


async def test_the_operators_answer_in_the_page_ends_the_agents_wait(service: Service) -> None:
    project = await new_project(service)
    agent = service.client(await new_token(service, project.id))
    async with agent, signed_in(service, ADMIN) as operator:
        r = await agent.post(
            f"/projects/{project.id}/escalations",
            json={"kind": "code", "service": "notion.so", "reason": "Notion texts its code"},
        )
        asked = r.json()
        waiting = asyncio.create_task(
            agent.get(f"/projects/{project.id}/codes", params={"wait": 60, "consume": "true"})
        )
        listed = await operator.get("/ui/escalations")
        assert "Notion texts its code" in listed.text and asked["id"] in listed.text
        r = await post_form(
            operator, "/ui/escalations",
            f"/ui/projects/{project.id}/escalations/{asked['id']}/answer",
            {"value": "735194", "back": "everywhere"},
        )  # fmt: skip
        assert r.status_code == 303 and r.headers["location"] == "/ui/escalations"
        answer = await asyncio.wait_for(waiting, 10)
        assert [c["value"] for c in answer.json()["codes"]] == ["735194"]
        again = await post_form(
            operator, f"/ui/projects/{project.id}/escalations",
            f"/ui/projects/{project.id}/escalations/{asked['id']}/answer", {"value": "1"},
        )  # fmt: skip
        assert again.status_code == 409


async def test_a_failed_message_is_retried_from_the_outbox(service: Service) -> None:
    project = await new_project(service)
    r = await service.http.post(
        f"/projects/{project.id}/email/send",
        json={"to": ["far@vendor.example"], "subject": "Hi", "text": "x"},
    )
    mid = r.json()["id"]
    shown = f"/projects/{project.id}/email/messages/{mid}"

    async def failed() -> bool:
        return bool((await service.http.get(shown)).json()["status"] == "failed")

    await eventually(failed, "the message fails (no relay)")
    page = f"/ui/projects/{project.id}/outbox"
    async with signed_in(service, await new_token(service, project.id)) as client:
        listed = await client.get(page)
        assert "no relay configured" in listed.text and "Retry failed recipients" in listed.text
        r = await post_form(client, page, f"{page}/{mid}/retry", {})
        assert r.status_code == 303
    await eventually(failed, "the retried message fails again")
    api = await service.http.post(f"/projects/{project.id}/email/outbox/{mid}/retry")
    assert api.status_code == 200 and api.json()["status"] in ("queued", "sending", "failed")
    await eventually(failed, "and again")


async def test_the_page_stream_carries_the_projects_events(service: Service) -> None:
    project = await new_project(service)
    events = f"/ui/projects/{project.id}/events"
    accept = {"Accept": "text/event-stream"}
    async with (
        signed_in(service, await new_token(service, project.id, ["read"])) as client,
        client.stream("GET", events, headers=accept, timeout=15) as stream,
    ):
        assert stream.status_code == 200
        sent = asyncio.create_task(
            deliver(service, project.id, project.primary, verification(project.primary))
        )
        async for event in sse_events(stream.aiter_lines()):
            if event.get("event") == "message.received":
                break
        entry = await sent
        assert entry["id"] in event["data"]
