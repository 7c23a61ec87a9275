"""Cluster-wide jobs (``store/leader.py``) on the test PostgreSQL: one holder per job and
schema, taken over when the holder's session ends; SQLite runs everything here. A node is
alive while its session lasts."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from agentid.store import leader as leader_module
from agentid.store.leader import Leadership
from agentid.store.leader import lock_key
from tests.conftest import PG_URL
from tests.conftest import require_backend


@pytest.fixture
def postgresql() -> None:
    require_backend("postgresql")


async def test_without_postgresql_every_job_runs_here() -> None:
    alone = Leadership()
    await alone.start()
    assert await alone.held("retention") and await alone.held("outbox")
    assert await alone.alive([alone.node, Leadership().node]) == {alone.node}
    await alone.close()


async def test_one_holder_per_job_and_schema(postgresql: None) -> None:
    one, two = Leadership(PG_URL, "t_lead_a"), Leadership(PG_URL, "t_lead_a")
    elsewhere = Leadership(PG_URL, "t_lead_b")
    try:
        assert await one.held("outbox")
        assert not await two.held("outbox")
        assert await two.held("retention")  # each job on its own
        assert not await one.held("retention")
        assert await elsewhere.held("outbox")  # another schema: another service
        assert await one.held("outbox")  # still held, asked again
    finally:
        for lead in (one, two, elsewhere):
            await lead.close()
    assert lock_key("t_lead_a", "outbox") != lock_key("t_lead_b", "outbox")


async def end_session(lead: Leadership) -> None:
    """End ``lead``'s session on the server's side, as if its process had died."""
    assert lead._conn is not None
    conn = await asyncpg.connect(PG_URL)
    try:
        await conn.fetchval("SELECT pg_terminate_backend($1)", lead._conn.get_server_pid())
    finally:
        await conn.close()


async def test_a_job_is_taken_over_when_its_holder_goes(postgresql: None) -> None:
    one, two = Leadership(PG_URL, "t_lead_c"), Leadership(PG_URL, "t_lead_c")
    try:
        assert await one.held("webhooks")
        waiting = asyncio.create_task(two.wait("webhooks"))
        await asyncio.sleep(0.1)
        assert not waiting.done()
        await end_session(one)  # the lock goes with it
        await asyncio.wait_for(waiting, leader_module.RETRY_SECONDS * 3)
        assert not await one.held("webhooks")  # it learns it lost the job
    finally:
        await one.close()
        await two.close()


async def test_a_node_is_alive_while_its_session_lasts(postgresql: None) -> None:
    one, two = Leadership(PG_URL, "t_lead_d"), Leadership(PG_URL, "t_lead_d")
    elsewhere = Leadership(PG_URL, "t_lead_e")
    never = Leadership(PG_URL, "t_lead_d")  # never started: no process behind it
    try:
        for lead in (one, two, elsewhere):
            await lead.start()
        nodes = [one.node, two.node, never.node]
        assert await one.alive(nodes) == {one.node, two.node}
        assert await elsewhere.alive(nodes) == set()  # another schema: another service
        await end_session(two)  # as a close, a kill or a lost network would
        deadline = time.monotonic() + 10
        while await one.alive(nodes) != {one.node}:  # once the backend has ended
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)
        await asyncio.wait_for(two.wait("outbox"), 10)  # back on its next use, lock and all
        assert await one.alive(nodes) == {one.node, two.node}
    finally:
        for lead in (one, two, elsewhere):
            await lead.close()


async def test_a_session_ended_under_it_is_a_lost_job_not_a_crash(postgresql: None) -> None:
    """Asked right after its session was ended on the server's side, a node answers "not
    held" (whatever state the connection was caught in) and takes the job back later."""
    lead = Leadership(PG_URL, "t_lead_f")
    try:
        for _ in range(12):
            assert await lead.held("outbox")
            await end_session(lead)
            for _ask in range(3):  # the client may not have seen the end yet
                await lead.held("outbox")
            await asyncio.wait_for(lead.wait("outbox"), leader_module.RETRY_SECONDS * 3)
    finally:
        await lead.close()
