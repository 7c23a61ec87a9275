"""Does the world see the plan? Each planned record (and the PTR checks) resolved again.

Each call asks the configured nameservers (``AGENTID_DNS_NAMESERVERS``, else the system's)
afresh through ``dns.asyncresolver`` with no cache, so the answer is what DNS says now.
A record is ``ok`` when what resolves holds it (MX, A/AAAA, CNAME), or for TXT when the
one record of its kind is right: one SPF record holding every term of ours, a DKIM record
whose ``p=`` is our public key, one DMARC record; ``missing`` when nothing of its kind is
there; ``wrong`` with what was found; ``error`` with the resolver's reason (a timeout, a
refusal). The domain is ``verified`` when its MX, SPF and DKIM records are ok.

The SPF record found is also counted whole (``spf_lookups``: its include and redirect
targets asked through the same resolver, once each, within one more timeout): ``wrong``
with "needs N DNS lookups (more than 10)" (or a loop, a void or missing target record),
``error`` with the reason when a nested lookup fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agentid.dns import spf
from agentid.dns import spf_lookups
from agentid.dns.plan import MailDomain
from agentid.dns.plan import Plan
from agentid.dns.plan import Role
from agentid.dns.plan import our_spf_terms
from agentid.dns.plan import slot
from agentid.dns.resolver import lookup
from agentid.providers.base import DnsRecord

if TYPE_CHECKING:
    import dns.asyncresolver

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
    return [await _spf_costs(c, plan.domain, res) if c.role is Role.SPF else c for c in out]


async def _spf_costs(c: Checked, domain: str, res: dns.asyncresolver.Resolver) -> Checked:
    """An SPF record that holds our terms is still ``wrong`` when checking it would cost
    more than 10 lookups, its includes' included (``error`` when that cannot be told)."""
    if c.status != "ok":
        return c
    cost = await spf_lookups.count(
        c.found[0], spf_lookups.txt_of(res), domain=domain, seconds=res.lifetime
    )
    if (verdict := cost.verdict()) is None:
        return c
    return Checked(c.role, c.type, c.name, c.expected, c.found, *verdict)


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
