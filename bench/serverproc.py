"""Start agentid (or a bare aiosmtpd sink) in a child process for a benchmark."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ADMIN = "bench-admin-token-0123456789abcdef"

SINK = """
import asyncio, sys
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP
try:
    import uvloop
except ImportError:
    uvloop = None

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Sink(), hostname="sink", enable_SMTPUTF8=True, data_size_limit=26214400),
        "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    await asyncio.Event().wait()

(uvloop.run if uvloop else asyncio.run)(main())
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmHWM") / 1024


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process and all its descendants (shared pages split)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
        todo.extend(int(c) for c in children)
    return total / 1024


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


class Agentid:
    def __init__(self, data_dir: Path, **env: str) -> None:
        self.http_port, self.smtp_port = free_port(), free_port()
        environ = dict(os.environ)
        environ.update(
            AGENTID_DATA_DIR=str(data_dir),
            AGENTID_HTTP_PORT=str(self.http_port),
            AGENTID_SMTP_PORT=str(self.smtp_port),
            AGENTID_ADMIN_TOKEN=ADMIN,
            AGENTID_SECRET_KEY="bench-secret",
            AGENTID_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "WARNING"),
        )
        environ.update(env)
        self.proc = subprocess.Popen([sys.executable, "-m", "agentid", "serve"], env=environ)
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.http = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=60
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("agentid exited during start")
            try:
                if self.http.get("/healthz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError("agentid did not become healthy")

    def project(self, project_id: str, domain: str) -> None:
        self.http.post("/projects", json={"id": project_id, "domain": domain}).raise_for_status()
        self.http.post(f"/projects/{project_id}/email/provision").raise_for_status()

    def count(self, project_id: str) -> int:
        total, before = 0, None
        while True:
            params: dict[str, str | int] = {"limit": 500}
            if before:
                params["before"] = before
            page = self.http.get(f"/projects/{project_id}/email/inbox", params=params).json()
            total += len(page["messages"])
            before = page["next"]
            if not before:
                return total

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(30)
        self.http.close()


class Sink:
    def __init__(self) -> None:
        self.smtp_port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SINK, str(self.smtp_port)], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        self.proc.stdout.readline()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
