"""``processes.reap``: a helper that ends within its grace is reaped quietly; one that
outlives it is killed, and the kill is logged, so a slow stop says which helper held it."""

from __future__ import annotations

import logging
import signal
import time

import pytest

from agentid.email.inbound import processes


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
    await processes.reap(process, 0.3)
    assert process.exitcode == -signal.SIGKILL
    assert helper_records(caplog) == [
        ("helper did not end in time: killed", "agentid-test-sleeper")
    ]


async def test_a_helper_ending_within_its_grace_is_reaped_quietly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="agentid.processes")
    process = processes.context().Process(target=time.sleep, args=(0.1,), daemon=True)
    process.start()
    await processes.reap(process, 30)
    assert process.exitcode == 0
    assert helper_records(caplog) == []


async def test_no_grace_kills_at_once_without_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A helper ended at once (a worker being replaced) is not a slow stop."""
    caplog.set_level(logging.WARNING, logger="agentid.processes")
    process = processes.context().Process(target=time.sleep, args=(60,), daemon=True)
    process.start()
    await processes.reap(process, 0)
    assert process.exitcode == -signal.SIGKILL
    assert helper_records(caplog) == []
