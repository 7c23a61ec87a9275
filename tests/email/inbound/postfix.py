"""A real Postfix (Debian's ``postfix``, with ``postfix-pgsql``; ``make test`` installs
them) in front of agentid, run from deploy/postfix/ in a directory of the test's own:
``postfix -c DIR`` with its own queue, log and loopback port, and retry timers shortened
so requeued mail comes back within seconds. Only where the instance lives, its ports and
its timers differ from the deployed files; the agentid block is ``agentid
postfix-config``'s. The tests run as root, whom Postfix lets name any ``-c DIR``, so the
system's main.cf (which the test machine need not even have) gets no
``alternate_config_directories`` entry: that list only matters for other users'
set-gid commands (postqueue, postdrop). Without Postfix the test skips with the reason, unless
``AGENTID_REQUIRE_EXTERNAL=1`` (CI), when it fails."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from agentid.email.inbound.postfix import Setup
from agentid.email.inbound.postfix import main_cf
from agentid.email.inbound.postfix import map_files
from tests.external import unavailable

HOST = "127.0.0.1"
DEPLOY = Path(__file__).resolve().parents[3] / "deploy" / "postfix"
SBIN = "/usr/sbin:/usr/bin:/sbin:/bin"
POSTFIX = shutil.which("postfix", path=SBIN)
# Where the instance lives, and its timers: what differs from deploy/postfix/main.cf.
INSTANCE = {
    "queue_directory": "$config_directory/../queue",
    "data_directory": "$config_directory/../data",
    "maillog_file": "$config_directory/../maillog",
    "maillog_file_prefixes": "$config_directory/..",
    "multi_instance_enable": "no",
    "multi_instance_directories": "",
    "myhostname": "mx.edge.test",
    "mydomain": "edge.test",
    "inet_interfaces": HOST,
    "inet_protocols": "ipv4",
    "smtp_dns_support_level": "disabled",
    "lmtp_dns_support_level": "disabled",
    "smtpd_tls_security_level": "none",
    # the tests' loopback client is any sender on the internet, not a trusted network
    "mynetworks": "192.0.2.1/32",
    "default_transport": "error:5.7.1 this test instance sends no mail",
    # requeued mail comes back fast: the tests kill agentid processes under it
    "queue_run_delay": "1s",
    "minimal_backoff_time": "1s",
    "maximal_backoff_time": "2s",
    "lmtp_connect_timeout": "2s",
    "lmtp_data_done_timeout": "20s",
}


def require_postfix(*, pgsql: bool = False) -> str:
    reason = None
    if POSTFIX is None:
        reason = "Postfix (Debian package postfix) is not installed: make test installs it"
    elif pgsql and "pgsql" not in _run(["postconf", "-c", str(DEPLOY), "-m"], check=False):
        reason = "Postfix's pgsql tables (Debian package postfix-pgsql) are not installed"
    if reason is not None:
        unavailable(reason)
    assert POSTFIX is not None
    return POSTFIX


def _run(command: list[str], *, check: bool = True) -> str:
    tool = shutil.which(command[0], path=SBIN) or command[0]
    done = subprocess.run([tool, *command[1:]], capture_output=True, text=True)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
    return done.stdout


def settings_of(text: str) -> dict[str, str]:
    """``name = value`` lines of a main.cf fragment."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            found[name.strip()] = value.strip()
    return found


class EdgeMTA:
    """A private Postfix from deploy/postfix/, configured for ``setup``, all under its own
    temporary directory."""

    def __init__(self, setup: Setup) -> None:
        require_postfix(pgsql=setup.lookup == "pgsql")
        # Not under pytest's 0700 temporary directories: the daemons (user postfix) must
        # pass through every parent. Removed by ``stop``.
        root = Path(tempfile.mkdtemp(prefix="agentid-postfix-"))
        self.root = root
        self.config = root / "etc"
        self.smtp_port = _free_port()
        root.chmod(0o755)
        self.config.mkdir(mode=0o755)
        for name in ("main.cf", "master.cf"):
            shutil.copyfile(DEPLOY / name, self.config / name)
        for name, text in map_files(setup).items():
            (self.config / name).write_text(text)
        wanted = {**INSTANCE, **settings_of(main_cf(setup))}
        self.postconf("-e", *(f"{name}={value}" for name, value in wanted.items()))
        self.postconf("-F", f"smtp/inet/service={HOST}:{self.smtp_port}")
        (root / "queue").mkdir(mode=0o755)
        self.maillog = root / "maillog"
        self.postfix("start")
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((HOST, self.smtp_port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"postfix is not listening:\n{self.log()}") from None
                time.sleep(0.05)

    def postconf(self, *args: str) -> str:
        return _run(["postconf", "-c", str(self.config), *args])

    def postfix(self, command: str) -> None:
        _run(["postfix", "-c", str(self.config), command])

    def queued(self) -> list[dict[str, object]]:
        """What the queue holds (postqueue -j: one JSON object per message)."""
        out = _run(["postqueue", "-c", str(self.config), "-j"])
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def lookup(self, key: str, table: str) -> bool:
        """Whether Postfix itself finds ``key`` in ``table`` (postmap -q)."""
        tool = shutil.which("postmap", path=SBIN) or "postmap"
        done = subprocess.run(
            [tool, "-c", str(self.config), "-q", key, table], capture_output=True, text=True
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(f"postmap -q {key} {table}: {done.stderr.strip()}")
        return done.returncode == 0

    def flush(self) -> None:
        """Try every deferred message now."""
        _run(["postqueue", "-c", str(self.config), "-f"])

    def log(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.maillog.read_text().splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        pid_file = self.root / "queue" / "pid" / "master.pid"
        try:
            pid = int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            pid = None
        _run(["postfix", "-c", str(self.config), "stop"], check=False)
        deadline = time.monotonic() + 10
        while pid is not None and _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])
