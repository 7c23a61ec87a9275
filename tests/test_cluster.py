"""Two ``agentid serve`` processes on one PostgreSQL schema: what one stores wakes the
other's long-polls, a routing change made through one is obeyed by the other on the next
RCPT, and a code is handed out by only one of them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiosmtplib
import asyncpg
import httpx
import pytest
import pytest_asyncio

from agentid.store.leader import lock_key
from tests.conftest import ADMIN
from tests.conftest import PG_URL
from tests.conftest import pg_schema
from tests.conftest import require_backend
from tests.processes import Process
from tests.processes import end_group
from tests.processes import serve
from tests.service import HOST
from tests.service import message

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Node:
    process: Process
    http: httpx.AsyncClient
    schema: str


@pytest.fixture(scope="module")
def postgresql() -> None:
    require_backend("postgresql")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def cluster(
    postgresql: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[Node]]:
    base = tmp_path_factory.mktemp("cluster")
    async with pg_schema() as schema:
        nodes: list[Node] = []
        try:
            for name in ("a", "b"):
                process = await serve(
                    base / name, schema, base / f"{name}.log", AGENTID_PARSE_PROCESSES="1"
                )
                http = httpx.AsyncClient(
                    base_url=process.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
                )
                nodes.append(Node(process, http, schema))
            yield nodes
        finally:
            for node in nodes:
                await node.http.aclose()
                end_group(node.process)


async def project(node: Node, pid: str, **extra: object) -> str:
    r = await node.http.post("/projects", json={"id": pid, "domain": f"{pid}.test", **extra})
    assert r.status_code == 201, r.text
    r = await node.http.post(f"/projects/{pid}/email/provision")
    assert r.status_code == 200, r.text
    return f"{pid}.test"


async def deliver(node: Node, to: str, raw: bytes) -> None:
    async with aiosmtplib.SMTP(hostname=HOST, port=node.process.smtp_port, timeout=15) as smtp:
        errors, reply = await smtp.sendmail("sender@example.org", [to], raw)
    assert not errors and "queued as" in reply, (errors, reply)


async def rcpt(node: Node, address: str) -> int:
    async with aiosmtplib.SMTP(hostname=HOST, port=node.process.smtp_port, timeout=15) as smtp:
        await smtp.mail("sender@example.org")
        reply = await smtp.execute_command(b"RCPT", f"TO:<{address}>".encode())
    return reply.code


async def test_long_poll_on_one_process_wakes_when_the_other_stores(cluster: list[Node]) -> None:
    a, b = cluster
    domain = await project(a, "wake")
    to = f"agent@{domain}"
    waiting = asyncio.create_task(
        b.http.get("/projects/wake/email/inbox", params={"to": to, "wait": 20})
    )
    await asyncio.sleep(0.5)  # the long-poll's first look found nothing; it waits
    assert not waiting.done()
    sent = time.monotonic()
    await deliver(a, to, message(to, "cross-process"))
    r = await asyncio.wait_for(waiting, 15)
    woke = time.monotonic() - sent
    assert r.status_code == 200, r.text
    assert [m["subject"] for m in r.json()["messages"]] == ["cross-process"]
    assert woke < 5.0, woke  # a wait wakes on the NOTIFY only: without it, 20 s and empty


async def test_alias_disabled_through_one_is_refused_by_the_other(cluster: list[Node]) -> None:
    a, b = cluster
    await project(a, "routes", catch_all=False)
    r = await a.http.post("/projects/routes/email/aliases", json={"local_part": "signup"})
    assert r.status_code == 201, r.text
    address = r.json()["address"]
    assert await rcpt(b, address) == 250  # b has it in its routing cache now
    r = await a.http.delete(f"/projects/routes/email/aliases/{address}")
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10  # the NOTIFY's way to b: the cache never expires
    while (code := await rcpt(b, address)) != 550:
        assert time.monotonic() < deadline, code
        await asyncio.sleep(0.05)


def code_mail(to: str, code: str) -> bytes:
    return message(to, "Your code", f"Your verification code is {code}.")


async def test_a_code_is_consumed_once_across_processes(cluster: list[Node]) -> None:
    a, b = cluster
    domain = await project(a, "codes")
    to = f"agent@{domain}"
    params: dict[str, str | int] = {"consume": "true", "wait": 20, "kind": "code"}
    on_a = asyncio.create_task(a.http.get("/projects/codes/codes", params=params))
    on_b = asyncio.create_task(b.http.get("/projects/codes/codes", params=params))
    await asyncio.sleep(0.5)
    await deliver(a, to, code_mail(to, "314159"))
    done, pending = await asyncio.wait({on_a, on_b}, return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1, "both processes handed the code out"
    winner = done.pop().result()
    assert [c["value"] for c in winner.json()["codes"]] == ["314159"]
    loser = pending.pop()
    await asyncio.sleep(0.5)  # it heard the same code arrive, and did not get it
    assert not loser.done()
    await deliver(b, to, code_mail(to, "271828"))
    r = await asyncio.wait_for(loser, 15)
    assert [c["value"] for c in r.json()["codes"]] == ["271828"]
    for node in (a, b):
        r = await node.http.get("/projects/codes/codes", params={"consume": "true", "wait": 0})
        assert r.json()["codes"] == []


async def test_each_periodic_job_runs_in_one_process(cluster: list[Node]) -> None:
    """Retention, the outbox, webhook deliveries, the number collector and the claims of a
    gone process's mail: each one's advisory lock is held by exactly one of the two
    processes. (Escalations expire as they are read; no job is needed for them.)"""
    jobs = ("retention", "outbox", "webhooks", "number-collector", "digest-claims")
    conn = await asyncpg.connect(PG_URL)
    try:
        deadline = time.monotonic() + 10
        while True:
            holders = {}
            for job in jobs:
                key = lock_key(cluster[0].schema, job) & 0xFFFFFFFFFFFFFFFF
                holders[job] = await conn.fetch(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1",
                    key >> 32,
                    key & 0xFFFFFFFF,
                )
            if all(len(found) == 1 for found in holders.values()):
                break
            assert time.monotonic() < deadline, holders
            await asyncio.sleep(0.2)
    finally:
        await conn.close()
