"""`agentid serve` configured by AGENTID_* variables (or flags, which win), on a first start:
it generates the operator token into the data dir (0600), says where, and serves on the
ports it was given."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.ports import free_port

AGENTID = Path(sys.executable).parent / "agentid"


def test_first_start_from_environment(tmp_path: Path) -> None:
    start(tmp_path, flags=False)


def test_flags_override_environment(tmp_path: Path) -> None:
    start(tmp_path, flags=True)


def start(tmp_path: Path, *, flags: bool) -> None:
    data_dir, http_port, smtp_port = tmp_path / "state", free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTID_")}
    values = {"data-dir": str(data_dir), "host": "127.0.0.1"}
    values |= {"http-port": str(http_port), "smtp-port": str(smtp_port)}
    command = [str(AGENTID), "serve"]
    for name, value in values.items():
        variable = "AGENTID_" + name.upper().replace("-", "_")
        if flags:  # the environment names elsewhere; the flags win
            env[variable] = str(tmp_path / "elsewhere") if name == "data-dir" else "1"
            command += [f"--{name}", value]
        else:
            env[variable] = value
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        token_file = data_dir / "admin-token"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((data_dir / "secret-key").stat().st_mode) == 0o600
        assert str(token_file) in log.read_text()  # says where the token is
        token = token_file.read_text().strip()
        assert token not in log.read_text()  # and never prints it
        headers = {"Authorization": f"Bearer {token}"}
        r = httpx.get(f"http://127.0.0.1:{http_port}/projects", headers=headers)
        assert r.status_code == 200, r.text
        with socket.create_connection(("127.0.0.1", smtp_port), timeout=5) as smtp:
            assert smtp.recv(100).startswith(b"220 ")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0, log.read_text()
