"""``agentid serve`` as a real process, for tests that signal or kill it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import ADMIN
from tests.conftest import PG_URL
from tests.ports import free_port
from tests.service import HOST

# ``python -m agentid`` with this process's environment: the child imports the same
# agentid as the tests (PYTHONPATH included), whichever one the venv installed.
AGENTID = [sys.executable, "-m", "agentid"]


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    url: str
    smtp_port: int
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


async def serve(data_dir: Path, schema: str | None, log: Path, **env: str) -> Process:
    """``agentid serve`` on ``data_dir`` (or PostgreSQL ``schema``), healthy; ``env`` adds
    ``AGENTID_*`` variables. Free ports are picked before the server binds them, so another
    process may take one first: then it starts again on others (at most three times)."""
    for _ in range(2):
        with contextlib.suppress(PortTaken):
            return await _serve(data_dir, schema, log, env)
    return await _serve(data_dir, schema, log, env)


class PortTaken(Exception):
    pass


async def _serve(data_dir: Path, schema: str | None, log: Path, env: dict[str, str]) -> Process:
    http_port, smtp_port = free_port(), free_port()
    logged = log.stat().st_size if log.exists() else 0
    env = {
        **os.environ,
        "AGENTID_ADMIN_TOKEN": ADMIN,
        "AGENTID_SECRET_KEY": "test-secret-key",
        "AGENTID_LOG_LEVEL": "WARNING",
        "AGENTID_SHUTDOWN_GRACE_SECONDS": "2",
        **env,
    }
    if schema is not None:
        env.update(AGENTID_DATABASE_URL=PG_URL, AGENTID_DATABASE_SCHEMA=schema)
    command = [*AGENTID, "serve", "--data-dir", str(data_dir), "--host", HOST]
    command += ["--http-port", str(http_port), "--smtp-port", str(smtp_port)]
    with log.open("ab") as out:
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    process = Process(proc, f"http://{HOST}:{http_port}", smtp_port, log)
    deadline = time.monotonic() + 30
    async with httpx.AsyncClient() as http:
        while True:
            if proc.poll() is not None:
                if b"address already in use" in log.read_bytes()[logged:]:
                    raise PortTaken
                raise AssertionError(f"agentid serve exited early:\n{process.output()}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(f"{process.url}/healthz", timeout=2)).status_code == 200:
                    return process
            assert time.monotonic() < deadline, f"agentid serve not healthy:\n{process.output()}"
            await asyncio.sleep(0.1)


def end_group(process: Process) -> None:
    """Whatever the server left behind (parse worker processes) goes with it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.proc.wait(5)


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (from any of its threads) that are still running."""
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        return [int(c) for t in tasks for c in (t / "children").read_text().split()]
    except OSError:  # it ended meanwhile
        return []


def tree_pss_mb(pid: int) -> float:
    """PSS of a process and all its descendants (as bench/rss.py measures it)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
        except OSError:  # it ended meanwhile
            continue
        total += next(int(line.split()[1]) for line in rollup.splitlines() if line[:4] == "Pss:")
        todo.extend(children(current))
    return total / 1024
