"""Does the world see the plan? Each planned record (and the PTR checks) resolved again.

Each call asks the configured nameservers (``AGENTID_DNS_NAMESERVERS``, else the system's)
afresh through ``dns.asyncresolver`` with no cache, so the answer is what DNS says now.
A record is ``ok`` when what resolves holds it (MX, A/AAAA, CNAME), or for TXT when the
one record of its kind is right: one SPF record holding every term of ours, a DKIM record
whose ``p=`` is our public key, one DMARC record; ``missing`` when nothing of its kind is
there; ``wrong`` with what was found; ``error`` with the resolver's reason (a timeout, a
refusal). The domain is ``verified`` when its MX, SPF and DKIM records are ok.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver
from dns.rdtypes.mxbase import MXBase
from dns.rdtypes.nsbase import NSBase
from dns.rdtypes.txtbase import TXTBase

import dns.nameserver
from agentid.dns import spf
from agentid.dns.plan import MailDomain, Plan, Role, our_spf_terms, slot
from agentid.errors import ValidationFailed
from agentid.providers.base import DnsRecord

VERIFIED_ROLES = (Role.MX, Role.SPF, Role.DKIM)


@dataclass(frozen=True, slots=True)
class Checked:
    role: str  # a Role, or "ptr"
    type: str
    name: str
    expected: str
    found: tuple[str, ...]
    status: str  # ok | missing | wrong | error
    reason: str | None = None


def nameservers(setting: str | None) -> list[dns.nameserver.Nameserver] | None:
    """``host[:port]`` (``[v6]:port`` for IPv6) comma-separated; None: the system's."""
    if not setting or not setting.strip():
        return None
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


def _expected(role: Role, rtype: str, value: str, priority: int | None) -> str:
    return f"{priority} {value}" if rtype == "MX" else value


async def verify(plan: Plan, mail: MailDomain, res: dns.asyncresolver.Resolver) -> list[Checked]:
    """Every planned record and PTR check, asked at once (one timeout bounds them all)."""
    asked = [lookup(res, p.record.name, p.record.type) for p in plan.records]
    asked += [lookup(res, check.name, "PTR") for check in plan.ptr]
    answers = await asyncio.gather(*asked)
    out: list[Checked] = []
    for planned, (values, reason) in zip(plan.records, answers, strict=False):
        r = planned.record
        expected = _expected(planned.role, r.type, r.value, r.priority)
        if reason is not None:
            out.append(Checked(planned.role, r.type, r.name, expected, (), "error", reason))
            continue
        if r.type == "TXT":
            kind = slot(r)[2]
            values = [v for v in values if slot(DnsRecord(r.name, "TXT", v))[2] == kind]
        status = _judge(planned.role, expected, values, mail)
        out.append(Checked(planned.role, r.type, r.name, expected, tuple(values), status))
    for check, (values, reason) in zip(plan.ptr, answers[len(plan.records) :], strict=True):
        values = [v.removesuffix(".") for v in values]
        status = (
            "error"
            if reason
            else "missing"
            if not values
            else "ok"
            if check.expected in values
            else "wrong"
        )
        out.append(Checked("ptr", "PTR", check.name, check.expected, tuple(values), status, reason))
    return out


def _judge(role: Role, expected: str, values: Sequence[str], mail: MailDomain) -> str:
    if not values:
        return "missing"
    if role is Role.SPF:
        if len(values) != 1:
            return "wrong"  # two SPF records: every check fails
        have = {t.lower().lstrip("+") for t in spf.terms(values[0])}
        return "ok" if all(t.lower() in have for t in our_spf_terms(mail)) else "wrong"
    if role is Role.DKIM:
        keys = {_tag(v, "p") for v in values}
        return "ok" if mail.public_key_b64 in keys else "wrong"
    if role is Role.DMARC:
        return "ok" if len(values) == 1 else "wrong"
    wanted = expected.lower().removesuffix(".")
    return "ok" if wanted in (v.lower().removesuffix(".") for v in values) else "wrong"


def _tag(record: str, name: str) -> str | None:
    for part in record.split(";"):
        key, _, value = part.partition("=")
        if key.strip().lower() == name:
            return "".join(value.split())
    return None


def verified(checked: Sequence[Checked]) -> bool:
    wanted = [c for c in checked if c.role in VERIFIED_ROLES]
    return bool(wanted) and all(c.status == "ok" for c in wanted)
