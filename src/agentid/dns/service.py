"""A project's DNS: its plan, applying it through the project's DNS provider, verifying it.

The rules kept: a failure before any change (a bad domain, a zone the account cannot see,
the provider down) leaves the stored state as it was; a conflict (a record agentid did not
create stands where one of ours goes) sends nothing and marks only those records
``conflict`` in the stored state, with what was found; after apply, the stored
records say exactly what each change came to, with the provider's id of what agentid
created, which is all agentid will ever change or delete later. Verify asks the name
servers again each time and stores what it saw. The provider is the project's own DNS
account, else ``AGENTID_DNS_URL``, else a zone file in ``<data dir>/zones`` for the
operator to publish.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agentid.dns import spf_lookups
from agentid.dns import verify as checks
from agentid.dns.apply import Applied
from agentid.dns.apply import apply_plan
from agentid.dns.apply import conflict_message
from agentid.dns.apply import shown
from agentid.dns.plan import MailDomain
from agentid.dns.plan import Plan
from agentid.dns.plan import Role
from agentid.dns.plan import mail_domain
from agentid.dns.plan import plan
from agentid.dns.reconcile import Outcome
from agentid.dns.resolver import nameservers
from agentid.dns.resolver import resolver as make_resolver
from agentid.dns.schemas import DnsApplyOut
from agentid.dns.schemas import DnsCheckOut
from agentid.dns.schemas import DnsPlanOut
from agentid.dns.schemas import DnsRecordOut
from agentid.dns.schemas import DnsVerifyOut
from agentid.dns.spf_lookups import Count
from agentid.dns.zone_text import fragment
from agentid.email import dkim
from agentid.email.repository import AliasRepository
from agentid.errors import Conflict
from agentid.projects.repository import audit
from agentid.providers.accounts import dns_for
from agentid.providers.accounts import provider_url_for
from agentid.providers.accounts import relay_for
from agentid.providers.base import DnsProvider
from agentid.providers.base import DnsRecord
from agentid.providers.base import SendingDomain
from agentid.providers.dns.zonefile import ZoneFile
from agentid.providers.registry import parse_url
from agentid.providers.schemas import ProviderKind
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Domain
from agentid.store.tables import Project
from agentid.times import utcnow

log = logging.getLogger("agentid.dns")


async def hosted(session: AsyncSession, project: Project) -> Domain:
    if project.domain is None:
        raise Conflict(f"project {project.id!r} has no domain of its own: nothing to publish")
    row = await AliasRepository(session).domain(project.domain)
    if row is None:
        raise Conflict(f"email on {project.domain} is not provisioned yet: provision it first")
    return row


async def statuses(session: AsyncSession, domains: list[str]) -> dict[str, str]:
    """Each hosted domain's DNS status (planned, applied, partial, verified, unverified)."""
    wanted = set(domains)
    found = await AliasRepository(session).domains()
    return {d.name: d.dns_status for d in found if d.name in wanted}


async def mail_of(
    rt: Runtime, project_id: str, row: Domain, *, ask_relay: bool = False
) -> MailDomain:
    """What the plan is made from. The relay's DKIM records are those last applied, or,
    with ``ask_relay``, what the relay answers now (setting the domain up with it)."""
    relay = await relay_for(rt, project_id, rt.transports)
    includes: list[str] = []
    relay_records = [
        r
        for r, i in zip(stored(row), row.dns_records or [], strict=True)
        if i["role"] == Role.RELAY_DKIM
    ]
    if isinstance(relay, SendingDomain):
        includes.append(relay.spf_include)
        if ask_relay:
            relay_records = list(await relay.domain_records(row.name))
    return mail_domain(
        rt.settings,
        row.name,
        row.dkim_selector,
        row.dkim_public_key,
        spf_includes=includes,
        relay_records=relay_records,
    )


def stored(row: Domain) -> list[DnsRecord]:
    """The records as last applied, with their provider ids."""
    return [_record(item) for item in row.dns_records or []]


def _record(item: dict[str, Any]) -> DnsRecord:
    return DnsRecord(
        item["name"], item["type"], item["value"], item["ttl"], item.get("priority"), item.get("id")
    )


def _out(
    role: str,
    record: DnsRecord,
    status: str,
    error: str | None = None,
    found: list[str] | None = None,
) -> DnsRecordOut:
    """``record`` as planned (its fields but the provider's id), its role and how its last
    apply went."""
    fields = asdict(record)
    del fields["id"]
    return DnsRecordOut(**fields, role=role, status=status, error=error, found=found or [])


def _ptr(made: Plan) -> list[DnsCheckOut]:
    return [
        DnsCheckOut(type="PTR", name=c.name, expected=c.expected, found=[], status="unchecked")
        for c in made.ptr
    ]


def verification(row: Domain) -> DnsVerifyOut | None:
    if row.dns_checked_at is None or row.dns_checks is None:
        return None
    return DnsVerifyOut(
        status="verified" if row.dns_status == "verified" else "unverified",
        checked_at=row.dns_checked_at,
        records=[DnsCheckOut(**item) for item in row.dns_checks],
    )


async def plan_out(rt: Runtime, session: AsyncSession, project: Project) -> DnsPlanOut:
    """The plan (made against the SPF record last applied: no provider is asked) and the
    last verification."""
    row = await hosted(session, project)
    made = plan(await mail_of(rt, project.id, row), stored(row))
    applied = {(i["role"], i["type"], i["name"]): i for i in row.dns_records or []}
    records = []
    for planned in made.records:
        r = planned.record
        item = applied.get((str(planned.role), r.type, r.name))
        same = item is not None and _record(item).same(r)
        if item is not None and same:
            status, error, found = str(item["status"]), item.get("error"), item.get("found")
        else:
            status, error, found = "planned", None, None
        records.append(_out(planned.role, r, status, error, found))
    return DnsPlanOut(
        domain=row.name,
        status=row.dns_status,
        applied_at=row.dns_applied_at,
        records=records,
        ptr=_ptr(made),
        zone=fragment(made),
        verification=verification(row),
    )


async def provider_for(rt: Runtime, project_id: str) -> tuple[DnsProvider, str]:
    """The project's DNS provider and its scheme (a zone file in the data dir by default)."""
    provider = await dns_for(rt, project_id, rt.transports)
    if provider is None:  # in the data dir, as private as the rest of it
        zones = (rt.settings.data_dir / "zones").absolute()
        await asyncio.to_thread(_private_dir, zones)
        return ZoneFile(zones), "zonefile"
    url = await provider_url_for(rt, project_id, ProviderKind.DNS)
    return provider, parse_url(url or "").scheme


async def apply(
    rt: Runtime, session: AsyncSession, project: Project, *, force: bool = False
) -> DnsApplyOut:
    row = await hosted(session, project)
    before = list(row.dns_records or [])
    owned = [r for r, item in zip(stored(row), before, strict=True) if item.get("owned")]
    await session.commit()  # no transaction held while the relay or the provider is called
    mail = await mail_of(rt, project.id, row, ask_relay=True)

    def ours(record: DnsRecord) -> bool:
        if record.id is not None:
            return any(record.id == r.id for r in owned)
        return any(record.same(r) for r in owned)

    provider, scheme = await provider_for(rt, project.id)
    zone = await provider.find_zone(mail.domain)
    _, results = await apply_plan(provider, mail, ours, force=force, spf_cost=_spf_cost(rt, mail))
    row = await hosted(session, project)
    if any(a.status is Outcome.CONFLICT for a in results):
        await _stopped(session, project, row, before, results)
    row.dns_records = [_stored(a, before) for a in results]
    failed = any(a.error for a in results)
    row.dns_status = "partial" if failed else "applied"
    row.dns_applied_at = utcnow()
    outcomes = {a.role + ":" + a.record.type: str(a.status) for a in results}
    session.add(audit(project.id, "dns.applied", {"provider": scheme, "outcomes": outcomes}))
    await session.commit()
    log.info("dns applied", extra={"project_id": project.id, "provider": scheme})
    return DnsApplyOut(
        domain=mail.domain,
        zone=zone,
        provider=scheme,
        status=row.dns_status,
        records=[_out(a.role, a.record, str(a.status), a.error) for a in results],
    )


async def _stopped(
    session: AsyncSession,
    project: Project,
    row: Domain,
    before: list[dict[str, Any]],
    results: list[Applied],
) -> None:
    """Nothing was sent: the records in conflict are stored as such (with what stands in
    their way), the others as they were; then 409 with every record's status."""
    conflicts = {(str(a.role), a.record.type, a.record.name): a for a in results}
    conflicts = {k: a for k, a in conflicts.items() if a.status is Outcome.CONFLICT}
    kept = [i for i in before if (i["role"], i["type"], i["name"]) not in conflicts]
    row.dns_records = kept + [_stored(a, before) for a in conflicts.values()]
    found = {k: [shown(r) for r in a.found] for k, a in conflicts.items()}
    session.add(audit(project.id, "dns.conflict", {"records": [" ".join(k) for k in found]}))
    await session.commit()
    records = [
        _out(a.role, a.record, str(a.status), found=[shown(r) for r in a.found]).model_dump()
        for a in results
    ]
    raise Conflict(conflict_message(results), records=records)


def _spf_cost(rt: Runtime, mail: MailDomain) -> Callable[[str], Awaitable[Count]]:
    """The SPF record's lookups with its includes', asked of the name servers verify asks;
    when they cannot be asked, only the record's own terms were counted (by the plan)."""
    seconds = rt.settings.dns_timeout_seconds
    res = make_resolver(nameservers(rt.settings.dns_nameservers), seconds)

    async def cost(record: str) -> Count:
        made = await spf_lookups.count(
            record, spf_lookups.txt_of(res), domain=mail.domain, seconds=seconds
        )
        if made.failed is not None and not made.over:
            log.warning(
                "SPF lookups of the includes not counted",
                extra={"domain": mail.domain, "reason": made.failed},
            )
        return made

    return cost


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.chmod(0o700)


def _stored(a: Applied, before: list[dict[str, Any]]) -> dict[str, Any]:
    """What to remember of one record. A record whose change failed is remembered as it
    was before (its id, whether it is ours), with the error: that is what the zone holds."""
    r = a.record
    found = [shown(f) for f in a.found]
    if a.error is not None or a.status is Outcome.CONFLICT:
        key = (str(a.role), r.type, r.name)
        was = next((i for i in before if (i["role"], i["type"], i["name"]) == key), None)
        if was is not None:
            return was | {"status": str(a.status), "error": a.error, "found": found}
    return {
        "role": str(a.role),
        "type": r.type,
        "name": r.name,
        "value": r.value,
        "priority": r.priority,
        "ttl": r.ttl,
        "id": r.id,
        "status": str(a.status),
        "error": a.error,
        "found": found,
        "owned": a.owned,
    }


async def verify(rt: Runtime, session: AsyncSession, project: Project) -> DnsVerifyOut:
    row = await hosted(session, project)
    mail = await mail_of(rt, project.id, row)
    made = plan(mail, stored(row))
    servers = nameservers(rt.settings.dns_nameservers)
    # Loading the RSA key takes tens of milliseconds: in a thread, given the sealed bytes.
    public = await asyncio.to_thread(dkim.public_key_of, rt.secrets, row.dkim_private_key)
    key_matches = public == row.dkim_public_key
    await session.commit()
    resolver = make_resolver(servers, rt.settings.dns_timeout_seconds)
    found = await checks.verify(made, mail, resolver)
    if not key_matches:  # what DNS shows cannot verify what agentid signs
        found = [_key_mismatch(c) if c.role == Role.DKIM else c for c in found]
    ok = checks.verified(found)
    records = [_check(c) for c in found]
    row = await hosted(session, project)
    row.dns_checks = [r.model_dump() for r in records]
    row.dns_checked_at = utcnow()
    row.dns_status = "verified" if ok else "unverified"
    await session.commit()
    return DnsVerifyOut(status=row.dns_status, checked_at=row.dns_checked_at, records=records)


def _key_mismatch(c: checks.Checked) -> checks.Checked:
    reason = "the planned public key is not the half of the private key agentid signs with"
    return checks.Checked(c.role, c.type, c.name, c.expected, c.found, "wrong", reason)


def _check(c: checks.Checked) -> DnsCheckOut:
    return DnsCheckOut.model_validate(c, from_attributes=True)
