"""GET /projects/{id}/events: server-sent events as mail arrives."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.api.actions import assert_error, hosted, message, new_token, send
from tests.conftest import Service


async def sse_events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """Events parsed from an SSE line stream (comments skipped)."""
    event: dict[str, Any] = {}
    async for line in lines:
        if line == "":
            if event:
                yield event
            event = {}
        elif not line.startswith(":"):
            name, _, value = line.partition(":")
            event[name] = value.removeprefix(" ")


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
    assert event["id"] == data["id"] == inbox[0]["id"]
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
