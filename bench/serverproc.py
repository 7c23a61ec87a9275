"""Start agentid, a bare aiosmtpd sink or a private Postfix instance for a benchmark."""

from __future__ import annotations

import os
import shutil
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
    """Proportional set size of a process and all its descendants (shared pages split);
    children started from any of a process's threads count."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            rollup = Path(f"/proc/{current}/smaps_rollup").read_text()
            children = [
                int(child)
                for task in Path(f"/proc/{current}/task").iterdir()
                for child in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        total += next(
            int(line.split()[1]) for line in rollup.splitlines() if line.startswith("Pss:")
        )
        todo.extend(children)
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


POSTFIX_TEMPLATE = Path(__file__).resolve().parent / "postfix"
POSTFIX_FILES = ("main.cf", "master.cf", "vmailbox")
# vmailbox delivers all of bench.test to this Maildir under virtual_mailbox_base.
POSTFIX_MAILDIR = "bench"
# postfix, postconf and smtp-source live in sbin, often not on a user's PATH.
POSTFIX_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/local/sbin"])


def postfix_missing() -> str | None:
    """Why a private Postfix cannot run here, or None when it can."""
    if shutil.which("postfix", path=POSTFIX_PATH) is None:
        return "postfix is not installed (make bench-tools)"
    if os.geteuid() != 0:
        return "starting Postfix needs root"
    return None


class Postfix:
    """A private Postfix instance built from bench/postfix/, all of it under ``root``.

    Own config, queue and data directories, its own loopback port and log, so a system
    Postfix (if any) is left alone. Mail for bench.test lands in ``self.maildir_new``.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.config = root / "etc"
        self.smtp_port = free_port()
        root.chmod(0o755)  # the daemons (mail_owner, virtual_uid_maps user) pass through it
        self.config.mkdir(mode=0o755)
        for name in POSTFIX_FILES:
            shutil.copyfile(POSTFIX_TEMPLATE / name, self.config / name)
        listener = next(
            fields[0]
            for fields in (line.split() for line in self._postconf("-M").splitlines())
            if fields[1:2] == ["inet"] and fields[-1] == "smtpd"
        )
        self._postconf("-F", f"{listener}/inet/service=127.0.0.1:{self.smtp_port}")
        # postfix start creates the rest of the queue; virtual(8) creates the Maildir.
        self.queue = Path(self._param("queue_directory")).resolve()
        self.queue.mkdir(mode=0o755)
        base = Path(self._param("virtual_mailbox_base")).resolve()
        base.mkdir(mode=0o755)
        uid = int(self._param("virtual_uid_maps").removeprefix("static:"))
        gid = int(self._param("virtual_gid_maps").removeprefix("static:"))
        os.chown(base, uid, gid)
        self.maildir_new = base / POSTFIX_MAILDIR / "new"
        self.maillog = Path(self._param("maillog_file")).resolve()
        self._postfix("start")
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.smtp_port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"postfix is not listening; see {self.maillog}") from None
                time.sleep(0.05)

    def delivered(self) -> int:
        """Messages in the Maildir's new/ (virtual(8) renames them there from tmp/)."""
        try:
            return len(os.listdir(self.maildir_new))
        except FileNotFoundError:
            return 0

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.maillog.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        """postfix stop: master and its daemons exit; waits until master is gone."""
        pid_file = self.queue / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        self._postfix("stop", check=False)
        deadline = time.monotonic() + 10
        while pid is not None and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid is not None and _alive(pid):
            raise RuntimeError(f"postfix master {pid} did not stop; see {self.maillog}")

    def _postfix(self, command: str, check: bool = True) -> None:
        tool = shutil.which("postfix", path=POSTFIX_PATH) or "postfix"
        done = subprocess.run(
            [tool, "-c", str(self.config), command], capture_output=True, text=True
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"postfix {command} failed ({done.returncode}):\n{self.log_tail()}"
                f"\n{done.stderr.strip()}"
            )

    def _postconf(self, *args: str) -> str:
        tool = shutil.which("postconf", path=POSTFIX_PATH) or "postconf"
        return subprocess.run(
            [tool, "-c", str(self.config), *args], capture_output=True, text=True, check=True
        ).stdout

    def _param(self, name: str) -> str:
        """A main.cf parameter with $names expanded."""
        return self._postconf("-xh", name).strip()


def _alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie (the daemonized master is not our child)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"
