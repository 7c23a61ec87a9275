"""A record checked by dnspython and written as zone-file text.

The rule kept here: a record leaves agentid only in the canonical form dnspython gives it
(a TXT value quoted, in strings of at most 255 bytes, bytes outside printable ASCII as
``\\DDD``; an MX with its priority; targets absolute), so every provider writes the same
data, and reading it back gives the record that was written. Names are A-labels, lower
case; anything else is ``ProviderRejected`` saying what is wrong, before anything is sent.
"""

from __future__ import annotations

import re

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
from dns.rdtypes.mxbase import MXBase
from dns.rdtypes.nsbase import NSBase
from dns.rdtypes.txtbase import TXTBase

from agentid.errors import ProviderRejected
from agentid.providers.base import DnsRecord

TXT_STRING_BYTES = 255
MAX_TTL = 2**31 - 1
_LABEL = re.compile(r"^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)$")
TARGETS = frozenset({"CNAME", "NS", "PTR", "DNAME"})


def zone_name(zone: str) -> str:
    """``zone`` lower case without the final dot, or ProviderRejected."""
    name = zone.strip().lower().removesuffix(".")
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 1 or not all(_LABEL.match(label) for label in labels):
        raise ProviderRejected(f"{zone[:80]!r} is not a zone name (A-labels, e.g. acme.test)")
    return name


def canonical(record: DnsRecord, zone: str) -> DnsRecord:
    """The record as it will read back, or ProviderRejected saying what is wrong with it."""
    name = record.name.strip().lower().removesuffix(".")
    rtype = record.type.strip().upper()
    where = f"{rtype} record for {name[:80]}"
    if name != zone and not name.endswith("." + zone):
        raise ProviderRejected(f"{where}: not in zone {zone}")
    labels = name.split(".")
    if not all(_LABEL.match(label) or (label == "*" and i == 0) for i, label in enumerate(labels)):
        raise ProviderRejected(f"{where}: not a valid owner name")
    if not 0 <= record.ttl <= MAX_TTL:
        raise ProviderRejected(f"{where}: ttl out of range")
    if (rtype == "MX") != (record.priority is not None):
        raise ProviderRejected(f"{where}: a priority is given with MX records, and only them")
    try:
        rdata = parse(rtype, record)
    except (dns.exception.DNSException, ValueError) as exc:
        raise ProviderRejected(f"{where}: {exc}") from None
    out = from_rdata(name, rdata, record.ttl)
    return DnsRecord(out.name, out.type, out.value, out.ttl, out.priority, id=record.id)


def parse(rtype: str, record: DnsRecord) -> dns.rdata.Rdata:
    rdtype = dns.rdatatype.from_text(rtype)
    return dns.rdata.from_text(
        dns.rdataclass.IN, rdtype, rdata_text(rtype, record), relativize=False
    )


def rdata_text(rtype: str, record: DnsRecord) -> str:
    """The record's data in zone-file syntax (what follows the type on a zone line)."""
    value = record.value.strip()
    if rtype == "TXT":
        return " ".join(quoted(chunk) for chunk in txt_strings(record.value))
    if any(not ch.isprintable() for ch in value):
        raise ValueError("control characters in the value")
    if rtype == "MX":
        return f"{record.priority} {absolute(value)}"
    if rtype in TARGETS:
        return absolute(value)
    return value


def txt_strings(text: str) -> list[bytes]:
    """A TXT value as the <character-string>s that carry it: UTF-8, 255 bytes each."""
    data = text.encode("utf-8")
    return [data[i : i + TXT_STRING_BYTES] for i in range(0, len(data), TXT_STRING_BYTES)] or [b""]


def absolute(target: str) -> str:
    return target if target.endswith(".") else target + "."


def quoted(chunk: bytes) -> str:
    """A <character-string> in zone file syntax: printable ASCII as is, the rest \\DDD."""
    out = []
    for byte in chunk:
        if byte in (0x22, 0x5C):  # " and \
            out.append("\\" + chr(byte))
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def from_rdata(name: str, rdata: dns.rdata.Rdata, ttl: int) -> DnsRecord:
    """The record dnspython parsed, in agentid's shape (TXT strings joined)."""
    rtype = dns.rdatatype.to_text(rdata.rdtype)
    priority = None
    if rtype == "TXT" and isinstance(rdata, TXTBase):
        value = b"".join(rdata.strings).decode("utf-8", "replace")
    elif rtype == "MX" and isinstance(rdata, MXBase):
        priority, value = int(rdata.preference), target(rdata.exchange)
    elif rtype in TARGETS and isinstance(rdata, NSBase):
        value = target(rdata.target)
    else:
        value = rdata.to_text()
    return DnsRecord(name=name, type=rtype, value=value, ttl=ttl, priority=priority)


def target(name: dns.name.Name) -> str:
    return "." if name == dns.name.root else name.to_text(omit_final_dot=True).lower()


def zone_line(record: DnsRecord, owner: str) -> str:
    """One zone-file line: owner, TTL, class, type, the canonical data."""
    data = parse(record.type, record).to_text()
    return f"{owner}\t{record.ttl}\tIN\t{record.type}\t{data}"
