"""``processes.reap``: a helper that ends within its grace is reaped quietly; one that
outlives it is killed, and the kill is logged, so a slow stop says which helper held it."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import time
from pathlib import Path

import pytest

from agentid.email.inbound import processes
from tests.conftest import serving


def helper_records(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    return [
        (r.getMessage(), getattr(r, "helper", ""))
        for r in caplog.records
        if r.name == "agentid.processes"
    ]


async def test_a_helper_past_its_grace_is_killed_and_named(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="agentid.processes")
    process = processes.context().Process(
        target=time.sleep, args=(60,), name="agentid-test-sleeper", daemon=True
    )
    process.start()
    assert await processes.reap(process, 0.3) == -signal.SIGKILL
    assert helper_records(caplog) == [
        ("helper did not end in time: killed", "agentid-test-sleeper")
    ]


async def test_a_helper_ending_within_its_grace_is_reaped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="agentid.processes")
    process = processes.context().Process(target=time.sleep, args=(0.1,), daemon=True)
    process.start()
    assert await processes.reap(process, 30) == 0
    assert helper_records(caplog) == []


async def test_no_grace_kills_at_once_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A helper ended at once (a worker being replaced) is not a slow stop."""
    caplog.set_level(logging.WARNING, logger="agentid.processes")
    process = processes.context().Process(target=time.sleep, args=(60,), daemon=True)
    process.start()
    assert await processes.reap(process, 0) == -signal.SIGKILL
    assert helper_records(caplog) == []


def open_descriptors() -> dict[int, str]:
    found = {}
    for name in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):  # the listing's own descriptor is gone by now
            found[int(name)] = os.readlink(f"/proc/self/fd/{name}")
    return found


async def test_a_helper_reaped_holds_no_descriptor() -> None:
    """A reaped helper's object is closed: its sentinel pipe is not held until it is
    collected (the server keeps its helpers' objects)."""
    process = processes.context().Process(target=time.sleep, args=(0,), daemon=True)
    process.start()
    sentinel = process.sentinel
    assert await processes.reap(process, 30) == 0
    assert sentinel not in open_descriptors()
    with pytest.raises(ValueError):
        process.pid  # noqa: B018 (closed: asking for it is refused)


async def test_services_started_and_stopped_leave_no_descriptor_open(
    backend: str, tmp_path: Path
) -> None:
    """Two pipes a start and stop were left open (the migration's and the spool writer's
    process objects, never closed): a test run, or a server whose helpers restart, ran
    out of descriptors. The first start is left out: the fork server stays."""
    async with serving(tmp_path / "warm", backend) as (service, _):
        assert (await service.http.get("/healthz")).status_code == 200
    before = open_descriptors()
    for n in range(3):
        async with serving(tmp_path / f"data{n}", backend) as (service, _):
            assert (await service.http.get("/healthz")).status_code == 200
    left = {fd: what for fd, what in open_descriptors().items() if fd not in before}
    assert left == {}
