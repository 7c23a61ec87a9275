"""GET /projects/{id}/events: server-sent events as mail arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from agentid.api.event_stream import EVENT_TYPES
from agentid.codes.schemas import CodeOut
from agentid.email.schemas import InboxEntry
from agentid.email.schemas import MessageAuthenticated
from agentid.events import Kind
from tests.conftest import Service
from tests.email.inbound.authentication import verdict_of
from tests.service import assert_error
from tests.service import deliver
from tests.service import hosted
from tests.service import message
from tests.service import new_token
from tests.service import read_events
from tests.service import send
from tests.service import sse_events


async def next_event(events: AsyncIterator[dict[str, Any]], kind: str) -> dict[str, Any]:
    async for event in events:
        if event.get("event") == kind:
            return event
    raise AssertionError(f"stream ended before {kind}")


async def test_message_received_event(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    token = await new_token(service, "acme", ["read"])
    async with (
        service.client(token) as client,
        client.stream("GET", "/projects/acme/events", timeout=10) as r,
    ):
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        lines = r.aiter_lines()
        assert await asyncio.wait_for(anext(lines), 5) == ": connected"
        raw = message("agent@acme.test", subject="ping")
        await send(service, "agent@acme.test", raw)
        event = await asyncio.wait_for(next_event(sse_events(lines), "message.received"), 10)
    data = json.loads(event["data"])
    inbox = (await service.http.get("/projects/acme/email/inbox")).json()["messages"]
    assert data["id"] == inbox[0]["id"]
    assert event["id"].isdigit() and int(event["id"]) > 0  # the events row's seq
    assert data["subject"] == "ping"
    assert data["to"] == ["agent@acme.test"]
    assert "from_address" not in data and "header_to" not in data


async def test_events_of_other_or_missing_projects(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    token = await new_token(service, "beta")
    async with service.client(token) as beta:
        assert_error(await beta.get("/projects/acme/events", timeout=5), 404, "not_found")
    assert_error(await service.http.get("/projects/ghost/events", timeout=5), 404, "not_found")
    async with httpx.AsyncClient(base_url=service.running.url) as anonymous:
        assert_error(await anonymous.get("/projects/acme/events", timeout=5), 401)


async def test_events_are_stored_typed_and_resume_from_last_event_id(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    code_mail = message("agent@acme.test", subject="code", body="Your verification code is 482913")
    first = await deliver(service, "acme", "agent@acme.test", code_mail)
    await verdict_of(service, "acme", first["id"])
    second = await deliver(service, "acme", "agent@acme.test", message("agent@acme.test"))
    # A new stream starts from now; one that resumes gets exactly what came after its id.
    replay = await read_events(service, 4, {"Last-Event-ID": "0"})
    kinds = ["message.received", "code.found", "message.authenticated", "message.received"]
    assert [e["event"] for e in replay] == kinds
    seqs = [int(e["id"]) for e in replay]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    typed = [EVENT_TYPES[Kind(e["event"])].model_validate_json(e["data"]) for e in replay]
    received, code, verdict = typed[0], typed[1], typed[2]
    assert isinstance(received, InboxEntry) and isinstance(code, CodeOut)
    assert isinstance(verdict, MessageAuthenticated)
    assert received.id == first["id"] and verdict.message_id == first["id"]
    assert (code.value, code.source.type, code.source.id) == ("482913", "email", first["id"])
    assert code.authenticated is None and verdict.authenticated is False  # no DNS for it
    codes = (await service.http.get("/projects/acme/codes")).json()["codes"]
    # the event is what the codes API showed then, before the verdict came
    assert codes[0] | {"authenticated": None} == json.loads(replay[1]["data"])
    after_code = await read_events(service, 1, {"Last-Event-ID": replay[2]["id"]})
    assert after_code[0]["id"] == replay[3]["id"]
    assert json.loads(after_code[0]["data"])["id"] == second["id"]


async def test_bad_last_event_id(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    for bad in ("x", "-1", "1.5", "0x1", "9" * 19, str(2**63), "9" * 30, "9" * 40):
        r = await service.http.get("/projects/acme/events", headers={"Last-Event-ID": bad})
        assert_error(r, 422, "validation_failed")


async def test_deleting_a_message_deletes_its_events(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    entry = await deliver(service, "acme", "agent@acme.test", message("agent@acme.test"))
    r = await service.http.delete(f"/projects/acme/email/messages/{entry['id']}")
    assert r.status_code == 204
    later = await deliver(service, "acme", "agent@acme.test", message("agent@acme.test"))
    replay = await read_events(service, 1, {"Last-Event-ID": "0"})
    assert json.loads(replay[0]["data"])["id"] == later["id"]
