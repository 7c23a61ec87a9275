"""The client an edge MTA saw: behind Postfix (or docker-mailserver), agentid's SMTP or
LMTP peer is the edge itself, so SPF must take the IP and HELO from the top ``Received``
header that edge added, and only when the peer is one of ``AGENTID_TRUSTED_RELAYS``:
anyone else could write whatever ``Received`` header they like.

The header is read in Postfix's form, ``from HELO (rdns [IP])`` (``[IPv6:...]`` and a
``:port`` suffix allowed). A trusted relay whose top header does not read so gives no
client at all: SPF is then ``none``, never a verdict on the relay's own address.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from ipaddress import IPv4Network
from ipaddress import IPv6Network

Network = IPv4Network | IPv6Network

_FROM = re.compile(
    r"from\s+(?P<helo>[^\s()]{1,255})\s+\([^()\[\]]{0,300}\[(?:IPv6:)?(?P<ip>[0-9A-Fa-f:.]{2,45})\]",
    re.IGNORECASE,
)
_HEADER_LIMIT = 256 * 1024  # where the header block is looked for the top Received field


def trusted(peer: str | None, networks: Sequence[Network]) -> bool:
    if peer is None or not networks:
        return False
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in net for net in networks)


def top_received(raw: bytes) -> str | None:
    """The first ``Received`` field of the header block, unfolded."""
    head = raw[:_HEADER_LIMIT]
    end = head.find(b"\r\n\r\n")
    lines = (head if end < 0 else head[:end]).split(b"\r\n")
    for n, line in enumerate(lines):
        if line[:9].lower() != b"received:":
            continue
        parts = [line[9:]]
        for more in lines[n + 1 :]:
            if more[:1] not in (b" ", b"\t"):
                break
            parts.append(more)
        return b" ".join(p.strip() for p in parts).decode("utf-8", "replace")
    return None


def client(
    peer: str | None, helo: str | None, raw: bytes, networks: Sequence[Network]
) -> tuple[str | None, str | None]:
    """(IP, HELO) of the host SPF judges: the peer's own, or, when the peer is a trusted
    relay, the ones its top ``Received`` header names (None, None if it names none)."""
    if not trusted(peer, networks):
        return peer, helo
    value = top_received(raw)
    found = _FROM.match(value.strip()) if value else None
    if found is None:
        return None, None
    try:
        ip = str(ipaddress.ip_address(found["ip"]))
    except ValueError:
        return None, None
    return ip, found["helo"]
