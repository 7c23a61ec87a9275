"""The records a hosted domain needs for mail, planned from settings and the relay.

Pure: no I/O. ``plan`` takes what is known about the domain (``MailDomain``) and the
records its zone holds now (only its SPF record is read: ours is merged into it, never
put beside it) and answers every record to publish, each with its role, plus the PTR
checks a zone cannot satisfy (the reverse zone belongs to whoever owns the address).

    MX      <domain>                   10 <mail host>
    A/AAAA  <mail host>                AGENTID_PUBLIC_IP(V6), when the host is in the domain
    TXT     <domain>                   v=spf1 ip4:… ip6:… include:<relay> ~all (merged)
    TXT     <selector>._domainkey.<d>  v=DKIM1; k=rsa; p=… (our key: agentid signs)
    CNAME   <relay's names>            the relay's DKIM records (SES Easy DKIM, SendGrid)
    TXT     _dmarc.<domain>            v=DMARC1; p=none; rua=mailto:dmarc@<domain>
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import dns.reversename

from agentid.config import Settings
from agentid.dns import spf
from agentid.errors import ValidationFailed
from agentid.names import normalize_domain
from agentid.providers.base import DnsRecord

MX_PRIORITY = 10
DEFAULT_TTL = 3600


class Role(StrEnum):
    MX = "mx"
    HOST = "host"  # the mail host's A / AAAA
    SPF = "spf"
    DKIM = "dkim"  # our own key
    RELAY_DKIM = "relay_dkim"  # the relay's CNAMEs
    DMARC = "dmarc"


@dataclass(frozen=True, slots=True)
class MailDomain:
    """What the plan is made from."""

    domain: str  # A-labels, lower case
    mail_host: str
    selector: str
    public_key_b64: str
    public_ip: str | None = None
    public_ipv6: str | None = None
    dmarc_policy: str = "none"
    spf_includes: tuple[str, ...] = ()
    relay_records: tuple[DnsRecord, ...] = ()
    ttl: int = DEFAULT_TTL


@dataclass(frozen=True, slots=True)
class Planned:
    """One record of the plan and what it is for: its ``role`` (mx, spf, dkim, dmarc...)
    is how ``Plan.of`` and the API's answer name it."""

    role: Role
    record: DnsRecord


@dataclass(frozen=True, slots=True)
class PtrCheck:
    """The reverse name of one of the mail host's addresses should point at the host."""

    address: str
    name: str  # 7.113.0.203.in-addr.arpa
    expected: str  # the mail host


@dataclass(frozen=True, slots=True)
class Plan:
    """Every record a domain needs for mail, and the reverse names to check by hand."""

    domain: str
    records: tuple[Planned, ...]
    ptr: tuple[PtrCheck, ...]

    def of(self, role: Role) -> list[DnsRecord]:
        return [p.record for p in self.records if p.role is role]


def mail_domain(
    settings: Settings,
    domain: str,
    selector: str,
    public_key_b64: str,
    *,
    spf_includes: Sequence[str] = (),
    relay_records: Sequence[DnsRecord] = (),
) -> MailDomain:
    """A ``MailDomain`` from settings; ``ValidationFailed`` naming a bad setting."""
    domain = _name(domain, "the domain")
    host = _name(settings.mail_host or f"mx.{domain}", "AGENTID_MAIL_HOST")
    includes = [*spf_includes, *([settings.spf_include] if settings.spf_include else [])]
    return MailDomain(
        domain=domain,
        mail_host=host,
        selector=selector,
        public_key_b64=public_key_b64,
        public_ip=_address(settings.public_ip, 4, "AGENTID_PUBLIC_IP"),
        public_ipv6=_address(settings.public_ipv6, 6, "AGENTID_PUBLIC_IPV6"),
        dmarc_policy=str(settings.dmarc_policy),
        spf_includes=tuple(_name(i, "an SPF include") for i in dict.fromkeys(includes)),
        relay_records=tuple(relay_records),
    )


def plan(mail: MailDomain, existing: Sequence[DnsRecord] = ()) -> Plan:
    """Every record to publish for ``mail``; ``existing`` the zone's records now (its SPF
    record is merged). ``Conflict`` when the merged SPF would exceed 10 lookups."""
    d, ttl = mail.domain, mail.ttl
    out = [Planned(Role.MX, DnsRecord(d, "MX", mail.mail_host, ttl, priority=MX_PRIORITY))]
    if mail.mail_host.endswith("." + d) or mail.mail_host == d:
        for address, kind in ((mail.public_ip, "A"), (mail.public_ipv6, "AAAA")):
            if address:
                out.append(Planned(Role.HOST, DnsRecord(mail.mail_host, kind, address, ttl)))
    out.append(Planned(Role.SPF, DnsRecord(d, "TXT", spf_value(mail, existing), ttl)))
    dkim = f"v=DKIM1; k=rsa; p={mail.public_key_b64}"
    out.append(Planned(Role.DKIM, DnsRecord(f"{mail.selector}._domainkey.{d}", "TXT", dkim, ttl)))
    out += [Planned(Role.RELAY_DKIM, record) for record in mail.relay_records]
    dmarc = f"v=DMARC1; p={mail.dmarc_policy}; rua=mailto:dmarc@{d}"
    out.append(Planned(Role.DMARC, DnsRecord(f"_dmarc.{d}", "TXT", dmarc, ttl)))
    ptr = tuple(
        PtrCheck(ip, dns.reversename.from_address(ip).to_text(omit_final_dot=True), mail.mail_host)
        for ip in (mail.public_ip, mail.public_ipv6)
        if ip
    )
    return Plan(d, tuple(out), ptr)


def our_spf_terms(mail: MailDomain) -> list[str]:
    """What our SPF record says: the mail host's addresses (or ``mx`` when none is
    configured), then the relay's includes."""
    terms = [f"ip4:{mail.public_ip}"] if mail.public_ip else []
    terms += [f"ip6:{mail.public_ipv6}"] if mail.public_ipv6 else []
    return (terms or ["mx"]) + [f"include:{name}" for name in mail.spf_includes]


def spf_value(mail: MailDomain, existing: Sequence[DnsRecord]) -> str:
    found = [
        r.value
        for r in existing
        if r.type.upper() == "TXT" and r.name.lower() == mail.domain and spf.is_spf(r.value)
    ]
    return spf.merge(found, our_spf_terms(mail))


def slot(record: DnsRecord) -> tuple[str, str, str]:
    """Records that compete with each other: same name and type, and for TXT the same
    kind (SPF, DMARC, DKIM); two TXT records of other kinds never compete."""
    kind = ""
    if record.type.upper() == "TXT":
        head = record.value[:8].lower()
        if spf.is_spf(record.value):
            kind = "spf"
        elif head.startswith("v=dmarc1"):
            kind = "dmarc"
        elif head.startswith("v=dkim1"):
            kind = "dkim"
        else:
            kind = "text:" + record.value
    return record.name.lower().removesuffix("."), record.type.upper(), kind


def _name(value: str, what: str) -> str:
    try:
        return normalize_domain(value.strip().removesuffix("."))
    except ValidationFailed:
        raise ValidationFailed(f"{what} is not a valid domain name: {value[:80]!r}") from None


def _address(value: str | None, version: int, setting: str) -> str | None:
    if not value:
        return None
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        address = None
    if address is None or address.version != version:
        raise ValidationFailed(f"{setting} is not an IPv{version} address")
    return str(address)
