"""The spool writer is supervised: killed, it is back within seconds and nothing that got a
250 is lost; the batch it held is committed (once) by the next writer; a failing store is
retried, then refused with 451, and ``spool-writer`` is down on /healthz meanwhile. Each
state change is logged once. Real servers on both stores; the failures are real too
(SIGKILL, a lock held by another client, a trigger that fails like a full disk)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from datetime import UTC
from datetime import datetime
from pathlib import Path

import aiosmtplib
import asyncpg
import pytest
from sqlalchemy import func
from sqlalchemy import select

from agentid.email.inbound.spool import Arrival
from agentid.email.inbound.spool import Spool
from agentid.email.inbound.spool import batch_of
from agentid.email.inbound.spool_writer import RETRY_DELAYS
from agentid.email.inbound.spool_writer import write_batch
from agentid.ids import new_id
from agentid.store.db import create_sync_engine
from agentid.store.tables import Message
from agentid.store.tables import MessageRaw
from agentid.store.tables import MessageRecipient
from tests.conftest import PG_URL
from tests.conftest import Service
from tests.conftest import require_backend
from tests.conftest import serving
from tests.service import Project
from tests.service import eventually
from tests.service import inbox
from tests.service import new_project
from tests.service import send
from tests.service import simple_message
from tests.service import wait_for

pytestmark = pytest.mark.asyncio(loop_scope="function")

DOWN = ("ERROR", "spool-writer is down: the writer process was killed by SIGKILL")
UP = ("INFO", "spool-writer is up again")

# Inserts into messages fail as on a full disk (PostgreSQL: SQLSTATE 53100, DiskFull). A
# SQLite trigger can only raise constraint errors, so there it reads a missing table: an
# OperationalError too, the class "database or disk is full" and "database is locked" share.
BREAK = {
    "sqlite": """CREATE TRIGGER store_full BEFORE INSERT ON messages
        BEGIN INSERT INTO nowhere VALUES (1); END""",
    "postgresql": """
        CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
            RAISE EXCEPTION 'could not extend file: No space left on device'
            USING ERRCODE = 'disk_full';
        END $$;
        CREATE TRIGGER store_full BEFORE INSERT ON messages EXECUTE FUNCTION full_disk()""",
}
REPAIR = {"sqlite": "DROP TRIGGER store_full", "postgresql": "DROP TRIGGER store_full ON messages"}


def health_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "agentid.health"]


async def outside(service: Service, schema: str | None, sql: str) -> None:
    """Run ``sql`` as another client of the same store would."""
    if schema is None:
        with contextlib.closing(
            sqlite3.connect(service.running.settings.data_dir / "agentid.db")
        ) as db:
            db.executescript(sql)
    else:
        conn = await asyncpg.connect(PG_URL, server_settings={"search_path": schema})
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


async def kill_writer_holding_one(spool: Spool) -> None:
    """SIGKILL the spool writer while it holds one message; return once a new writer holds
    that message again."""
    await eventually(lambda: spool.in_flight == 1, "the writer holds the message")
    first = spool.pid
    assert first is not None
    os.kill(first, signal.SIGKILL)
    await eventually(lambda: spool.pid not in (None, first), "a new writer is up")
    await eventually(lambda: spool.in_flight == 1, "the new writer holds the message")


@contextlib.asynccontextmanager
async def write_lock(service: Service, schema: str | None) -> AsyncIterator[None]:
    """Another client holds the write lock: the writer's INSERT waits until it is let go."""
    if schema is None:
        db = sqlite3.connect(service.running.settings.data_dir / "agentid.db", isolation_level=None)
        db.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            db.execute("ROLLBACK")
            db.close()
    else:
        conn = await asyncpg.connect(PG_URL)
        try:
            async with conn.transaction():
                await conn.execute(f'LOCK TABLE "{schema}".messages IN EXCLUSIVE MODE')
                yield
        finally:
            await conn.close()


async def stored_ids(service: Service, project: Project) -> set[str]:
    async with service.running.runtime.engine.connect() as conn:
        rows = await conn.execute(select(Message.id).where(Message.project_id == project.id))
        return {row[0] for row in rows}


async def all_shown(service: Service, project: Project, ids: set[str]) -> None:
    """Wait until every one of ``ids`` is in the inbox (parsed), all pages of it."""
    deadline = time.monotonic() + 20
    while True:
        shown: set[str] = set()
        params: dict[str, str | int] = {"limit": 500}
        while page := await inbox(service, project, **params):
            shown.update(m["id"] for m in page)
            params["before"] = page[-1]["id"]
        if ids <= shown:
            return
        assert time.monotonic() < deadline, sorted(ids - shown)[:10]
        await asyncio.sleep(0.1)


async def test_killed_writer_comes_back_and_acknowledged_mail_is_kept(
    tmp_path: Path, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentid.health")
    async with serving(tmp_path / "data", backend) as (service, _):
        project = await new_project(service)
        spool = service.running.inbound.spool
        acked: list[str] = []
        refused: list[str] = []
        stop = asyncio.Event()

        async def sender(n: int) -> None:
            sent = 0
            while not stop.is_set():
                sent += 1
                message = simple_message(project.primary, f"s{n}-{sent}")
                try:
                    acked.extend(await send(service, [project.primary], message))
                except aiosmtplib.SMTPDataError as exc:
                    refused.append(f"{exc.code} {exc.message}")

        senders = [asyncio.create_task(sender(n)) for n in range(6)]
        await eventually(lambda: len(acked) >= 30, "mail flows")
        first = spool.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        killed, before = time.monotonic(), len(acked)
        await eventually(lambda: spool.pid not in (None, first), "a new writer is up")
        await eventually(lambda: len(acked) >= before + 30, "mail flows again")
        assert time.monotonic() - killed < 15
        stop.set()
        await asyncio.wait_for(asyncio.gather(*senders), 30)

        assert spool.restarts == 1
        assert all(r.startswith("451 4.3.0") for r in refused), refused
        # Every acknowledged message is stored, and nothing is stored that was not
        # acknowledged: the batch the killed writer held was committed, not refused.
        assert await stored_ids(service, project) == set(acked)
        await all_shown(service, project, set(acked))
        assert (await service.http.get("/healthz")).json()["down"] == {}
    assert health_lines(caplog) == [DOWN, UP]


async def test_batch_held_by_a_killed_writer_is_committed_by_the_next(
    tmp_path: Path, backend: str
) -> None:
    async with serving(tmp_path / "data", backend) as (service, schema):
        project = await new_project(service)
        spool = service.running.inbound.spool
        (warm,) = await send(service, [project.primary], simple_message(project.primary))
        await wait_for(service, project, warm)
        async with write_lock(service, schema):
            message = simple_message(project.primary, "held")
            sending = asyncio.create_task(send(service, [project.primary], message))
            await kill_writer_holding_one(spool)
            assert not sending.done()  # neither refused nor acknowledged while uncommitted
        (mid,) = await asyncio.wait_for(sending, 30)
        assert (await wait_for(service, project, mid))["subject"] == "held"
        assert await stored_ids(service, project) == {warm, mid}


async def test_a_batch_sent_again_is_stored_once(tmp_path: Path, backend: str) -> None:
    """The killed writer may have committed before it died: committing again skips it."""
    async with serving(tmp_path / "data", backend) as (service, _):
        project = await new_project(service)
        raw = simple_message(project.primary, "twice")
        arrival = Arrival(
            "s@example.org",
            {project.id: [project.primary]},
            raw,
            None,
            None,
            datetime.now(UTC),
            {project.id: new_id()},
        )
        engine = create_sync_engine(service.running.settings)
        try:
            for _ in range(2):
                await asyncio.to_thread(write_batch, engine, batch_of([arrival]))
        finally:
            engine.dispose()
        mid = arrival.message_ids[project.id]
        async with service.running.runtime.engine.connect() as conn:
            for table, key in (
                (Message, Message.id),
                (MessageRaw, MessageRaw.message_id),
                (MessageRecipient, MessageRecipient.message_id),
            ):
                count = await conn.scalar(select(func.count()).select_from(table).where(key == mid))
                assert count == 1, table


async def test_failing_store_is_retried_then_refused_and_reported(
    tmp_path: Path, backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentid.health")
    async with serving(tmp_path / "data", backend) as (service, schema):
        project = await new_project(service)
        (before,) = await send(service, [project.primary], simple_message(project.primary))
        await outside(service, schema, BREAK[backend])
        for _ in range(2):  # the second finds it down already: still one log line
            started = time.monotonic()
            with pytest.raises(aiosmtplib.SMTPDataError) as refused:
                await send(service, [project.primary], simple_message(project.primary))
            assert refused.value.code == 451, refused.value
            assert time.monotonic() - started >= sum(RETRY_DELAYS)  # retried before refusing
        r = await service.http.get("/healthz")
        assert r.status_code == 503, r.text
        assert r.json()["status"] == "unavailable"
        reason = r.json()["down"]["spool-writer"]
        expected = "DiskFull: could not extend" if schema else "OperationalError: no such table"
        assert reason.startswith(f"the store keeps failing: {expected}"), reason

        await outside(service, schema, REPAIR[backend])
        (after,) = await send(service, [project.primary], simple_message(project.primary))
        r = await service.http.get("/healthz")
        assert (r.status_code, r.json()["down"]) == (200, {})
        assert await stored_ids(service, project) == {before, after}
    assert health_lines(caplog) == [("ERROR", f"spool-writer is down: {reason}"), UP]


def tcp_ports(pid: int) -> set[int]:
    """The local ports of ``pid``'s TCP sockets (which PostgreSQL backends serve it)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if (target := os.readlink(fd)).startswith("socket:["):
                inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[9] in inodes:
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


@pytest.fixture
def postgresql() -> None:
    require_backend("postgresql")  # before the test's event loop runs: the probe runs its own


@pytest.mark.usefixtures("postgresql")
async def test_dropped_connection_is_retried(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="agentid.health")
    async with serving(tmp_path / "data", "postgresql") as (service, _):
        project = await new_project(service)
        await send(service, [project.primary], simple_message(project.primary))
        spool: Spool = service.running.inbound.spool
        assert spool.pid is not None
        ports = tcp_ports(spool.pid)
        conn = await asyncpg.connect(PG_URL)
        try:
            backends = "FROM pg_stat_activity WHERE client_port = ANY($1)"
            killed = await conn.fetch(f"SELECT pg_terminate_backend(pid) {backends}", list(ports))
            assert killed and all(row[0] for row in killed), ports
            deadline = time.monotonic() + 10
            while await conn.fetchval(f"SELECT count(*) {backends}", list(ports)):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.05)
        finally:
            await conn.close()
        # The writer's pooled connection is dead: its first attempt fails, the retry works.
        (mid,) = await send(service, [project.primary], simple_message(project.primary))
        await wait_for(service, project, mid)
    assert health_lines(caplog) == []
