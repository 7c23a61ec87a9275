"""End to end: create, provision, alias, receive over SMTP, read the inbox."""

from __future__ import annotations

import asyncio

from tests.conftest import Service
from tests.service import listening
from tests.service import send


async def test_receive_and_read(service: Service) -> None:
    r = await service.http.post("/projects", json={"id": "acme", "domain": "acme.test"})
    assert r.status_code == 201, r.text
    r = await service.http.post("/projects/acme/email/provision")
    assert r.status_code == 200, r.text
    assert r.json()["address"] == "agent@acme.test"
    r = await service.http.post("/projects/acme/email/aliases", json={"label": "signup"})
    assert r.status_code == 201, r.text
    alias = r.json()["address"]
    msg = (
        f"From: Shop <noreply@shop.example>\r\nTo: {alias}\r\nSubject: Your code\r\n\r\n"
        "Your verification code is 482913.\r\n"
    ).encode()
    waiter = asyncio.create_task(
        service.http.get("/projects/acme/email/inbox", params={"to": alias, "wait": 10})
    )
    await listening(service, "acme")
    await send(service, [alias], msg, "sender@example.org")
    r = await waiter
    assert r.status_code == 200, r.text
    messages = r.json()["messages"]
    assert len(messages) == 1
    assert messages[0]["subject"] == "Your code"
    assert messages[0]["to"] == [alias]
