"""``kill -9`` of the agentid process Postfix is delivering to, in the middle of a burst:
Postfix keeps what was not acknowledged and delivers it to the other process; what the
killed one committed without replying comes again with the same queue id and is not
stored twice, and what it committed but had not digested the other one claims and
digests (``email/inbound/claims``), with no restart. Once Postfix's queue has drained,
every message sent is in the store exactly once, and listed by the other process."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiosmtplib
import asyncpg
import pytest

from tests.conftest import PG_URL
from tests.conftest import pg_schema
from tests.email.inbound.postfix import EdgeMTA
from tests.email.inbound.test_postfix import externals
from tests.email.inbound.test_postfix import project
from tests.email.inbound.test_postfix import setup_for
from tests.email.inbound.test_postfix import start_node
from tests.processes import end_group
from tests.service import HOST
from tests.service import message

__all__ = ["externals"]  # the fixture, shared with test_postfix.py
pytestmark = pytest.mark.asyncio(loop_scope="function")

MESSAGES = 80
CLIENTS = 4
KILL_AFTER = 15  # messages stored by the first process before it is killed
DRAIN_SECONDS = 180  # for Postfix to deliver what is left (generous: a loaded machine)


async def stored(conn: asyncpg.Connection, schema: str, project_id: str) -> list[str]:
    """The subject line of every copy stored, read from the raw bytes (digested or not)."""
    rows = await conn.fetch(
        f'SELECT r.data FROM "{schema}".message_raw r JOIN "{schema}".messages m'
        " ON m.id = r.message_id WHERE m.project_id = $1",
        project_id,
    )
    subjects = []
    for (data,) in rows:
        for line in bytes(data).split(b"\r\n"):
            if line.startswith(b"Subject: "):
                subjects.append(line[9:].decode())
                break
    return subjects


async def burst(port: int, to: str, client: int) -> None:
    async with aiosmtplib.SMTP(hostname=HOST, port=port, timeout=30) as smtp:
        for n in range(client, MESSAGES, CLIENTS):
            errors, _ = await smtp.sendmail(
                "sender@example.org", [to], message(to, f"burst-{n:03d}", f"message {n}")
            )
            assert not errors, errors


async def test_kill_9_during_a_burst_loses_nothing_and_stores_nothing_twice(
    externals: None, tmp_path: Path
) -> None:
    async with pg_schema() as schema:
        a = await start_node(tmp_path, "a", schema)
        b = await start_node(tmp_path, "b", schema)
        mta = await asyncio.to_thread(EdgeMTA, setup_for(a, b))
        conn = await asyncpg.connect(PG_URL)
        try:
            to = await project(a, "burst")
            senders = [asyncio.create_task(burst(mta.smtp_port, to, c)) for c in range(CLIENTS)]
            deadline = time.monotonic() + 60
            while len(await stored(conn, schema, "burst")) < KILL_AFTER:
                assert time.monotonic() < deadline, mta.log()
                await asyncio.sleep(0.02)
            end_group(a.process)  # SIGKILL: the server, its spool writer, its parse worker
            await asyncio.wait_for(asyncio.gather(*senders), 60)  # all queued by Postfix
            await drained(mta)  # every message delivered: nothing more will be stored
            wanted = sorted(f"burst-{n:03d}" for n in range(MESSAGES))
            subjects = await stored(conn, schema, "burst")
            assert sorted(subjects) == wanted, (len(subjects), status_lines(mta))  # none twice
            assert f"{HOST}[{HOST}]:{b.lmtp_port}" in mta.log(2000)  # b took over
            # What a committed and had not digested, b claims and digests: listed through b.
            deadline = time.monotonic() + 60
            while True:
                r = await b.http.get("/projects/burst/email/inbox", params={"limit": 500})
                listed = sorted(m["subject"] for m in r.json()["messages"])
                if listed == wanted:
                    break
                assert time.monotonic() < deadline, (len(listed), len(set(listed)))
                await asyncio.sleep(0.5)
        finally:
            await conn.close()
            await asyncio.to_thread(mta.stop)
            for node in (a, b):
                await node.http.aclose()
                end_group(node.process)


async def drained(mta: EdgeMTA) -> None:
    """Until Postfix's queue is empty, flushing it each second (deferred mail is tried now,
    not at its backoff); fails after ``DRAIN_SECONDS``. Empty twice a second apart: a
    message moving between queue directories may be missed by one look."""
    deadline = time.monotonic() + DRAIN_SECONDS
    empty = 0
    while empty < 2:
        queued = await asyncio.to_thread(mta.queued)
        empty = 0 if queued else empty + 1
        assert time.monotonic() < deadline, (len(queued), status_lines(mta))
        if queued:
            await asyncio.to_thread(mta.flush)
        await asyncio.sleep(1)


def status_lines(mta: EdgeMTA) -> str:
    """Postfix's delivery outcomes and warnings, for a failure's message."""
    lines = mta.log(5000).splitlines()
    found = [line for line in lines if "status=" in line or "warning" in line or "fatal" in line]
    return "\n".join([*found[:15], "...", *found[-10:]])
