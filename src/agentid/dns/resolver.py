"""Asking name servers: ``AGENTID_DNS_NAMESERVERS`` read, a resolver made from it, one
lookup whose failures become reasons.

The rules kept: the resolver has no cache (each question goes to the name servers again)
and one ``timeout`` bounds each whole resolution; a name that does not exist, or has no
record of the type, is an empty answer, not a failure; every other failure (a timeout, no
server answering, a refusal) is a short reason, never an exception, for the caller to show.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

from agentid.errors import ValidationFailed

if TYPE_CHECKING:  # dnspython's resolver is imported by the first lookup, not at start
    import dns.asyncresolver

    import dns.nameserver


def nameservers(setting: str | None) -> list[dns.nameserver.Nameserver] | None:
    """``host[:port]`` (``[v6]:port`` for IPv6) comma-separated; None: the system's."""
    if not setting or not setting.strip():
        return None
    import dns.nameserver

    out: list[dns.nameserver.Nameserver] = []
    for item in (part.strip() for part in setting.split(",")):
        host, port = item, 53
        if item.startswith("["):
            host, _, rest = item[1:].partition("]")
            port = (
                int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else -1 if rest else 53
            )
        elif item.count(":") == 1:
            host, _, text = item.partition(":")
            port = int(text) if text.isdigit() else -1
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ValidationFailed(
                f"AGENTID_DNS_NAMESERVERS: {item[:60]!r} is not an IP address[:port]"
            ) from None
        if not 0 < port < 65536:
            raise ValidationFailed(f"AGENTID_DNS_NAMESERVERS: bad port in {item[:60]!r}")
        out.append(dns.nameserver.Do53Nameserver(host, port))
    return out


def resolver(
    servers: list[dns.nameserver.Nameserver] | None, timeout: float
) -> dns.asyncresolver.Resolver:
    import dns.asyncresolver

    made = dns.asyncresolver.Resolver(configure=servers is None)
    if servers is not None:
        made.nameservers = servers
    made.cache = None
    made.lifetime = timeout
    made.timeout = timeout
    return made


async def lookup(
    res: dns.asyncresolver.Resolver, name: str, rtype: str
) -> tuple[list[str], str | None]:
    """(values found, None), ([], None) when there are none, or ([], the reason)."""
    import dns.exception
    import dns.resolver
    from dns.rdtypes.mxbase import MXBase
    from dns.rdtypes.nsbase import NSBase
    from dns.rdtypes.txtbase import TXTBase

    try:
        answer = await res.resolve(name + ".", rtype, search=False, raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return [], None
    except dns.exception.Timeout:
        return [], "the name servers did not answer in time"
    except dns.resolver.NoNameservers as exc:
        return [], f"no name server answered: {str(exc)[:160]}"
    except dns.exception.DNSException as exc:
        return [], f"{type(exc).__name__}: {str(exc)[:160]}"
    values = []
    for rdata in answer.rrset or []:
        if isinstance(rdata, TXTBase):
            values.append(b"".join(rdata.strings).decode("utf-8", "replace"))
        elif isinstance(rdata, MXBase):
            values.append(
                f"{rdata.preference} {rdata.exchange.to_text(omit_final_dot=True).lower()}"
            )
        elif isinstance(rdata, NSBase):
            values.append(rdata.target.to_text(omit_final_dot=True).lower())
        else:
            values.append(rdata.to_text().lower())
    return values, None
