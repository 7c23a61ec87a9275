"""Retention: purge_expired removes messages (and their codes) past the project's retention."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import select

from agentid.email.retention import purge_expired
from agentid.store.tables import CodeRow
from agentid.store.tables import Message
from agentid.store.tables import MessageRaw
from agentid.store.tables import MessageRecipient
from tests.conftest import Service
from tests.service import deliver
from tests.service import hosted
from tests.service import message


async def count(service: Service, table: type) -> int:
    async with service.running.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(table)) or 0)


async def test_purge_far_future(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", body="Your verification code is 482913")
    entry = await deliver(service, "acme", "agent@acme.test", raw)
    assert await count(service, Message) == 1

    rt = service.running.runtime
    assert await purge_expired(rt, now=datetime.now(UTC)) == 0
    assert await purge_expired(rt, now=datetime.now(UTC) + timedelta(days=3650)) == 1
    r = await service.http.get("/projects/acme/email/inbox")
    assert r.json()["messages"] == []
    r = await service.http.get(f"/projects/acme/email/messages/{entry['id']}")
    assert r.status_code == 404
    r = await service.http.get("/projects/acme/codes")
    assert r.json()["codes"] == []
    for table in (Message, MessageRaw, MessageRecipient, CodeRow):
        assert await count(service, table) == 0, table


async def test_purge_removes_codes(service: Service) -> None:
    """Needs the real extractor (agentid.extract.extract_email)."""
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", body="Your verification code is 482913")
    await deliver(service, "acme", "agent@acme.test", raw)
    r = await service.http.get("/projects/acme/codes")
    assert [c["value"] for c in r.json()["codes"]] == ["482913"]
    await purge_expired(service.running.runtime, now=datetime.now(UTC) + timedelta(days=3650))
    r = await service.http.get("/projects/acme/codes")
    assert r.json()["codes"] == []
    assert await count(service, CodeRow) == 0


async def test_retention_per_project(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    await hosted(service, "beta", "beta.test")
    r = await service.http.patch("/projects/acme", json={"retention_days": 1})
    assert r.json()["retention_days"] == 1
    await deliver(service, "acme", "agent@acme.test")
    await deliver(service, "beta", "agent@beta.test")

    rt = service.running.runtime
    in_two_days = datetime.now(UTC) + timedelta(days=2)
    assert await purge_expired(rt, now=in_two_days) == 1
    assert (await service.http.get("/projects/acme/email/inbox")).json()["messages"] == []
    assert len((await service.http.get("/projects/beta/email/inbox")).json()["messages"]) == 1
    assert await purge_expired(rt, now=datetime.now(UTC) + timedelta(days=31)) == 1
    assert (await service.http.get("/projects/beta/email/inbox")).json()["messages"] == []
