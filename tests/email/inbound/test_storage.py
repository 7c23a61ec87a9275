"""What an accepted message leaves behind: committed before the 250, once per project,
with its envelope; and the waiters it wakes."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import select

from agentid.ids import new_id
from agentid.store.tables import Message
from agentid.store.tables import MessageRaw
from agentid.store.tables import MessageRecipient
from tests.conftest import Service
from tests.conftest import pg_schema
from tests.conftest import start_service
from tests.service import HOST
from tests.service import inbox
from tests.service import listening
from tests.service import new_alias
from tests.service import new_project
from tests.service import queued_ids
from tests.service import send
from tests.service import simple_message
from tests.service import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_committed_before_250(shared: Service) -> None:
    project = await new_project(shared)
    raw = simple_message(project.primary, "durable")
    (mid,) = await send(shared, [project.primary], raw)
    # no waiting: the row and the raw bytes are there when the 250 arrives
    async with shared.running.runtime.sessions() as session:
        row = await session.get(Message, mid)
        data = await session.scalar(select(MessageRaw.data).where(MessageRaw.message_id == mid))
    assert row is not None and row.project_id == project.id
    assert data == raw
    message = await wait_for(shared, project, mid)
    assert message["subject"] == "durable"


async def test_survives_restart(module_backend: str, tmp_path: Path) -> None:
    async def check(schema: str | None) -> None:
        async with start_service(tmp_path / "data", schema) as first:
            project = await new_project(first)
            ids = [
                (await send(first, [project.primary], simple_message(project.primary)))[0]
                for _ in range(5)
            ]
            # stop at once, before anyone read the inbox
        async with start_service(tmp_path / "data", schema) as second:
            entries = await inbox(second, project, limit=500)
            assert sorted(m["id"] for m in entries) == sorted(ids)
            for mid in ids:
                r = await second.http.get(f"/projects/{project.id}/email/messages/{mid}/raw")
                assert r.status_code == 200

    if module_backend == "postgresql":
        async with pg_schema() as schema:
            await check(schema)
    else:
        await check(None)


async def test_recovery_parses_committed_but_unparsed(module_backend: str, tmp_path: Path) -> None:
    """A crash between the spool's commit and the parse: the next start parses it."""

    async def check(schema: str | None) -> None:
        raw = b"From: late@example.org\r\nSubject: recovered\r\n\r\nbody\r\n"
        async with start_service(tmp_path / "data", schema) as first:
            project = await new_project(first)
            mid = new_id()
            async with first.running.runtime.sessions.begin() as session:
                session.add(
                    Message(
                        id=mid,
                        project_id=project.id,
                        direction="inbound",
                        received_at=datetime.now(UTC),
                        mail_from="late@example.org",
                        rcpt_to=[project.primary],
                        peer="127.0.0.1:1",
                        helo="x",
                        size=len(raw),
                        status="received",
                    )
                )
                await session.flush()
                session.add(MessageRaw(message_id=mid, data=raw))
                session.add(MessageRecipient(message_id=mid, address=project.primary))
            assert await inbox(first, project) == []  # committed, never parsed
        async with start_service(tmp_path / "data", schema) as second:
            message = await wait_for(second, project, mid)
            assert message["subject"] == "recovered"
            assert message["status"] == "parsed"

    if module_backend == "postgresql":
        async with pg_schema() as schema:
            await check(schema)
    else:
        await check(None)


async def test_several_aliases_of_one_project_stored_once(shared: Service) -> None:
    project = await new_project(shared)
    aliases = [await new_alias(shared, project, label=f"l{i}") for i in range(3)]
    rcpts = [project.primary, *aliases, f"catch@{project.domain}", aliases[0].upper()]
    ids = await send(shared, rcpts, simple_message(project.primary, "multi"))
    assert len(ids) == 1
    entries = await inbox(shared, project, wait=10)
    assert [m["id"] for m in entries] == ids
    expected = sorted({r.lower() for r in rcpts})
    assert sorted(entries[0]["to"]) == expected
    for address in expected:
        assert [m["id"] for m in await inbox(shared, project, to=address)] == ids
    async with shared.running.runtime.sessions() as session:
        rows = await session.scalars(
            select(MessageRecipient.address).where(MessageRecipient.message_id == ids[0])
        )
        assert set(expected) <= set(rows.all())


async def test_two_projects_each_get_their_own_copy(shared: Service) -> None:
    a, b = await new_project(shared), await new_project(shared)
    alias_b = await new_alias(shared, b, label="b")
    raw = simple_message(f"{a.primary}, {b.primary}", "shared")
    ids = await send(shared, [a.primary, alias_b, b.primary, f"x@{a.domain}"], raw)
    assert len(ids) == 2 and len(set(ids)) == 2
    got_a = await inbox(shared, a, wait=10)
    got_b = await inbox(shared, b, wait=10)
    assert len(got_a) == 1 and len(got_b) == 1
    assert {got_a[0]["id"], got_b[0]["id"]} == set(ids)
    assert sorted(got_a[0]["to"]) == sorted([a.primary, f"x@{a.domain}"])
    assert sorted(got_b[0]["to"]) == sorted([alias_b, b.primary])
    for project, entry in ((a, got_a[0]), (b, got_b[0])):
        message = await wait_for(shared, project, entry["id"])
        assert message["to"] == entry["to"]
        r = await shared.http.get(f"/projects/{project.id}/email/messages/{entry['id']}/raw")
        assert r.content == raw
    # neither project sees the other's copy
    r = await shared.http.get(f"/projects/{a.id}/email/messages/{got_b[0]['id']}")
    assert r.status_code == 404


async def test_envelope_recorded(shared: Service) -> None:
    project = await new_project(shared)
    raw = simple_message(project.primary, "envelope")
    async with aiosmtplib.SMTP(
        hostname=HOST, port=shared.smtp_port, start_tls=False, local_hostname="helo.client.test"
    ) as smtp:
        errors, reply = await smtp.sendmail("Bounce+Tag@Sender.Example", [project.primary], raw)
        local_port = smtp.transport.get_extra_info("sockname")[1]  # type: ignore[union-attr]
    assert not errors
    (mid,) = queued_ids(reply)
    message = await wait_for(shared, project, mid)
    assert message["peer"] == f"{HOST}:{local_port}"
    assert message["helo"] == "helo.client.test"
    assert message["mail_from"] == "Bounce+Tag@Sender.Example"
    assert message["to"] == [project.primary]
    assert message["size"] == len(raw)
    assert message["direction"] == "inbound"
    entry = (await inbox(shared, project))[0]
    assert entry["size"] == len(raw)


async def test_null_sender_accepted(shared: Service) -> None:
    """Bounces (MAIL FROM:<>) are mail too."""
    project = await new_project(shared)
    (mid,) = await send(shared, [project.primary], simple_message(project.primary), "")
    message = await wait_for(shared, project, mid)
    assert message["mail_from"] == ""


async def test_waiter_woken_on_arrival(shared: Service) -> None:
    project = await new_project(shared)
    alias = await new_alias(shared, project, label="wake")
    started = time.monotonic()
    waiter = asyncio.create_task(inbox(shared, project, to=alias, wait=30))
    other = asyncio.create_task(inbox(shared, project, subject="never", wait=30))
    await listening(shared, project.id, 2)  # both long-polls reached the server
    (mid,) = await send(shared, [alias], simple_message(alias, "wake up"))
    entries = await asyncio.wait_for(waiter, 10)
    assert time.monotonic() - started < 10
    assert [m["id"] for m in entries] == [mid]
    assert not other.done()  # a waiter for something else keeps waiting
    other.cancel()


async def test_many_clients_at_once(shared: Service) -> None:
    project = await new_project(shared)

    async def one(i: int) -> list[str]:
        rcpt = f"c{i}@{project.domain}"
        return await send(shared, [rcpt], simple_message(rcpt, f"n{i}"))

    results = await asyncio.gather(*(one(i) for i in range(60)))
    ids = {mid for r in results for mid in r}
    assert len(ids) == 60
    newest = max(ids)
    await wait_for(shared, project, newest)
    deadline = time.monotonic() + 10
    while True:
        stored = {m["id"] for m in await inbox(shared, project, limit=500)}
        if stored >= ids or time.monotonic() > deadline:
            break
        await inbox(shared, project, after=max(stored), wait=2)
    assert stored == ids


async def test_commits_in_groups(shared: Service) -> None:
    """Messages arriving together share a commit (one fsync for the batch)."""
    project = await new_project(shared)
    spool = shared.running.inbound.spool
    batches, messages = spool.batches, spool.messages

    async def one(n: int) -> list[str]:
        return await send(shared, [project.primary], simple_message(project.primary, f"g{n}"))

    ids = [mid for found in await asyncio.gather(*(one(n) for n in range(40))) for mid in found]
    assert len(ids) == 40
    assert spool.messages - messages == 40
    assert spool.batches - batches < 40  # at least two of the forty shared a commit
