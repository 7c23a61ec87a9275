"""The verdict checker runs in a process of its own (not in the server's threads): started
on the first digested message, supervised like the other helpers, and nothing digested
goes without a verdict when it dies or the service stops mid-check. Name servers that
never answer make every check last the whole ``auth_timeout_seconds``, so a check is
reliably in flight when the test strikes; its verdict is then ``temperror``."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlalchemy import select

from agentid.email.inbound import verdict_lane
from agentid.email.inbound.verdict_lane import PART
from agentid.email.inbound.verdict_lane import VerdictProcess
from agentid.email.inbound.verdict_records import Done
from agentid.email.inbound.verdict_records import Pending
from agentid.email.inbound.verdict_records import store
from agentid.store.db import create_sync_engine
from agentid.store.tables import EventRow
from tests.conftest import Service
from tests.conftest import backend_store
from tests.conftest import serving
from tests.conftest import start_service
from tests.email.inbound.authentication import silent_server
from tests.email.inbound.authentication import verdict_of
from tests.service import eventually
from tests.service import new_project
from tests.service import send
from tests.service import simple_message
from tests.service import wait_for


@pytest.fixture
def silent_dns() -> Iterator[int]:
    with silent_server() as port:
        yield port


def settings_for(port: int) -> dict[str, Any]:
    return {
        "parse_processes": 1,
        "dns_nameservers": f"127.0.0.1:{port}",
        "auth_timeout_seconds": 1.5,
    }


def checker(service: Service) -> VerdictProcess:
    found = service.running.inbound.verdicts
    assert isinstance(found, VerdictProcess)
    return found


def temperror(message: dict[str, Any]) -> bool:
    verdict = message["auth_results"]
    return bool(verdict["spf"] == "temperror" and verdict["authenticated"] is False)


async def test_started_by_the_first_message_in_a_process_of_its_own(
    backend: str, tmp_path: Path, silent_dns: int
) -> None:
    async with serving(tmp_path / "data", backend, **settings_for(silent_dns)) as (service, _):
        project = await new_project(service)
        assert checker(service).pid is None  # idle: no checker carried
        (mid,) = await send(service, [project.primary], simple_message(project.primary))
        assert temperror(await verdict_of(service, project.id, mid))
        pid = checker(service).pid
        assert pid is not None and pid != os.getpid()
        assert (await service.http.get("/healthz")).status_code == 200


async def test_killed_mid_check_it_comes_back_and_checks_what_it_held(
    backend: str, tmp_path: Path, silent_dns: int
) -> None:
    async with serving(tmp_path / "data", backend, **settings_for(silent_dns)) as (service, _):
        project = await new_project(service)
        lane = checker(service)
        (first,) = await send(service, [project.primary], simple_message(project.primary, "one"))
        await verdict_of(service, project.id, first)
        old = lane.pid
        assert old is not None

        (held,) = await send(service, [project.primary], simple_message(project.primary, "two"))
        await wait_for(service, project, held)  # digested; its check has begun
        os.kill(old, signal.SIGKILL)  # its check of ``held`` waits on DNS for 1.5 s
        await eventually(lambda: lane.pid not in (None, old), "a new checker is up")
        assert lane.restarts == 1
        assert temperror(await verdict_of(service, project.id, held))
        (after,) = await send(service, [project.primary], simple_message(project.primary, "3"))
        assert temperror(await verdict_of(service, project.id, after))
        r = await service.http.get("/healthz")
        assert r.status_code == 200 and PART not in r.json()["down"], r.text


async def test_a_stop_mid_check_leaves_it_for_the_next_start(
    backend: str, tmp_path: Path, silent_dns: int
) -> None:
    data, settings = tmp_path / "data", settings_for(silent_dns)
    async with backend_store(backend) as schema:
        slow = settings | {"auth_timeout_seconds": 30}  # the check outlasts the stop
        async with start_service(data, schema, **slow) as service:
            project = await new_project(service)
            (mid,) = await send(service, [project.primary], simple_message(project.primary))
            await wait_for(service, project, mid)
        # stopped while the check waited on DNS: no verdict was written
        async with start_service(data, schema, **settings) as service:
            assert checker(service).pid is not None  # started for what waits, not for mail
            assert temperror(await verdict_of(service, project.id, mid))


async def test_a_checker_that_outlives_its_stop_grace_is_killed_without_a_second_one(
    backend: str,
    tmp_path: Path,
    silent_dns: int,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A frozen checker holds the stop for one grace, warned of; then it is killed at once,
    not given the grace a second time (which made a stop last 2 x 10 s)."""
    monkeypatch.setattr(verdict_lane, "STOP_SECONDS", 0.5)
    caplog.set_level(logging.WARNING)
    async with serving(tmp_path / "data", backend, **settings_for(silent_dns)) as (service, _):
        project = await new_project(service)
        (mid,) = await send(service, [project.primary], simple_message(project.primary))
        await verdict_of(service, project.id, mid)
        lane = checker(service)
        pid = lane.pid
        assert pid is not None
        os.kill(pid, signal.SIGSTOP)  # it will never answer the stop
    warned = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    assert (verdict_lane.log.name, "verdict checker did not end in time") in warned
    assert not [w for w in warned if w[1] == "helper did not end in time: killed"]
    assert lane.pid is None


async def test_a_second_verdict_of_a_message_is_dropped(
    backend: str, tmp_path: Path, silent_dns: int
) -> None:
    """Two processes may both check one message (one claimed it from an owner that only
    looked gone): the verdict written first stands, and the second changes nothing, its
    codes' flags nor the one ``message.authenticated`` the message tells."""
    async with serving(tmp_path / "data", backend, **settings_for(silent_dns)) as (service, _):
        project = await new_project(service)
        raw = simple_message(project.primary, body="Your code is 604211.\r\n")
        (mid,) = await send(service, [project.primary], raw)
        first = await verdict_of(service, project.id, mid)
        assert temperror(first)
        passed = {**first["auth_results"], "spf": "pass", "authenticated": True}
        again = Pending(project.id, mid, (project.primary,), True, 0.0)
        engine = create_sync_engine(service.running.runtime.settings)
        try:
            assert store(engine, [Done(again, passed)], None) == []
        finally:
            engine.dispose()
        r = await service.http.get(f"/projects/{project.id}/email/messages/{mid}")
        assert r.json()["auth_results"] == first["auth_results"]
        codes = (await service.http.get(f"/projects/{project.id}/codes")).json()["codes"]
        assert [(c["value"], c["authenticated"]) for c in codes] == [("604211", False)]
        async with service.running.runtime.sessions() as session:
            told = await session.scalar(
                select(func.count()).where(
                    EventRow.ref_id == mid, EventRow.kind == "message.authenticated"
                )
            )
        assert told == 1
