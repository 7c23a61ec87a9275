"""Where a webhook may post: an http(s) URL with a host, and only to public addresses.

Nobody may use a webhook to make agentid reach what only agentid can reach (server-side
request forgery): loopback, private networks (IPv6 unique-local included), link-local,
cloud metadata services, multicast, reserved and unspecified addresses are refused, and
so is an IPv6 address carrying one of those inside it (IPv4-mapped, 6to4, Teredo, NAT64).
A URL naming such an address literally is refused when the webhook is registered; a host
name is resolved at every delivery, every address it resolves to is checked, and the POST
goes to the address that was checked (``delivery.py``), so a name that changes its answer
between the check and the connection (DNS rebinding) gains nothing.
``AGENTID_WEBHOOK_ALLOW_PRIVATE=1`` lifts the address rule (tests, a private network).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from agentid.errors import ValidationFailed
from agentid.names import a_label

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_CHARS = 2048
ALLOW_SETTING = "AGENTID_WEBHOOK_ALLOW_PRIVATE=1"
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192")
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(Exception):
    """The target resolves to an address agentid does not post to."""


@dataclass(frozen=True, slots=True)
class Target:
    """A webhook URL taken apart: what to connect to, and what to call it."""

    scheme: str  # http or https
    host: str  # a lower-case A-label name, or an IP address (IPv6 without brackets)
    port: int
    path: str  # path and query, at least "/"
    literal: Address | None  # the host when it is an address

    def host_header(self) -> str:
        """The ``Host`` header (and what TLS checks the certificate against)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == _DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"

    def at(self, address: Address) -> str:
        """The URL with ``address`` in place of the host: where the POST connects."""
        shown = f"[{address}]" if address.version == 6 else str(address)
        return f"{self.scheme}://{shown}:{self.port}{self.path}"


def why_refused(address: Address) -> str | None:
    """What kind of address this is when agentid must not post to it; None for a public one."""
    if isinstance(address, ipaddress.IPv6Address):
        inside = _embedded(address)
        if inside is not None and (why := why_refused(inside)) is not None:
            return f"{why} inside an IPv6 address"
    if address in METADATA:
        return "a cloud metadata address"
    checks = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
        (not address.is_global, "not a public address"),
    )
    return next((why for refused, why in checks if refused), None)


def _embedded(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo client, NAT64)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _numeric(host: str) -> Address | None:
    """``host`` as an address when it is one in any form the system takes (``127.1``,
    ``2130706433``, ``0x7f.1``), without asking DNS."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError, ValueError):
        return None
    return ipaddress.ip_address(str(found[0][4][0]).partition("%")[0])


def parse(url: str) -> Target:
    """A webhook URL: ``http(s)://host[:port][/path][?query]``; ``ValidationFailed`` saying
    what is wrong otherwise."""
    if len(url) > MAX_URL_CHARS:
        raise ValidationFailed(f"a webhook URL is at most {MAX_URL_CHARS} characters")
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise ValidationFailed("a webhook URL holds no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValidationFailed("not a valid URL (a bad port or host)") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValidationFailed("a webhook URL starts with http:// or https://")
    if "@" in parts.netloc:
        raise ValidationFailed("a webhook URL carries no user:password@ (it is shown in lists)")
    if parts.fragment or url.endswith("#"):
        raise ValidationFailed("a webhook URL takes no #fragment")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValidationFailed("a webhook URL needs a host")
    if port == 0:
        raise ValidationFailed("the port must be a number from 1 to 65535")
    literal = _numeric(host)
    if literal is None:
        try:
            host = a_label(host)
        except UnicodeError:
            raise ValidationFailed("the webhook URL's host is not a valid name") from None
        if len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
            raise ValidationFailed("the webhook URL's host is not a valid name")
    path = parts.path or "/"
    return Target(
        scheme=scheme,
        host=str(literal) if literal is not None else host,
        port=port or _DEFAULT_PORTS[scheme],
        path=f"{path}?{parts.query}" if parts.query else path,
        literal=literal,
    )


def check_literal(target: Target, allow_private: bool) -> None:
    """At registration: a URL naming a refused address is refused (422)."""
    if allow_private or target.literal is None:
        return
    if (why := why_refused(target.literal)) is not None:
        raise ValidationFailed(
            f"the webhook URL points at {target.literal}, {why}: agentid posts only to"
            f" public addresses ({ALLOW_SETTING} allows others)"
        )


async def resolve(target: Target) -> list[Address]:
    """Every address the host resolves to, in the system's order of preference (the
    caller bounds the time); ``OSError`` when it resolves to none."""
    if target.literal is not None:
        return [target.literal]
    found = await asyncio.get_running_loop().getaddrinfo(
        target.host, target.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    addresses: list[Address] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).partition("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"{target.host} resolves to no address")
    return addresses


async def checked_addresses(target: Target, allow_private: bool) -> list[Address]:
    """The addresses to post to, in order: the host resolved now, and every address it
    resolves to checked (``Refused`` when one is not public)."""
    addresses = await resolve(target)
    if not allow_private:
        for address in addresses:
            if (why := why_refused(address)) is not None:
                raise Refused(
                    f"{target.host} resolves to {address}, {why}: refused ({ALLOW_SETTING}"
                    " allows it)"
                )
    return addresses
