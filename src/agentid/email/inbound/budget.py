"""How long a parse worker may read one message: the budget is the worker's CPU time,
looked at on the wall clock.

The server cannot interrupt C or Rust code inside a worker, only end the worker, and it
does so once the worker has spent the budget (``digest_budget_seconds``) of CPU time on
one message. It first looks when the budget has passed on the wall clock, then after each
further budget: a worker that got less CPU than that meanwhile (a loaded machine ran
other work), or whose answer the server's busy event loop read late, is not blamed for
the wait, and a message that needs a millisecond is never flagged because the machine was
busy for a while. ``WALL_SLACK`` bounds how long a worker that does not run at all
(stopped, swapping) may hold a message: that much wall time past the budget, it is over,
whatever it used. Where the process's CPU time cannot be read (no ``/proc``), the budget
is wall-clock time.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

WALL_SLACK = 30.0  # seconds past the budget a worker may take on one message, however starved
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_seconds(pid: int) -> float | None:
    """User and system CPU time process ``pid`` has used; None where that cannot be read."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, ValueError, IndexError):
        return None


@dataclass(slots=True)
class Reading:
    """A worker (``pid``) reading one message since ``began`` (the monotonic clock, which
    every process on the machine shares), when its CPU time was ``cpu``. The worker says
    both itself: read here, they would be late by however long the server took to read its
    word (a message it finishes over the budget meanwhile it flags itself: parse_process)."""

    message_id: str
    pid: int | None
    budget: float
    slack: float = WALL_SLACK
    began: float = field(default_factory=time.monotonic)
    cpu: float | None = None  # the worker's CPU time then; None: read it now

    def __post_init__(self) -> None:
        if self.cpu is None and self.pid is not None:
            self.cpu = cpu_seconds(self.pid)

    def until_next_look(self) -> float:
        """Seconds until the next look: each time another budget has passed on the wall
        clock since the worker began."""
        return self.budget - (time.monotonic() - self.began) % self.budget

    def spent(self) -> bool:
        """Whether the worker is over the budget on this message now."""
        if time.monotonic() - self.began >= self.budget + self.slack:
            return True
        now = None if self.pid is None else cpu_seconds(self.pid)
        if self.cpu is None or now is None:
            return time.monotonic() - self.began >= self.budget
        return now - self.cpu >= self.budget
