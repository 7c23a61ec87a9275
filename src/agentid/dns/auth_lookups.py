"""DNS for inbound authentication: blocking lookups bound by one deadline per message.

The checks run in threads (dkimpy and pyspf are synchronous libraries), so these are
dnspython's blocking lookups, not the event loop's. Every question of one message's check
goes to the configured name servers (``AGENTID_DNS_NAMESERVERS``, else the system's)
through one shared resolver whose cache keeps answers for their TTL, so a burst of mail
from one sender asks once; whatever is left of the message's deadline is each question's
lifetime. A timeout, a SERVFAIL or no server answering is ``TempFail`` (the verdict says
``temperror``); NXDOMAIN and an empty answer are answers: no record.

A question the cache cannot answer lets the check's ``Gate`` go (``agentid.dns.gate``), so
another check starts while this one waits on the network.
"""

from __future__ import annotations

import time
from typing import Any

import dns.exception
import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.resolver
from dns.rdtypes.txtbase import TXTBase

import dns.nameserver
from agentid.dns.gate import Gate

MIN_LIFETIME = 0.05  # a question asked with less time left than this is not asked
CACHE_ENTRIES = 10_000


class TempFail(Exception):
    """No answer in time (or the name servers failed): the check's result is temperror."""


def shared_resolver(
    servers: list[dns.nameserver.Nameserver] | None,
) -> dns.resolver.Resolver:
    """The resolver every check of this process shares: the configured name servers, a
    bounded TTL-respecting cache, no search list."""
    made = dns.resolver.Resolver(configure=servers is None)
    if servers is not None:
        made.nameservers = servers
    made.cache = dns.resolver.LRUCache(CACHE_ENTRIES)
    return made


def _cached(resolver: dns.resolver.Resolver, name: dns.name.Name, rdtype: str) -> bool:
    """Whether the resolver answers ``name``/``rdtype`` from its cache (as it looks: the
    answer, or an NXDOMAIN for the name)."""
    cache = resolver.cache
    if cache is None:
        return False
    kind = dns.rdatatype.RdataType.make(rdtype)
    return (
        cache.get((name, kind, dns.rdataclass.IN)) is not None
        or cache.get((name, dns.rdatatype.ANY, dns.rdataclass.IN)) is not None
    )


class Lookups:
    """The DNS questions of one message's check, all ending by ``deadline`` (monotonic).
    With a ``gate``, a question the cache cannot answer lets it go."""

    def __init__(
        self, resolver: dns.resolver.Resolver, deadline: float, gate: Gate | None = None
    ) -> None:
        self._resolver = resolver
        self.deadline = deadline
        self._gate = gate
        self.asked = 0

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def answer(self, name: str, rdtype: str) -> dns.resolver.Answer | None:
        """The answer for ``name``/``rdtype``, or None when there is no such record."""
        left = self.remaining()
        if left < MIN_LIFETIME:
            raise TempFail("the check ran out of time")
        self.asked += 1
        try:
            qname = dns.name.from_text(name)
            gate = self._gate
            if gate is not None and gate.holding() and not _cached(self._resolver, qname, rdtype):
                gate.leave()
            found = self._resolver.resolve(
                qname, rdtype, search=False, lifetime=left, raise_on_no_answer=False
            )
        except dns.resolver.NXDOMAIN:
            return None
        except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
            raise TempFail(f"{type(exc).__name__}: {str(exc)[:160]}") from None
        except dns.exception.DNSException as exc:  # a malformed name: no such record
            if isinstance(exc, dns.name.NameTooLong | dns.name.EmptyLabel | dns.name.LabelTooLong):
                return None
            raise TempFail(f"{type(exc).__name__}: {str(exc)[:160]}") from None
        return found if found.rrset is not None else None

    def txt(self, name: str) -> list[str]:
        """The TXT records at ``name``, each one's strings joined (decoded leniently)."""
        found = self.answer(name, "TXT")
        if found is None:
            return []
        return [
            b"".join(rd.strings).decode("utf-8", "replace")
            for rd in found
            if isinstance(rd, TXTBase)
        ]

    def dkim_key(self, name: bytes, timeout: float = 5) -> bytes | None:
        """dkimpy's ``dnsfunc``: the key record at ``name`` (the first TXT), or None."""
        del timeout  # the deadline bounds it instead
        found = self.answer(name.decode("ascii", "replace"), "TXT")
        if found is None:
            return None
        for rd in found:
            if isinstance(rd, TXTBase):
                return b"".join(rd.strings)
        return None

    def spf(self, name: str, qtype: str, strict: Any = True, timeout: Any = None) -> list[Any]:
        """pyspf's ``DNSLookup`` contract: ((name, type), value) for every record of the
        answer, CNAMEs included, as its own dnspython lookup returns them."""
        del strict, timeout
        if qtype not in ("A", "AAAA", "MX", "PTR", "TXT"):
            return []  # the SPF type (99) is obsolete: never asked
        found = self.answer(name, qtype)
        if found is None:
            return []
        out: list[Any] = []
        for rrset in found.response.answer:
            owner = rrset.name.to_text(omit_final_dot=True)
            for rd in rrset:
                if rrset.rdtype == dns.rdatatype.CNAME:
                    out.append(((owner, "CNAME"), rd.target.to_text(omit_final_dot=True)))
                elif qtype in ("A", "AAAA") and rrset.rdtype == found.rdtype:
                    out.append(((owner, qtype), rd.address))
                elif qtype == "MX" and rrset.rdtype == found.rdtype:
                    out.append(((owner, qtype), (rd.preference, rd.exchange)))
                elif qtype == "PTR" and rrset.rdtype == found.rdtype:
                    out.append(((owner, qtype), rd.target.to_text(omit_final_dot=True)))
                elif qtype == "TXT" and rrset.rdtype == found.rdtype:
                    out.append(((owner, qtype), list(rd.strings)))
        return out
