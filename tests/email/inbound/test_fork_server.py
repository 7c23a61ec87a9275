"""``agentid serve`` forks its fork server from itself before it starts a thread: the
spool writer and the parse workers are that fork server's children, and no resource
tracker runs. If the fork server dies, the next helpers come from multiprocessing's own
and mail stays readable (``email/inbound/processes.py``)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from agentid.config import default_parse_processes
from tests.conftest import ADMIN
from tests.processes import Process
from tests.processes import children
from tests.processes import end_group
from tests.processes import serve
from tests.service import HOST
from tests.service import queued_ids

pytestmark = pytest.mark.asyncio(loop_scope="function")

RCPT = "agent@fork.test"
CODE = "482913"


def cmdline(pid: int) -> bytes:
    return Path(f"/proc/{pid}/cmdline").read_bytes()


@asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[tuple[Process, httpx.AsyncClient]]:
    # without inbound authentication: its checker, a helper too, starts with the first
    # message; the counts below are of the spool writer and the parse workers
    server = await serve(
        tmp_path / "data", None, tmp_path / "serve.log", AGENTID_INBOUND_AUTH="false"
    )
    headers = {"Authorization": f"Bearer {ADMIN}"}
    try:
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=30) as http:
            r = await http.post("/projects", json={"id": "fork", "domain": "fork.test"})
            assert r.status_code == 201, r.text
            assert (await http.post("/projects/fork/email/provision")).status_code == 200
            yield server, http
    finally:
        end_group(server)


async def readable(server: Process, http: httpx.AsyncClient, n: int) -> None:
    """Message ``n`` is accepted, then digested with its code, within 15 s."""
    raw = (
        f"From: Shop <no-reply@shop.example>\r\nTo: {RCPT}\r\nSubject: code {n}\r\n\r\n"
        f"Your verification code is {CODE}.\r\n"
    ).encode()
    async with aiosmtplib.SMTP(hostname=HOST, port=server.smtp_port, start_tls=False) as smtp:
        _, reply = await smtp.sendmail("no-reply@shop.example", [RCPT], raw)
    (mid,) = queued_ids(reply)
    deadline = time.monotonic() + 15
    while True:
        r = await http.get(f"/projects/fork/email/messages/{mid}")
        if r.status_code == 200 and r.json()["status"] == "parsed":
            assert [c["value"] for c in r.json()["codes"]] == [CODE]
            return
        assert time.monotonic() < deadline, r.text
        await asyncio.sleep(0.1)


async def test_helpers_come_from_a_fork_server_forked_by_serve(tmp_path: Path) -> None:
    async with serving(tmp_path) as (server, http):
        (fork_server,) = children(server.proc.pid)  # and no resource tracker
        assert cmdline(fork_server) == cmdline(server.proc.pid)
        helpers = children(fork_server)  # the spool writer and the parse workers
        assert len(helpers) == 1 + default_parse_processes()
        await readable(server, http, 1)


async def test_helpers_come_back_after_the_fork_server_dies(tmp_path: Path) -> None:
    async with serving(tmp_path) as (server, http):
        (fork_server,) = children(server.proc.pid)
        first = set(children(fork_server))
        os.kill(fork_server, signal.SIGKILL)
        await readable(server, http, 1)  # the parse workers it forked are replaced

        async def workers() -> list[int]:
            """Parse workers forked by multiprocessing's own fork server, once all are."""
            deadline = time.monotonic() + 15
            while True:
                found = [p for c in children(server.proc.pid) for p in children(c)]
                if len(found) == default_parse_processes():
                    return found
                assert time.monotonic() < deadline, found
                await asyncio.sleep(0.1)

        replaced = await workers()
        assert not first & set(replaced)
        os.kill(replaced[0], signal.SIGKILL)  # and those are supervised as before
        await readable(server, http, 2)
        assert (await http.get("/healthz")).status_code == 200
