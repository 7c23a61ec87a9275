"""A real authoritative name server on loopback for verify tests: NSD (Debian's ``nsd``,
installed by ``make test``'s prerequisites), started with the zones a test writes, on a
free port, in the test's own directory; stopped (its process only) afterwards.
Without NSD the test skips with the reason, unless ``AGENTID_REQUIRE_EXTERNAL=1`` (CI)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.message
import dns.query

from tests.external import unavailable
from tests.ports import free_port

HOST = "127.0.0.1"
NSD = shutil.which("nsd") or ("/usr/sbin/nsd" if Path("/usr/sbin/nsd").exists() else None)
SOA = (
    "$TTL 300\n@ IN SOA ns1.{zone}. hostmaster.{zone}. 1 3600 600 86400 300\n@ IN NS ns1.{zone}.\n"
)


def require_nsd() -> str:
    if NSD is None:
        unavailable("NSD (Debian package nsd) is not installed: make test installs it")
    return NSD


def free_udp_port() -> int:
    """A port free for UDP and TCP both, as NSD binds both (``tests.ports``)."""
    return free_port()


def write_zone(directory: Path, zone: str, body: str) -> None:
    """A whole zone: SOA and NS, then ``body`` (zone-file lines, or an ``$INCLUDE``)."""
    (directory / f"{zone}.zone").write_text(f"$ORIGIN {zone}.\n" + SOA.format(zone=zone) + body)


@contextlib.contextmanager
def nsd(directory: Path, zones: list[str], port: int | None = None) -> Iterator[int]:
    """NSD serving ``zones`` (``<zone>.zone`` files in ``directory``) on ``port`` (else
    one the OS picked: picked again, up to three times, when another process took it
    before NSD bound it); its UDP/TCP port."""
    for attempt in range(3):
        proc, chosen = _start_nsd(directory, zones, port or free_udp_port())
        try:
            if _answering(proc, directory, zones[0], chosen, retry=port is None and attempt < 2):
                yield chosen
                return
        finally:
            _end(proc)


def _start_nsd(directory: Path, zones: list[str], port: int) -> tuple[subprocess.Popen[bytes], int]:
    binary = require_nsd()
    conf = directory / "nsd.conf"
    server = (
        f'server:\n  ip-address: {HOST}@{port}\n  port: {port}\n  username: ""\n'
        f'  chroot: ""\n  zonesdir: "{directory}"\n  pidfile: "{directory}/nsd.pid"\n'
        f'  xfrdfile: "{directory}/xfrd.state"\n  zonelistfile: "{directory}/zone.list"\n'
        f'  database: ""\n  logfile: "{directory}/nsd.log"\n  server-count: 1\n'
        "  do-ip6: no\n  verbosity: 1\nremote-control:\n  control-enable: no\n"
    )
    conf.write_text(server + "".join(f"zone:\n  name: {z}\n  zonefile: {z}.zone\n" for z in zones))
    proc = subprocess.Popen(
        [binary, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    return proc, port


def _answering(
    proc: subprocess.Popen[bytes], directory: Path, zone: str, port: int, *, retry: bool
) -> bool:
    """Whether NSD answers on ``port``; False when it could not bind it and ``retry``."""
    deadline = time.monotonic() + 15
    query = dns.message.make_query(zone + ".", "SOA")
    while True:
        if proc.poll() is not None:
            log = (directory / "nsd.log").read_text(errors="replace")
            if retry and "Address already in use" in log:
                return False
            raise AssertionError(log[-2000:])
        try:
            if dns.query.udp(query, HOST, port=port, timeout=0.2).answer:
                return True
        except (dns.exception.Timeout, OSError):
            pass
        assert time.monotonic() < deadline, "NSD did not answer"
        time.sleep(0.05)


def _end(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
