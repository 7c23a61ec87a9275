"""Which process digests a committed message (``email/inbound/claims``): the one that
committed it, and no other while it lives; what a process killed after accepting mail had
not digested yet is claimed by a live one and digested within seconds, once, with no
restart."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from datetime import UTC
from datetime import datetime
from pathlib import Path

import aiosmtplib
import asyncpg
import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy import select

from agentid.email.inbound import claims
from agentid.email.inbound.digest import digest
from agentid.email.inbound.spool import Arrival
from agentid.email.inbound.spool import batch_of
from agentid.email.inbound.spool_writer import write_batch
from agentid.ids import new_id
from agentid.store import leader
from agentid.store.leader import Leadership
from agentid.store.tables import Message
from tests.conftest import ADMIN
from tests.conftest import PG_URL
from tests.conftest import Service
from tests.conftest import pg_schema
from tests.conftest import require_backend
from tests.conftest import serving
from tests.email.inbound.authentication import silent_server
from tests.email.inbound.test_undigestible import commit_unparsed
from tests.email.inbound.test_undigestible import in_store
from tests.processes import end_group
from tests.processes import serve
from tests.service import HOST
from tests.service import message
from tests.service import queued_ids

# A killed owner lets its lock go at once; the job's runner (or the process taking the
# job over) claims within its period, and the claimer digests a small message at once.
BOUND = leader.RETRY_SECONDS + claims.CLAIM_SECONDS + 6.0


@pytest.fixture
def postgresql() -> None:
    require_backend("postgresql")


def status_of(engine: Engine, mid: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(Message.status).where(Message.id == mid)).scalar_one())


async def test_only_the_owner_digests(service: Service) -> None:
    raw = message("x@acme.test", "Your code", "Your verification code is 482913.")
    mid = await commit_unparsed(service, raw)  # owned by the running service
    other = Leadership().node  # a process that does not own it
    assert await in_store(service, lambda e: digest(e, [mid], owner=other)) == []
    assert await in_store(service, status_of, mid) == "received"
    owner = service.running.runtime.leader.node
    (done,) = await in_store(service, lambda e: digest(e, [mid], owner=owner))
    assert done.message_id == mid
    assert await in_store(service, status_of, mid) == "parsed"


async def test_claimers_at_once_split_what_a_gone_process_left(
    postgresql: None, tmp_path: Path
) -> None:
    """Two processes claim at once (and the service's own job may too): each message goes
    to one of them, and the store says which."""
    async with serving(tmp_path / "data", "postgresql") as (service, _):
        rt = service.running.runtime
        gone = Leadership.for_settings(rt.settings)
        await gone.start()
        await project_acme(service)
        arrivals = [
            Arrival(
                "s@example.org",
                {"acme": [f"n{n}@acme.test"]},
                message(f"n{n}@acme.test", f"left {n}"),
                None,
                None,
                datetime.now(UTC),
                {"acme": new_id()},
            )
            for n in range(40)
        ]
        await in_store(service, write_batch, batch_of(arrivals, gone.node))
        claimers = [dataclasses.replace(rt, leader=Leadership.for_settings(rt.settings))]
        claimers.append(dataclasses.replace(rt, leader=Leadership.for_settings(rt.settings)))
        try:
            for claimer in claimers:
                await claimer.leader.start()
            assert await claimers[0].leader.alive([gone.node]) == {gone.node}
            assert await claims.claim_orphans(claimers[0]) == []  # its owner still lives
            await gone.close()  # as if its process died
            taken = await asyncio.gather(*(claims.claim_orphans(c) for c in claimers))
        finally:
            for claimer in claimers:
                await claimer.leader.close()
        mids = {a.message_ids["acme"] for a in arrivals}
        owners = await in_store(service, owners_of, sorted(mids))
        for claimer, items in zip(claimers, taken, strict=True):
            mine = {mid for mid, owner in owners.items() if owner == claimer.leader.node}
            assert {item.message_id for item in items} == mine
        # every one claimed, by one of them or by the service's own job
        assert set(owners.values()) <= {rt.leader.node, *(c.leader.node for c in claimers)}


async def project_acme(service: Service) -> None:
    r = await service.http.post("/projects", json={"id": "acme", "domain": "acme.test"})
    assert r.is_success, r.text
    assert (await service.http.post("/projects/acme/email/provision")).is_success


def owners_of(engine: Engine, mids: list[str]) -> dict[str, str | None]:
    with engine.connect() as conn:
        rows = conn.execute(select(Message.id, Message.digest_owner).where(Message.id.in_(mids)))
        return {mid: owner for mid, owner in rows}


async def test_mail_a_killed_process_accepted_is_digested_by_the_other(
    postgresql: None, tmp_path: Path
) -> None:
    """``a`` accepts a message with a code and is killed (SIGKILL, its helpers too) before
    it has digested it; ``b``, never restarted, hands the code out within ``BOUND`` of the
    kill, and it is stored once. To kill ``a`` at that point every time, the test holds a
    lock on the codes table until then: ``a``'s digest waits on it, and its transaction
    dies with its session."""
    async with pg_schema() as schema:
        a = await serve(tmp_path / "a", schema, tmp_path / "a.log", AGENTID_PARSE_PROCESSES="1")
        b = await serve(tmp_path / "b", schema, tmp_path / "b.log", AGENTID_PARSE_PROCESSES="1")
        headers = {"Authorization": f"Bearer {ADMIN}"}
        on_a = httpx.AsyncClient(base_url=a.url, headers=headers, timeout=60)
        on_b = httpx.AsyncClient(base_url=b.url, headers=headers, timeout=60)
        conn = await asyncpg.connect(PG_URL)
        holder = await asyncpg.connect(PG_URL)
        try:
            r = await on_a.post("/projects", json={"id": "orphan", "domain": "orphan.test"})
            assert r.status_code == 201, r.text
            assert (await on_a.post("/projects/orphan/email/provision")).status_code == 200
            held = holder.transaction()
            await held.start()
            await holder.execute(f'LOCK TABLE "{schema}".codes IN EXCLUSIVE MODE')
            to = "agent@orphan.test"
            raw = message(to, "Your code", "Your verification code is 604211.")
            async with aiosmtplib.SMTP(hostname=HOST, port=a.smtp_port, timeout=30) as smtp:
                errors, reply = await smtp.sendmail("sender@example.org", [to], raw)
            assert not errors
            (mid,) = queued_ids(reply)  # committed: a said 250
            waiting = "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = $1::regclass"
            deadline = time.monotonic() + 60
            while await conn.fetchval(waiting, f'"{schema}".codes') == 0:  # a's digest waits
                assert time.monotonic() < deadline, a.output()
                await asyncio.sleep(0.05)
            first_owner = await conn.fetchval(
                f'SELECT digest_owner FROM "{schema}".messages WHERE id = $1', mid
            )
            end_group(a)
            killed = time.monotonic()
            await held.rollback()
            r = await on_b.get("/projects/orphan/codes", params={"wait": BOUND + 10})
            took = time.monotonic() - killed
            assert [c["value"] for c in r.json()["codes"]] == ["604211"], b.output()
            assert took < BOUND, took
            r = await on_b.get("/projects/orphan/email/inbox")
            assert [(m["id"], m["parse_error"]) for m in r.json()["messages"]] == [(mid, False)]
            row = await conn.fetchrow(
                f'SELECT status, digest_owner FROM "{schema}".messages WHERE id = $1', mid
            )
            assert row["status"] == "parsed" and row["digest_owner"] not in (None, first_owner)
            stored = await conn.fetchval(
                f'SELECT count(*) FROM "{schema}".codes WHERE source_id = $1', mid
            )
            kinds = await conn.fetch(
                f'SELECT kind, count(*) FROM "{schema}".events WHERE ref_id = $1 GROUP BY kind',
                mid,
            )
            events = {kind: n for kind, n in kinds}
            assert events.pop("message.authenticated", 0) <= 1  # the verdict's, once it is in
            assert (stored, events) == (1, {"message.received": 1, "code.found": 1})  # once
        finally:
            await holder.close()
            await conn.close()
            for client in (on_a, on_b):
                await client.aclose()
            for process in (a, b):
                end_group(process)


async def test_a_verdict_a_killed_process_left_is_checked_by_the_other(
    postgresql: None, tmp_path: Path
) -> None:
    """``a`` digests a message with a code, and is killed while its check waits on name
    servers that never answer; ``b``, never restarted, claims the message and writes its
    verdict (temperror: the same silent name servers) within ``BOUND`` and its own check's
    timeout, once. Before, it waited for some process to start again."""
    with silent_server() as dns:
        async with pg_schema() as schema:
            common = {"AGENTID_PARSE_PROCESSES": "1", "AGENTID_DNS_NAMESERVERS": f"127.0.0.1:{dns}"}
            a = await serve(
                tmp_path / "a",
                schema,
                tmp_path / "a.log",
                AGENTID_AUTH_TIMEOUT_SECONDS="120",
                **common,
            )
            b = await serve(
                tmp_path / "b",
                schema,
                tmp_path / "b.log",
                AGENTID_AUTH_TIMEOUT_SECONDS="1.5",
                **common,
            )
            headers = {"Authorization": f"Bearer {ADMIN}"}
            on_a = httpx.AsyncClient(base_url=a.url, headers=headers, timeout=60)
            on_b = httpx.AsyncClient(base_url=b.url, headers=headers, timeout=60)
            conn = await asyncpg.connect(PG_URL)
            try:
                r = await on_a.post("/projects", json={"id": "left", "domain": "left.test"})
                assert r.status_code == 201, r.text
                assert (await on_a.post("/projects/left/email/provision")).status_code == 200
                to = "agent@left.test"
                raw = message(to, "Your code", "Your verification code is 604211.")
                async with aiosmtplib.SMTP(hostname=HOST, port=a.smtp_port, timeout=30) as smtp:
                    errors, reply = await smtp.sendmail("sender@example.org", [to], raw)
                assert not errors
                (mid,) = queued_ids(reply)
                r = await on_a.get("/projects/left/codes", params={"wait": 30})
                assert [c["value"] for c in r.json()["codes"]] == ["604211"], a.output()
                query = f'SELECT auth_results, digest_owner FROM "{schema}".messages WHERE id = $1'
                unchecked = await conn.fetchrow(query, mid)
                assert unchecked["auth_results"] is None  # a's check waits on the name servers
                end_group(a)
                killed = time.monotonic()
                while (await conn.fetchrow(query, mid))["auth_results"] is None:
                    assert time.monotonic() - killed < BOUND + 10, b.output()
                    await asyncio.sleep(0.1)
                row = await conn.fetchrow(query, mid)
                assert row["digest_owner"] not in (None, unchecked["digest_owner"])
                assert '"temperror"' in row["auth_results"]
                told = await conn.fetchval(
                    f'SELECT count(*) FROM "{schema}".events WHERE ref_id = $1'
                    " AND kind = 'message.authenticated'",
                    mid,
                )
                assert told == 1
            finally:
                await conn.close()
                for client in (on_a, on_b):
                    await client.aclose()
                for process in (a, b):
                    end_group(process)
