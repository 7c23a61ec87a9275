"""SQLite WAL checkpoints, off the commit path.

Connections run with ``wal_autocheckpoint=0`` so no committing writer (the SMTP spool
above all) pays for copying the WAL into the database. This thread does it instead:
a PASSIVE checkpoint every interval (it never waits for readers or writers), and a
TRUNCATE one at stop so the WAL file does not outlive the process.

After mail is deleted (``scrub`` set), the next round is a TRUNCATE checkpoint: with
``secure_delete`` on, the deleted content is zeroed in the database file, and the WAL,
which still held it, is emptied; tried again each round until it succeeds.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from sqlalchemy import Engine
from sqlalchemy import text

from agentid.config import Settings
from agentid.store.db import create_sync_engine

log = logging.getLogger("agentid.checkpoint")

INTERVAL_SECONDS = 1.0


class WalCheckpointer:
    def __init__(
        self,
        settings: Settings,
        interval: float = INTERVAL_SECONDS,
        scrub: threading.Event | None = None,
    ) -> None:
        self._settings = settings
        self._interval = interval
        self._scrub = scrub or threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._engine: Engine | None = None

    async def start(self) -> None:
        await asyncio.to_thread(self.start_now)

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_now)

    def start_now(self) -> None:
        self._engine = create_sync_engine(self._settings)
        if self._engine.dialect.name != "sqlite":
            self._engine.dispose()
            self._engine = None
            return
        self._thread = threading.Thread(target=self._run, name="agentid-checkpoint", daemon=True)
        self._thread.start()

    def stop_now(self) -> None:
        if self._thread is None or self._engine is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.checkpoint("TRUNCATE")
        self._engine.dispose()
        self._engine = None

    def checkpoint(self, mode: str = "PASSIVE") -> bool:
        """Whether the checkpoint ran to the end (a TRUNCATE blocked by readers did not)."""
        assert self._engine is not None and mode in ("PASSIVE", "TRUNCATE")
        try:
            with self._engine.connect() as conn:
                busy = conn.execute(text(f"PRAGMA wal_checkpoint({mode})")).scalar()
        except Exception:  # busy or failing disk: the next round tries again
            log.warning("WAL checkpoint failed", extra={"mode": mode}, exc_info=True)
            return False
        return not busy

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            if self._scrub.is_set():
                self._scrub.clear()
                if not self.checkpoint("TRUNCATE"):
                    self._scrub.set()
            else:
                self.checkpoint()
