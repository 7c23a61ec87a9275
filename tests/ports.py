"""Free loopback ports for servers a test starts (agentid, NSD, sinks), picked below the
kernel's ephemeral range: a port the OS hands out itself (``bind(0)``, every outgoing
connection's local port) can be taken by one of the suite's own connections between the
pick and the server's bind, which failed a run ("Address already in use"). Each port is
checked free for TCP and UDP alike (NSD binds both) and is not handed out twice."""

from __future__ import annotations

import random
import socket
from pathlib import Path

HOST = "127.0.0.1"
_issued: set[int] = set()


def free_port() -> int:
    low = _ephemeral_low()
    for _ in range(500):
        port = random.randrange(max(1024, low - 12_000), low)
        if port in _issued:
            continue
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
            socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp,
        ):
            try:
                udp.bind((HOST, port))
                tcp.bind((HOST, port))
            except OSError:
                continue
        _issued.add(port)
        return port
    raise RuntimeError("no free port below the ephemeral range")


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default
