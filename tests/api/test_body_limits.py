"""Limits before work: a request without a valid token is refused (401) before its body is
read, and a body over its route's cap is refused (413) before it is buffered, whether its
length is declared or it arrives chunked. Everything else is served as before."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agentid.api.limits import MAIL_SEND
from agentid.api.limits import WEBHOOK_BODY_BYTES
from agentid.api.limits import body_caps
from tests.conftest import Service
from tests.service import JSON
from tests.service import assert_error
from tests.service import create_project
from tests.service import new_token
from tests.service import provision

MiB = 1024 * 1024
HUGE = 200 * MiB
STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")


def peak_rss() -> int:
    """This process's peak resident set (VmHWM), in bytes; the server runs in it."""
    for line in STATUS.read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def reset_peak() -> None:
    """Start the peak afresh at the current RSS, so earlier tests cannot hide growth."""
    # Without it (older kernels) the peak so far stays, which only makes the test stricter.
    with contextlib.suppress(OSError):
        CLEAR_REFS.write_text("5")


async def stream(total: int, chunk: int = MiB) -> AsyncIterator[bytes]:
    """``total`` bytes, made as they are sent: the test never holds the body."""
    block = b"x" * chunk
    sent = 0
    while sent < total:
        piece = block[: min(chunk, total - sent)]
        sent += len(piece)
        yield piece


def anonymous(service: Service, token: str | None = None) -> httpx.AsyncClient:
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    return httpx.AsyncClient(base_url=service.running.url, headers=headers, timeout=60)


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
@pytest.mark.parametrize("token", [None, "not-a-token"], ids=["no-token", "bad-token"])
async def test_huge_body_without_a_valid_token_is_not_read(
    service: Service, declared: bool, token: str | None
) -> None:
    headers = {**JSON, "Content-Length": str(HUGE)} if declared else JSON
    reset_peak()
    before = peak_rss()
    async with anonymous(service, token) as client:
        r = await client.post("/projects", content=stream(HUGE), headers=headers)
    grown = peak_rss() - before
    assert_error(r, 401, "unauthorized")
    assert grown < 100 * MiB, f"peak RSS grew {grown / MiB:.0f} MiB for a refused body"
    assert (await service.http.get("/projects")).json()["projects"] == []


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
async def test_huge_body_with_a_token_stops_at_the_cap(service: Service, declared: bool) -> None:
    headers = {**JSON, "Content-Length": str(HUGE)} if declared else JSON
    reset_peak()
    before = peak_rss()
    r = await service.http.post("/projects", content=stream(HUGE), headers=headers)
    grown = peak_rss() - before
    assert_error(r, 413, "too_large")
    assert grown < 100 * MiB, f"peak RSS grew {grown / MiB:.0f} MiB for a refused body"


async def test_json_body_over_the_cap(service: Service) -> None:
    cap = service.running.settings.max_json_body_bytes
    body = json.dumps({"id": "big", "domain": "x" * 2 * MiB}).encode()
    assert len(body) > cap
    r = await service.http.post("/projects", content=body, headers=JSON)
    error = assert_error(r, 413, "too_large")
    assert str(cap) in error["error"]["message"]

    # The same, chunked (no Content-Length): counted as it arrives.
    r = await service.http.post("/projects", content=stream(len(body), 64 * 1024), headers=JSON)
    assert_error(r, 413, "too_large")

    # A project token on an admin route: the cap answers first, the route never runs.
    await create_project(service, "acme")
    token = await new_token(service, "acme")
    async with anonymous(service, token) as acme:
        r = await acme.patch("/projects/acme", content=body, headers=JSON)
        assert_error(r, 413, "too_large")
    assert [p["id"] for p in (await service.http.get("/projects")).json()["projects"]] == ["acme"]


async def test_bodies_under_the_cap_are_served(service: Service) -> None:
    cap = service.running.settings.max_json_body_bytes

    async def chunks(raw: bytes) -> AsyncIterator[bytes]:
        for i in range(0, len(raw), 7):
            yield raw[i : i + 7]

    raw = json.dumps({"id": "acme", "domain": "acme.test"}).encode()
    r = await service.http.post("/projects", content=chunks(raw), headers=JSON)
    assert r.status_code == 201, r.text

    # Just under the cap: read, parsed and judged by the route (422: not a domain).
    near = json.dumps({"id": "near", "domain": ""}).encode()
    body = near.replace(b'""', b'"' + b"x" * (cap - len(near)) + b'"')
    assert len(body) == cap
    assert_error(await service.http.post("/projects", content=body, headers=JSON), 422)
    r = await service.http.post("/projects", content=stream(cap, 64 * 1024), headers=JSON)
    assert_error(r, 422, "validation_failed")

    await provision(service, "acme")
    token = await new_token(service, "acme")
    async with anonymous(service, token) as acme:
        r = await acme.post("/projects/acme/email/aliases", json={"local_part": "signup"})
        assert r.status_code == 201, r.text
        r = await acme.get("/projects/acme/email/aliases")
        assert [a["address"] for a in r.json()["aliases"]] == ["signup@acme.test"]
        assert (await acme.get("/projects/acme/codes")).status_code == 200
    assert (await service.http.get("/projects")).status_code == 200


async def test_public_routes_need_no_token(service: Service) -> None:
    async with anonymous(service) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert (await client.get("/openapi.json")).status_code == 200
        assert (await client.get("/docs")).status_code == 200
        # Provider webhooks prove themselves by signature, not by token; none exist yet.
        assert_error(await client.post("/webhooks/sendgrid", json={}), 404)
        r = await client.post("/webhooks/sendgrid", content=b"x" * (WEBHOOK_BODY_BYTES + 1))
        assert_error(r, 413, "too_large")
        # Every other path needs a token, even one that serves nothing.
        assert_error(await client.get("/nothing/here"), 401, "unauthorized")
        # A declared body over the cap is refused on any path; an undeclared one is only
        # counted as far as something reads it (a wrong method reads nothing).
        headers = {**JSON, "Content-Length": str(HUGE)}
        r = await client.post("/healthz", content=stream(HUGE), headers=headers)
        assert_error(r, 413, "too_large")
        r = await client.post("/healthz", content=stream(HUGE), headers=JSON)
        assert_error(r, 405, "method_not_allowed")


async def test_caps_per_route(service: Service) -> None:
    settings = service.running.settings
    limit = body_caps(settings)
    assert limit.cap("/projects") == settings.max_json_body_bytes == MiB
    assert limit.cap("/projects/acme/email/aliases") == MiB
    assert limit.cap(MAIL_SEND.format(project_id="acme")) == settings.max_mail_body_bytes
    assert settings.max_mail_body_bytes == 10 * MiB
    assert limit.cap("/projects/acme/email/send/more") == MiB
    assert limit.cap("/webhooks/twilio/sms") == WEBHOOK_BODY_BYTES == 64 * 1024

    # Mail content may be larger than JSON; its route (coming) gets the mail cap.
    body = b"x" * (2 * MiB)
    r = await service.http.post("/projects/acme/email/send", content=body, headers=JSON)
    assert r.status_code != 413, r.text
    # Over it: refused on the declared length alone (no route reads it yet).
    headers = {**JSON, "Content-Length": str(11 * MiB)}
    r = await service.http.post(
        "/projects/acme/email/send", content=stream(11 * MiB), headers=headers
    )
    assert_error(r, 413, "too_large")
