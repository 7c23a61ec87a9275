"""Escalations: an agent asks the operator, the operator answers (only the operator), and
the answer ends the agent's wait for a code like any email or SMS would; expiry; bad
input; the operator's stream of every project's events."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from typing import Any

import httpx

from agentid.api.event_stream import EVENT_TYPES
from agentid.codes.schemas import EscalationOut
from agentid.email.retention import purge_expired
from agentid.events import EVERY_PROJECT
from agentid.events import Kind
from tests.conftest import Service
from tests.service import JSON
from tests.service import assert_error
from tests.service import create_project
from tests.service import listening
from tests.service import new_token
from tests.service import read_events
from tests.service import sse_events

ASK = {"kind": "code", "service": "notion.so", "reason": "Notion sends its code by SMS"}


async def projects(service: Service, *ids: str) -> list[str]:
    """The projects, and a token with every scope for each."""
    for project_id in ids:
        await create_project(service, project_id)
    return [await new_token(service, project_id) for project_id in ids]


async def opened(client: httpx.AsyncClient, project_id: str, **body: Any) -> dict[str, Any]:
    r = await client.post(f"/projects/{project_id}/escalations", json={**ASK, **body})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_open_and_list_per_project_and_across(service: Service) -> None:
    acme_token, beta_token = await projects(service, "acme", "beta")
    async with service.client(acme_token) as acme, service.client(beta_token) as beta:
        first = await opened(acme, "acme", expires_in=600)
        assert EscalationOut.model_validate(first).status == "open"
        assert first["project_id"] == "acme" and first["service"] == "notion.so"
        assert first["value"] is None and first["answered_at"] is None
        other = await opened(beta, "beta", kind="other", service=None, reason="a CAPTCHA")
        own = (await acme.get("/projects/acme/escalations")).json()["escalations"]
        assert [e["id"] for e in own] == [first["id"]]
        r = await acme.get(f"/projects/acme/escalations/{first['id']}")
        assert r.json() == first
        assert_error(await acme.get("/escalations"), 403, "forbidden")
        assert_error(await acme.get(f"/projects/beta/escalations/{other['id']}"), 404)
        assert_error(await acme.post("/projects/beta/escalations", json=ASK), 404)
    every = (await service.http.get("/escalations")).json()
    assert [e["id"] for e in every["escalations"]] == [other["id"], first["id"]]  # newest first
    paged = (await service.http.get("/escalations", params={"limit": 1})).json()
    assert [e["id"] for e in paged["escalations"]] == [other["id"]]
    rest = (await service.http.get("/escalations", params={"before": paged["next"]})).json()
    assert [e["id"] for e in rest["escalations"]] == [first["id"]] and rest["next"] is None
    reader = await new_token(service, "acme", ["read"])
    async with service.client(reader) as client:
        assert_error(await client.post("/projects/acme/escalations", json=ASK), 403)
        assert (await client.get("/projects/acme/escalations")).status_code == 200


async def test_the_operators_answer_ends_a_wait_for_the_code(service: Service) -> None:
    (token,) = await projects(service, "acme")
    async with service.client(token) as agent:
        asked = await opened(agent, "acme")
        answer = f"/projects/acme/escalations/{asked['id']}/answer"
        waiting = asyncio.create_task(
            agent.get("/projects/acme/codes", params={"wait": 20, "consume": "true"}, timeout=30)
        )
        await listening(service, "acme")
        assert_error(await agent.post(answer, json={"value": "482913"}), 403, "forbidden")
        r = await service.http.post(answer, json={"value": " 482913 "})
        assert r.status_code == 200, r.text
        done = r.json()
        assert (done["status"], done["value"]) == ("answered", "482913")
        assert done["code_id"] and done["answered_at"]
        (code,) = (await waiting).json()["codes"]
        assert code["value"] == "482913" and code["used"] is True
        assert code["source"] == {"type": "escalation", "id": asked["id"]}
        assert (code["id"], code["channel"], code["kind"]) == (
            done["code_id"],
            "escalation",
            "code",
        )
        assert code["authenticated"] is True and code["from"] is None
        shown = (await agent.get(f"/projects/acme/escalations/{asked['id']}")).json()
        assert shown == done
        assert_error(await service.http.post(answer, json={"value": "1"}), 409, "conflict")

        # The site it was for: a site-bound wait takes it; another site's does not.
        asked = await opened(agent, "acme", service="https://www.notion.so/login")
        await service.http.post(
            f"/projects/acme/escalations/{asked['id']}/answer", json={"value": "271828"}
        )
        for params, found in (
            ({"site": "other.com"}, []),
            ({"site": "notion.so", "channel": "sms"}, []),
            ({"authenticated": "true", "channel": "escalation"}, ["271828"]),
            ({"site": "notion.so"}, ["271828"]),
        ):
            r = await agent.get("/projects/acme/codes", params={"unused": "true", **params})
            assert [c["value"] for c in r.json()["codes"]] == found, params

        # A link must be one; "other" is answered on the escalation only, not as a code.
        link = await opened(agent, "acme", kind="link")
        path = f"/projects/acme/escalations/{link['id']}/answer"
        assert_error(await service.http.post(path, json={"value": "not a url"}), 422)
        r = await service.http.post(path, json={"value": "https://notion.so/verify?t=1"})
        assert r.status_code == 200 and r.json()["code_id"]
        other = await opened(agent, "acme", kind="other", reason="solve the CAPTCHA")
        path = f"/projects/acme/escalations/{other['id']}/answer"
        r = await service.http.post(path, json={"value": "done, go on"})
        assert r.status_code == 200 and r.json()["code_id"] is None
        codes = (await agent.get("/projects/acme/codes")).json()["codes"]
        assert sorted(c["value"] for c in codes) == sorted(
            ["482913", "271828", "https://notion.so/verify?t=1"]
        )


async def test_an_expired_escalation_closes_itself(service: Service) -> None:
    (token,) = await projects(service, "acme")
    async with service.client(token) as agent:
        asked = await opened(agent, "acme", expires_in=1)
        assert asked["status"] == "open"
        # a wait on it ends when it expires (no answer came)
        r = await agent.get(f"/projects/acme/escalations/{asked['id']}", params={"wait": 20})
        assert r.json()["status"] == "expired"
        listed = (await agent.get("/projects/acme/escalations")).json()["escalations"]
        assert [e["status"] for e in listed] == ["expired"]
    path = f"/projects/acme/escalations/{asked['id']}/answer"
    assert_error(await service.http.post(path, json={"value": "1234"}), 409, "conflict")
    assert (await service.http.get("/escalations")).json()["escalations"] == []
    assert (await service.http.get("/projects/acme/codes")).json()["codes"] == []


async def test_bad_input(service: Service) -> None:
    (token,) = await projects(service, "acme")
    bad: list[dict[str, Any]] = [
        {"kind": "sms", "reason": "x"},
        {"kind": "code"},
        {"kind": "code", "reason": ""},
        {"kind": "code", "reason": "   "},
        {"kind": "code", "reason": "x" * 2001},
        {"kind": "code", "reason": "x" * 1_000_000},
        {"kind": "code", "reason": "nul \u0000"},
        {"kind": "code", "reason": "bad \ud800"},
        {"kind": "code", "reason": "x", "service": "s" * 254},
        {"kind": "code", "reason": "x", "service": "a\r\nb"},
        {"kind": "code", "reason": "x", "expires_in": 0},
        {"kind": "code", "reason": "x", "expires_in": 10**9},
        {"kind": "code", "reason": "x", "value": "self-answered"},
        {"reason": "x"},
    ]
    async with service.client(token) as agent:
        for body in bad:
            r = await agent.post(
                "/projects/acme/escalations", content=json.dumps(body), headers=JSON
            )
            assert_error(r, 422, "validation_failed")
        assert (await agent.get("/projects/acme/escalations")).json()["escalations"] == []
        asked = await opened(agent, "acme")
    missing = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    for path in (f"/projects/acme/escalations/{missing}", "/projects/acme/escalations/nope"):
        assert_error(await service.http.get(path), 404, "not_found")
        assert_error(await service.http.post(path + "/answer", json={"value": "1"}), 404)
    path = f"/projects/acme/escalations/{asked['id']}/answer"
    for body in ({"value": ""}, {"value": "   "}, {"value": "a\nb"}, {}, {"value": "x" * 3000}):
        assert_error(await service.http.post(path, json=body), 422, "validation_failed")
    assert_error(await service.http.post(path, json={"value": "1" * 300}), 422)  # a code: 256


async def test_at_most_twenty_open_at_once(service: Service) -> None:
    (token,) = await projects(service, "acme")
    async with service.client(token) as agent:
        for _ in range(20):
            await opened(agent, "acme")
        assert_error(await agent.post("/projects/acme/escalations", json=ASK), 409, "conflict")


async def test_asked_together_they_cannot_pass_twenty_open(service: Service) -> None:
    """Each request counted the open escalations, then opened one: six at once with 17
    open all counted 17 and all opened. The project's row is locked first."""
    (token,) = await projects(service, "acme")
    async with service.client(token) as agent:
        for _ in range(17):
            await opened(agent, "acme")
        answers = await asyncio.gather(
            *(agent.post("/projects/acme/escalations", json=ASK) for _ in range(6))
        )
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 3, [
        r.text for r in answers
    ]


async def operator_events(
    service: Service, count: int, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    async with service.http.stream("GET", "/events", headers=headers or {}, timeout=10) as r:
        assert r.status_code == 200
        async for event in sse_events(r.aiter_lines()):
            got.append(event)
            if len(got) == count:
                break
    return got


async def test_the_operators_stream_hears_every_project(service: Service) -> None:
    acme_token, beta_token = await projects(service, "acme", "beta")
    reading = asyncio.create_task(asyncio.wait_for(operator_events(service, 2), 20))
    await listening(service, EVERY_PROJECT)
    async with service.client(acme_token) as acme, service.client(beta_token) as beta:
        first = await opened(acme, "acme")
        second = await opened(beta, "beta", kind="link", service="bank.example")
        for path in ("/events", "/projects/beta/events"):
            r = await acme.get(path, timeout=5)
            assert_error(r, 403 if path == "/events" else 404)
    events = await reading
    assert [e["event"] for e in events] == ["escalation.opened"] * 2
    data = [json.loads(e["data"]) for e in events]
    assert [d["project_id"] for d in data] == ["acme", "beta"]
    assert [d["id"] for d in data] == [first["id"], second["id"]]
    typed = EVENT_TYPES[Kind.ESCALATION_OPENED].model_validate(data[1])
    assert typed == EscalationOut.model_validate(second)
    async with httpx.AsyncClient(base_url=service.running.url) as anonymous:
        assert_error(await anonymous.get("/events", timeout=5), 401)

    # Last-Event-ID resumes after that event, across projects.
    path = f"/projects/acme/escalations/{first['id']}/answer"
    assert (await service.http.post(path, json={"value": "99"})).status_code == 200
    resumed = await operator_events(service, 3, {"Last-Event-ID": events[0]["id"]})
    assert [(e["event"], json.loads(e["data"])["project_id"]) for e in resumed] == [
        ("escalation.opened", "beta"),
        ("escalation.answered", "acme"),
        ("code.found", "acme"),
    ]
    assert resumed[0]["id"] == events[1]["id"]
    answered = json.loads(resumed[1]["data"])
    assert (answered["status"], answered["value"]) == ("answered", "99")
    assert json.loads(resumed[2]["data"])["source"]["id"] == first["id"]
    # the project's own stream carries its own escalation events (without project_id)
    replay = await read_events(service, 3, {"Last-Event-ID": "0"})
    assert [e["event"] for e in replay] == [
        "escalation.opened",
        "escalation.answered",
        "code.found",
    ]
    assert "project_id" not in json.loads(replay[2]["data"])
    assert_error(await service.http.get("/events", headers={"Last-Event-ID": "x"}), 422)


async def test_retention_takes_escalations_and_their_codes(service: Service) -> None:
    (token,) = await projects(service, "acme")
    async with service.client(token) as agent:
        asked = await opened(agent, "acme")
    path = f"/projects/acme/escalations/{asked['id']}/answer"
    assert (await service.http.post(path, json={"value": "1234"})).status_code == 200
    runtime = service.running.runtime
    await purge_expired(runtime, datetime.now(UTC) + timedelta(days=29))  # kept 30 days
    assert len((await service.http.get("/projects/acme/escalations")).json()["escalations"]) == 1
    await purge_expired(runtime, datetime.now(UTC) + timedelta(days=31))
    assert (await service.http.get("/projects/acme/escalations")).json()["escalations"] == []
    assert (await service.http.get("/projects/acme/codes")).json()["codes"] == []
