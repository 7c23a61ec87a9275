"""Parse workers as supervised processes: killed ones come back and lose nothing; a message
that overruns its budget is flagged, listed and readable, and holds up no other project."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

from agentid.email.inbound.budget import cpu_seconds
from agentid.email.inbound.lanes import ProcessLane
from agentid.email.inbound.parse import parse_message
from tests.conftest import Service
from tests.conftest import serving
from tests.service import eventually
from tests.service import inbox
from tests.service import listed
from tests.service import new_project
from tests.service import send
from tests.service import simple_message


def lanes(service: Service) -> list[ProcessLane]:
    found = service.running.inbound.worker.lanes
    assert all(isinstance(lane, ProcessLane) for lane in found)
    return found  # type: ignore[return-value]


async def test_killed_idle_worker_comes_back(backend: str, tmp_path: Path) -> None:
    async with serving(tmp_path / "data", backend, parse_processes=1) as (service, _):
        project = await new_project(service)
        (lane,) = lanes(service)
        old = lane.pid
        assert old is not None
        os.kill(old, signal.SIGKILL)

        async def replaced() -> bool:
            return lane.pid not in (None, old)

        await eventually(replaced, "a new worker is up")
        assert lane.restarts == 1
        (mid,) = await send(service, [project.primary], simple_message(project.primary))
        entries = await inbox(service, project, wait=15)
        assert [e["id"] for e in entries] == [mid]
        assert (await service.http.get("/healthz")).status_code == 200


async def test_killed_busy_worker_loses_nothing(backend: str, tmp_path: Path) -> None:
    async with serving(tmp_path / "data", backend, parse_processes=1) as (service, _):
        project = await new_project(service)
        (lane,) = lanes(service)
        body = "Your verification code is 482913.\r\n" + "filler text\r\n" * 20_000
        sent = await asyncio.gather(
            *(
                send(service, [project.primary], simple_message(project.primary, body=body))
                for _ in range(40)
            )
        )
        pid = lane.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)

        async def all_digested() -> bool:
            return len(await inbox(service, project, limit=100)) == len(sent)

        await eventually(all_digested, "every message is listed")
        entries = await inbox(service, project, limit=100)
        assert sorted(e["id"] for e in entries) == sorted(mid for (mid,) in sent)
        assert not any(e["parse_error"] for e in entries)  # a kill is not the message's fault
        assert lane.restarts >= 1


FLAGGED_SECONDS = 30.0  # issue 6: listed, flagged, within 30 s


def slow_message(to: str) -> bytes:
    """Legitimate but heavy: 2 MiB of text to read for codes."""
    return simple_message(to, "heavy", "Your code is 551234. " * 100_000 + "\r\n")


async def test_overrun_flagged_and_other_projects_not_held_up(backend: str, tmp_path: Path) -> None:
    heavy_mail = slow_message("a@x.test")

    def timed() -> float:
        started = time.process_time()
        parse_message(heavy_mail)
        return time.process_time() - started

    # The budget is CPU time (email/inbound/budget), and so is this cost: a busy machine
    # stretches neither. Each heavy message spends the budget four times over; a code mail
    # spends about a millisecond of it, however long the machine keeps its worker waiting.
    cost = min(timed() for _ in range(3))
    budget = max(0.02, cost / 4)
    async with serving(
        tmp_path / "data", backend, parse_processes=2, digest_budget_seconds=budget
    ) as (service, _):
        alpha, beta = await new_project(service), await new_project(service)
        heavy = await asyncio.gather(
            *(send(service, [alpha.primary], slow_message(alpha.primary)) for _ in range(4))
        )
        code_mail = simple_message(beta.primary, "code", "Your verification code is 604211.\r\n")
        sent_at = time.monotonic()  # from before its SMTP session: all of its own way in
        await send(service, [beta.primary], code_mail)
        r = await service.http.get(f"/projects/{beta.id}/codes", params={"wait": 10})
        assert r.status_code == 200 and [c["value"] for c in r.json()["codes"]] == ["604211"]
        assert time.monotonic() - sent_at < 3  # issue 6: another project's code within 3 s
        # Every heavy message is flagged: each costs a worker's restart, so the wait is for
        # their events (listed, flagged), within the 30 s.
        for entry in await listed(service, alpha, len(heavy), timeout=FLAGGED_SECONDS):
            assert entry["parse_error"] is True
            r = await service.http.get(f"/projects/{alpha.id}/email/messages/{entry['id']}")
            assert "digest budget" in r.json()["parse_error"]
            raw = await service.http.get(f"/projects/{alpha.id}/email/messages/{entry['id']}/raw")
            assert raw.status_code == 200 and len(raw.content) > 2_000_000
        assert (await service.http.get("/healthz")).status_code == 200


async def test_a_message_its_worker_dies_reading_is_flagged(backend: str, tmp_path: Path) -> None:
    """A worker killed while it reads a message alone (as a crash in C code would end it):
    the message is flagged, listed and readable, and the next worker goes on."""
    async with serving(tmp_path / "data", backend, parse_processes=1, digest_budget_seconds=60) as (
        service,
        _,
    ):
        project = await new_project(service)
        (lane,) = lanes(service)
        pid = lane.pid
        assert pid is not None
        started = cpu_seconds(pid)
        assert started is not None
        heavy = simple_message(project.primary, "heavy", "Your code is 551234. " * 400_000)
        (mid,) = await send(service, [project.primary], heavy)
        deadline = time.monotonic() + 15
        while (cpu_seconds(pid) or 0.0) - started < 0.1:  # reading the heavy message
            assert time.monotonic() < deadline, "the worker never read the heavy message"
            await asyncio.sleep(0.005)
        os.kill(pid, signal.SIGKILL)
        (entry,) = await listed(service, project, 1, timeout=FLAGGED_SECONDS)
        assert entry["id"] == mid and entry["parse_error"] is True
        r = await service.http.get(f"/projects/{project.id}/email/messages/{mid}")
        assert r.status_code == 200 and "died reading it" in r.text
        assert lane.pid not in (None, pid)
        (fine,) = await send(service, [project.primary], simple_message(project.primary))
        entries = await listed(service, project, 2)
        assert {e["id"]: e["parse_error"] for e in entries} == {mid: True, fine: False}
