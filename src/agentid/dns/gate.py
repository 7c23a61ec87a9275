"""Which verdict check may compute: one at a time, the others waiting on the network.

The checks run in threads because their DNS questions block. Eight threads that all
compute (a burst from one sender, every answer from cache) fight over the interpreter's
lock: they spent three times the CPU of one, in context switches. So a thread starts a
check only while it holds the gate, keeps it from one message to the next, and lets it go
when a question of its own goes to the network (or it waits for the store, or for room
for a large message): then another thread starts the next message. A thread whose answer
came back finishes its message without the gate, then waits for the gate again.
"""

from __future__ import annotations

import threading


class Gate:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()

    def enter(self) -> None:
        """Wait until this thread may start checks."""
        self._lock.acquire()
        self._local.held = True

    def holding(self) -> bool:
        return bool(getattr(self._local, "held", False))

    def leave(self) -> None:
        """Let another thread start checks (nothing, if this one does not hold the gate)."""
        if self.holding():
            self._local.held = False
            self._lock.release()
