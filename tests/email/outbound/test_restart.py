"""``kill -9`` with mail queued and deferred: after a restart each message reaches the relay,
and exactly once (the relay refused every attempt before the kill)."""

from __future__ import annotations

import email
from email import policy
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.processes import end_group
from tests.processes import serve
from tests.providers.sink import Sink
from tests.service import eventually

MESSAGES = 4


async def statuses(http: httpx.AsyncClient) -> list[str]:
    r = await http.get("/projects/acme/email/outbox", params={"limit": 50})
    assert r.status_code == 200, r.text
    return [m["status"] for m in r.json()["messages"]]


async def test_kill_9_resumes_queued_and_deferred_mail(tmp_path: Path, sink: Sink) -> None:
    env = {"AGENTID_RELAY_URL": f"smtp://127.0.0.1:{sink.port}",
           "AGENTID_SEND_RETRY_SECONDS": "0.5"}  # fmt: skip
    headers = {"Authorization": f"Bearer {ADMIN}"}
    data, log = tmp_path / "data", tmp_path / "serve.log"
    sink.data_reply = "451 4.3.0 not now"  # before the kill, nothing is taken
    first = await serve(data, None, log, **env)
    try:
        async with httpx.AsyncClient(base_url=first.url, headers=headers, timeout=30) as http:
            assert (
                await http.post("/projects", json={"id": "acme", "domain": "acme.test"})
            ).status_code == 201
            assert (await http.post("/projects/acme/email/provision")).status_code == 200
            body: dict[str, Any] = {"to": ["bob@vendor.example"], "subject": "s", "text": "t"}
            for n in range(MESSAGES - 1):
                r = await http.post("/projects/acme/email/send", json=body | {"subject": f"m{n}"})
                assert r.status_code == 202, r.text

            async def all_deferred() -> bool:
                return await statuses(http) == ["sending"] * (MESSAGES - 1)

            await eventually(all_deferred, "every message was tried and deferred")
            last = {"subject": f"m{MESSAGES - 1}"}
            assert (
                await http.post("/projects/acme/email/send", json=body | last)
            ).status_code == 202
    finally:
        end_group(first)  # SIGKILL: mid-round, with one message just queued
    assert sink.received == []
    sink.data_reply = "250 2.0.0 Ok: queued as R1"
    second = await serve(data, None, log, **env)
    try:
        async with httpx.AsyncClient(base_url=second.url, headers=headers, timeout=30) as http:

            async def all_sent() -> bool:
                return await statuses(http) == ["sent"] * MESSAGES

            await eventually(all_sent, "every message was sent after the restart", timeout=30)
    finally:
        end_group(second)
    subjects = sorted(
        str(email.message_from_bytes(got.data, policy=policy.default)["Subject"])
        for got in sink.received
    )
    assert subjects == [f"m{n}" for n in range(MESSAGES)]  # each once
