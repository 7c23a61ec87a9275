"""The digest budget (``email/inbound/budget``): CPU time a worker spends on one message,
looked at on the wall clock. A busy worker spends it; one that gets no CPU (a loaded
machine, a stopped process) is not over it until the wall-clock slack has passed too."""

from __future__ import annotations

import subprocess
import sys
import time

from agentid.email.inbound.budget import Reading
from agentid.email.inbound.budget import cpu_seconds


def test_a_busy_worker_spends_its_budget() -> None:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        reading = Reading("m", busy.pid, 0.05)
        deadline = time.monotonic() + 30
        while not reading.spent():
            assert time.monotonic() < deadline
            time.sleep(0.02)
        used = cpu_seconds(busy.pid)
        assert used is not None and reading.cpu is not None and used - reading.cpu >= 0.05
    finally:
        busy.kill()
        busy.wait()


def test_a_worker_that_does_not_run_is_over_only_past_the_slack() -> None:
    idle = subprocess.Popen(["sleep", "60"])
    try:
        # sixty budgets of wall time have passed, and next to no CPU
        starved = Reading("m", idle.pid, 0.05, slack=5.0, began=time.monotonic() - 3)
        time.sleep(0.1)
        assert not starved.spent()
        stopped = Reading("m", idle.pid, 0.05, slack=5.0, began=time.monotonic() - 6)
        assert stopped.spent()  # the budget and the slack have passed
    finally:
        idle.kill()
        idle.wait()


def test_without_a_process_to_look_at_the_budget_is_wall_clock() -> None:
    assert not Reading("m", None, 60.0).spent()
    assert Reading("m", None, 1.0, began=time.monotonic() - 1.5).spent()
