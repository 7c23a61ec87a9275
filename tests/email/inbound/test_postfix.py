"""Postfix in front of two ``agentid serve`` processes on one PostgreSQL schema, as
deploy/postfix/ sets it up: mail sent to Postfix reaches agentid over LMTP; recipients are
checked by Postfix at RCPT through agentid's socketmap table (or the pgsql views), so an
unknown or disabled address is refused there with nothing queued; a long-poll on one
process answers when the other stores the message."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from pathlib import Path

import aiosmtplib
import asyncpg
import httpx
import pytest
import pytest_asyncio

from agentid.email.inbound.postfix import Setup
from agentid.email.inbound.postfix import map_files
from agentid.email.inbound.postfix import role_sql
from tests.conftest import ADMIN
from tests.conftest import PG_URL
from tests.conftest import pg_schema
from tests.conftest import require_backend
from tests.email.inbound.postfix import EdgeMTA
from tests.email.inbound.postfix import require_postfix
from tests.processes import Process
from tests.processes import end_group
from tests.processes import free_port
from tests.processes import serve
from tests.service import HOST
from tests.service import message

pytestmark = pytest.mark.asyncio(loop_scope="module")


@dataclass
class Node:
    process: Process
    http: httpx.AsyncClient
    lmtp_port: int
    socketmap_port: int


@dataclass
class Edge:
    a: Node
    b: Node
    mta: EdgeMTA
    schema: str


@pytest.fixture(scope="module")
def externals() -> None:
    require_backend("postgresql")
    require_postfix()


async def start_node(base: Path, name: str, schema: str) -> Node:
    lmtp, lookups = free_port(), free_port()
    process = await serve(
        base / name,
        schema,
        base / f"{name}.log",
        AGENTID_PARSE_PROCESSES="1",
        AGENTID_LMTP_PORT=str(lmtp),
        AGENTID_SOCKETMAP_PORT=str(lookups),
    )
    http = httpx.AsyncClient(
        base_url=process.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
    )
    return Node(process, http, lmtp, lookups)


def setup_for(a: Node, b: Node, **extra: object) -> Setup:
    """LMTP to a, then b; lookups answered by b (a's changes reach it over the bus)."""
    return Setup(
        lmtp=[f"inet:{HOST}:{a.lmtp_port}", f"inet:{HOST}:{b.lmtp_port}"],
        max_message_bytes=26214400,
        max_recipients=100,
        socketmap=f"inet:{HOST}:{b.socketmap_port}",
        **extra,  # type: ignore[arg-type]
    )


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def edge(externals: None, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Edge]:
    base = tmp_path_factory.mktemp("edge")
    async with pg_schema() as schema:
        nodes: list[Node] = []
        mta: EdgeMTA | None = None
        try:
            nodes.append(await start_node(base, "a", schema))
            nodes.append(await start_node(base, "b", schema))
            mta = await asyncio.to_thread(EdgeMTA, setup_for(*nodes))
            yield Edge(nodes[0], nodes[1], mta, schema)
        finally:
            if mta is not None:
                await asyncio.to_thread(mta.stop)
            for node in nodes:
                await node.http.aclose()
                end_group(node.process)


async def project(node: Node, pid: str, *, catch_all: bool = True) -> str:
    body = {"id": pid, "domain": f"{pid}.test", "catch_all": catch_all}
    r = await node.http.post("/projects", json=body)
    assert r.status_code == 201, r.text
    r = await node.http.post(f"/projects/{pid}/email/provision")
    assert r.status_code == 200, r.text
    return str(r.json()["address"])


async def rcpt(mta: EdgeMTA, address: str) -> tuple[int, str]:
    async with aiosmtplib.SMTP(hostname=HOST, port=mta.smtp_port, timeout=15) as smtp:
        await smtp.mail("sender@example.org")
        reply = await smtp.execute_command(b"RCPT", f"TO:<{address}>".encode())
        await smtp.rset()
    return reply.code, reply.message


async def test_mail_through_postfix_wakes_a_long_poll_on_the_other_process(edge: Edge) -> None:
    primary = await project(edge.a, "through")
    waiting = asyncio.create_task(
        edge.b.http.get("/projects/through/email/inbox", params={"to": primary, "wait": 30})
    )
    await asyncio.sleep(0.3)
    async with aiosmtplib.SMTP(hostname=HOST, port=edge.mta.smtp_port, timeout=15) as smtp:
        errors, _ = await smtp.sendmail(
            "sender@example.org", [primary], message(primary, "via postfix")
        )
    assert not errors, errors
    r = await asyncio.wait_for(waiting, 30)
    answered = time.time()
    assert r.status_code == 200, r.text
    (listed,) = r.json()["messages"]
    assert listed["subject"] == "via postfix"
    stored = datetime.fromisoformat(listed["received_at"]).timestamp()
    # a stored it (the first LMTP destination while it is up), b's long-poll heard it
    assert answered - stored < 5.0, (answered - stored, edge.mta.log())  # woken, not 30 s
    assert f"relay={HOST}[{HOST}]:{edge.a.lmtp_port}" in edge.mta.log(200)


async def test_unknown_recipient_is_refused_by_postfix_with_nothing_queued(edge: Edge) -> None:
    await project(edge.a, "strict", catch_all=False)
    code, text = await rcpt(edge.mta, "nobody@strict.test")
    assert code == 550, text
    code, text = await rcpt(edge.mta, "someone@not-hosted.example")
    assert code in (454, 554), text  # relay access denied
    assert edge.mta.queued() == []


async def test_an_alias_disabled_through_a_is_refused_on_the_next_rcpt(edge: Edge) -> None:
    await project(edge.a, "aliases")  # catch-all on: the disabled alias must still go
    r = await edge.a.http.post("/projects/aliases/email/aliases", json={"local_part": "signup"})
    assert r.status_code == 201, r.text
    address = r.json()["address"]
    assert (await rcpt(edge.mta, address))[0] == 250
    r = await edge.a.http.delete(f"/projects/aliases/email/aliases/{address}")
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 10  # b's cache heard it over the bus (it never expires)
    while (found := await rcpt(edge.mta, address))[0] != 550:
        assert time.monotonic() < deadline, found
        await asyncio.sleep(0.05)
    assert (await rcpt(edge.mta, "anything-else@aliases.test"))[0] == 250  # catch-all


async def test_pgsql_tables_read_through_a_role_that_reads_nothing_else(
    edge: Edge, tmp_path: Path
) -> None:
    require_postfix(pgsql=True)
    await project(edge.a, "pgmaps", catch_all=True)
    strict = await project(edge.a, "pgstrict", catch_all=False)
    for local in ("live", "gone"):
        r = await edge.a.http.post("/projects/pgmaps/email/aliases", json={"local_part": local})
        assert r.status_code == 201, r.text
    r = await edge.a.http.delete("/projects/pgmaps/email/aliases/gone@pgmaps.test")
    assert r.status_code == 200, r.text
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    r = await edge.a.http.post(
        "/projects/pgmaps/email/aliases", json={"local_part": "late", "expires_at": past}
    )
    assert r.status_code == 201, r.text
    role = f"agentid_postfix_{edge.schema}"
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.execute(role_sql(edge.schema, "secret").replace("agentid_postfix", role))
        setup = setup_for(
            edge.a,
            edge.b,
            lookup="pgsql",
            map_dir=str(edge.mta.config),
            pgsql={"hosts": "127.0.0.1:5432", "dbname": "test", "user": role,
                   "password": "secret", "schema": edge.schema},
        )  # fmt: skip
        for name, text in map_files(setup).items():
            (edge.mta.config / name).write_text(text)
        table = f"pgsql:{edge.mta.config}/agentid-recipients.cf"
        domains = f"pgsql:{edge.mta.config}/agentid-domains.cf"
        expected = {
            "live@pgmaps.test": True,
            "gone@pgmaps.test": False,  # disabled, although the domain is catch-all
            "late@pgmaps.test": False,  # expired: the same
            "other@pgmaps.test": True,  # catch-all
            strict: True,  # the primary address
            "other@pgstrict.test": False,
            "x@nowhere.example": False,
        }
        for address, found in expected.items():
            assert edge.mta.lookup(address, table) == found, address
        assert edge.mta.lookup("@pgmaps.test", table) is False  # no domain-wide entry
        assert edge.mta.lookup("pgmaps.test", domains) is True
        assert edge.mta.lookup("nowhere.example", domains) is False
        reader = await asyncpg.connect(PG_URL.replace("postgres@", f"{role}:secret@"))
        try:
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                await reader.fetch(f'SELECT * FROM "{edge.schema}".projects')
        finally:
            await reader.close()
    finally:
        await conn.execute(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{edge.schema}" FROM {role}')
        await conn.execute(f'REVOKE ALL ON SCHEMA "{edge.schema}" FROM {role}')
        await conn.execute(f"DROP ROLE IF EXISTS {role}")
        await conn.close()
