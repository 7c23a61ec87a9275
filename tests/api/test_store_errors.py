"""Store errors reach API clients as the JSON envelope: 503 store_unavailable for one that
may pass by itself (a locked database, a dropped connection), never a plain-text 500, and
never with SQL or parameters in the message. Once the store is back, so is the API."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from agentid.api.store_errors import MESSAGE
from tests.conftest import PG_URL
from tests.conftest import Service
from tests.service import assert_error
from tests.service import create_project
from tests.service import deliver
from tests.service import hosted
from tests.service import message
from tests.service import new_token

SQL_WORDS = ("SELECT", "INSERT", "UPDATE", "DELETE", "FROM", "WHERE", "[parameters", "$1", "?")


def assert_unavailable(r: httpx.Response) -> None:
    body = assert_error(r, 503, "store_unavailable")
    said = body["error"]["message"]
    assert said == MESSAGE
    assert not any(word in said for word in SQL_WORDS), said


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_locked_sqlite_database(service: Service) -> None:
    await hosted(service, "acme", "acme.test")
    raw = message("agent@acme.test", "Verify", "Your verification code is 482913.")
    mid = (await deliver(service, "acme", "agent@acme.test", raw))["id"]
    token = await new_token(service, "acme")
    messages = f"/projects/acme/email/messages/{mid}"

    # Another connection holds the write lock for longer than the app's busy timeout.
    holder = sqlite3.connect(service.running.settings.data_dir / "agentid.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        async with service.client(token) as acme:
            answers = await asyncio.gather(
                service.http.post("/projects", json={"id": "beta"}),
                acme.post("/projects/acme/email/aliases", json={"local_part": "signup"}),
                acme.patch(messages, json={"unread": False}),
                acme.get("/projects/acme/codes", params={"consume": "true"}),
                # WAL: readers go on while a writer holds the lock, token lookups included.
                acme.get("/projects/acme/email/inbox"),
                acme.get(messages),
            )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    *writes, inbox, read = answers
    for r in writes:
        assert_unavailable(r)
    assert inbox.status_code == 200, inbox.text
    assert [m["id"] for m in inbox.json()["messages"]] == [mid]
    assert read.status_code == 200, read.text

    # The lock is gone: the same requests succeed, and nothing was half done before.
    assert (await service.http.post("/projects", json={"id": "beta"})).status_code == 201
    r = await service.http.patch(messages, json={"unread": False})
    assert r.status_code == 200, r.text
    assert r.json()["unread"] is False
    r = await service.http.get("/projects/acme/codes", params={"consume": "true"})
    assert [c["value"] for c in r.json()["codes"]] == ["482913"]


async def app_pids(service: Service) -> list[int]:
    """The PostgreSQL backends behind every idle connection in the app's pool (at least one)."""
    engine = service.running.runtime.engine
    conns = [await engine.connect() for _ in range(max(1, engine.pool.checkedin()))]
    try:
        return [int(await conn.scalar(text("SELECT pg_backend_pid()"))) for conn in conns]
    finally:
        for conn in conns:
            await conn.close()


async def drop_connections(service: Service) -> None:
    """Terminate the app's pooled connections, as a PostgreSQL restart or failover would."""
    pids = await app_pids(service)
    admin = await asyncpg.connect(PG_URL)
    try:
        ended = await admin.fetchval(
            "SELECT count(*) FROM unnest($1::int[]) AS pid WHERE pg_terminate_backend(pid, 5000)",
            pids,
        )
    finally:
        await admin.close()
    assert ended == len(pids)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_dropped_postgres_connections(service: Service) -> None:
    await create_project(service, "acme")
    token = await new_token(service, "acme")
    async with service.client(token) as acme:
        steps: list[tuple[httpx.AsyncClient, str, str, Any]] = [
            # The token gate looks a project token up: its dropped connection is 503 there.
            (acme, "GET", "/projects/acme", None),
            # An operator's read and write: 503 from the route.
            (service.http, "GET", "/projects/acme", None),
            (service.http, "PATCH", "/projects/acme", {"retention_days": 7}),
        ]
        for client, method, path, body in steps:
            await drop_connections(service)
            assert_unavailable(await client.request(method, path, json=body))
            # The pool let go of the dead connections: the next request is served.
            r = await client.request(method, path, json=body)
            assert r.status_code == 200, (method, path, r.text)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
async def test_a_store_bug_is_a_json_500(service: Service) -> None:
    """An error that will not pass by itself (here a missing table) is a 500, still in the
    envelope and still without SQL."""
    await create_project(service, "acme")
    schema = service.running.settings.database_schema
    admin = await asyncpg.connect(PG_URL)
    try:
        await admin.execute(f'ALTER TABLE "{schema}".projects RENAME TO projects_gone')
        r = await service.http.get("/projects")
        await admin.execute(f'ALTER TABLE "{schema}".projects_gone RENAME TO projects')
    finally:
        await admin.close()
    body = assert_error(r, 500, "internal")
    assert not any(word in body["error"]["message"] for word in SQL_WORDS), body
    assert (await service.http.get("/projects")).status_code == 200
