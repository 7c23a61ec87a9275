"""`agentid serve` as a real process under load: SIGTERM drains and exits 0, SIGKILL loses
nothing that was acknowledged. Every message that got a 250 is in the inbox after a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import aiosmtplib
import httpx
import pytest

from tests.conftest import ADMIN
from tests.conftest import backend_store
from tests.processes import end_group
from tests.processes import serve
from tests.service import HOST
from tests.service import queued_ids
from tests.service import simple_message

pytestmark = pytest.mark.asyncio(loop_scope="function")

AGENTID = Path(sys.executable).parent / "agentid"
CLIENTS = 8
ACKED_BEFORE_SIGNAL = 40


@dataclass
class Load:
    """Clients sending as fast as they can until the server goes away."""

    port: int
    rcpt: str
    acked: set[str] = field(default_factory=set)
    bad: list[str] = field(default_factory=list)
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    async def client(self, n: int) -> None:
        sent = 0
        while True:
            try:
                async with aiosmtplib.SMTP(
                    hostname=HOST, port=self.port, start_tls=False, timeout=15
                ) as smtp:
                    for _ in range(3):
                        sent += 1
                        raw = simple_message(self.rcpt, f"c{n}-{sent}", "x" * 70 + "\r\n" * 30)
                        errors, reply = await smtp.sendmail("load@example.org", [self.rcpt], raw)
                        if errors:
                            self.bad.append(f"recipient refused: {errors}")
                            return
                        self.acked.update(queued_ids(reply))
                        if len(self.acked) >= ACKED_BEFORE_SIGNAL:
                            self.enough.set()
            except aiosmtplib.SMTPRecipientsRefused as exc:
                codes = {r.code for r in exc.recipients}
                if codes != {421}:
                    self.bad.append(f"recipients refused: {exc.recipients}")
                return
            except aiosmtplib.SMTPResponseException as exc:
                if exc.code != 421:
                    self.bad.append(f"{exc.code} {exc.message}")
                return
            except (aiosmtplib.SMTPException, OSError):
                return  # connection refused, reset or closed: the sender retries later


async def all_ids(http: httpx.AsyncClient, project: str) -> set[str]:
    ids: set[str] = set()
    params: dict[str, str | int] = {"limit": 500}
    while True:
        r = await http.get(f"/projects/{project}/email/inbox", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        ids.update(m["id"] for m in body["messages"])
        if not body["next"]:
            return ids
        params["before"] = body["next"]


@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
async def test_acknowledged_mail_survives(tmp_path: Path, backend: str, how: str) -> None:
    data, log = tmp_path / "data", tmp_path / "serve.log"
    async with backend_store(backend) as schema:
        first = await serve(data, schema, log)
        try:
            async with httpx.AsyncClient(
                base_url=first.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
            ) as http:
                r = await http.post("/projects", json={"id": "load", "domain": "load.test"})
                assert r.status_code == 201, r.text
                r = await http.post("/projects/load/email/provision")
                assert r.status_code == 200, r.text
            load = Load(first.smtp_port, "agent@load.test")
            clients = [asyncio.create_task(load.client(n)) for n in range(CLIENTS)]
            enough = asyncio.create_task(load.enough.wait())
            await asyncio.wait([enough, *clients], timeout=30, return_when="FIRST_COMPLETED")
            assert enough.done(), (len(load.acked), load.bad)
            if how == "sigterm":
                first.proc.send_signal(signal.SIGTERM)
                started = time.monotonic()
                code = await asyncio.to_thread(first.proc.wait, 15)
                stopped_in = time.monotonic() - started
                assert code == 0, first.output()
                assert stopped_in < 8, (stopped_in, first.output()[-3000:])  # says what was slow
            else:
                first.proc.send_signal(signal.SIGKILL)
                await asyncio.to_thread(first.proc.wait, 15)
            await asyncio.wait_for(asyncio.gather(*clients), 30)
        finally:
            end_group(first)
        assert not load.bad, load.bad
        assert len(load.acked) >= ACKED_BEFORE_SIGNAL

        second = await serve(data, schema, log)
        try:
            async with httpx.AsyncClient(
                base_url=second.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30
            ) as http:
                deadline = time.monotonic() + 20  # recovery parses what was left unparsed
                while not load.acked <= (stored := await all_ids(http, "load")):
                    assert time.monotonic() < deadline, sorted(load.acked - stored)[:10]
                    await asyncio.sleep(0.2)
        finally:
            second.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                second.proc.wait(10)
            end_group(second)


async def test_sigterm_ends_long_polls_and_streams(tmp_path: Path) -> None:
    """A held long-poll answers (empty) and an event stream ends as soon as SIGTERM
    arrives, so shutdown never waits out a 300 s wait."""
    process = await serve(tmp_path / "data", None, tmp_path / "serve.log")
    try:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        async with httpx.AsyncClient(base_url=process.url, headers=headers, timeout=30) as http:
            assert (await http.post("/projects", json={"id": "p", "domain": "p.test"})).is_success
            poll = asyncio.create_task(
                http.get("/projects/p/email/inbox", params={"wait": 300, "to": "x@p.test"})
            )

            connected = asyncio.Event()

            async def stream() -> list[str]:
                lines = []
                async with http.stream("GET", "/projects/p/events") as r:
                    async for line in r.aiter_lines():
                        lines.append(line)
                        if line == ": connected":
                            connected.set()
                return lines

            events = asyncio.create_task(stream())
            await asyncio.wait_for(connected.wait(), 10)  # the stream is held
            await asyncio.sleep(0.5)  # and the long-poll, asked before it, too
            started = time.monotonic()
            process.proc.send_signal(signal.SIGTERM)
            r = await asyncio.wait_for(poll, 10)
            assert r.status_code == 200 and r.json() == {"messages": [], "next": None}
            assert ": connected" in await asyncio.wait_for(events, 10)
            assert await asyncio.to_thread(process.proc.wait, 10) == 0, process.output()
            assert time.monotonic() - started < 8
    finally:
        end_group(process)
