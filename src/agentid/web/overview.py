"""What the web page shows of projects, gathered from the features' own services (the
same ones the API's routes call): no statement of its own."""

from __future__ import annotations

from dataclasses import dataclass

from agentid.auth import Principal
from agentid.codes import service as codes
from agentid.dns import service as dns
from agentid.dns.schemas import DnsCheckOut
from agentid.dns.schemas import DnsPlanOut
from agentid.dns.schemas import DnsRecordOut
from agentid.email import inbox
from agentid.errors import AgentIDError
from agentid.errors import NotFound
from agentid.phone import service as phone
from agentid.phone.schemas import PhoneNumberOut
from agentid.projects import service as projects
from agentid.projects.schemas import ProjectOut
from agentid.providers.accounts import Accounts
from agentid.providers.schemas import ProviderAccountOut
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Project

PAGE = 50


@dataclass(frozen=True, slots=True)
class Summary:
    """One project as the projects page lists it."""

    project: ProjectOut
    dns_status: str | None  # None: email on its own domain is not provisioned
    phone: PhoneNumberOut | None
    messages: int | None  # None: the token may not read the project's mail
    unused_codes: int | None


@dataclass(frozen=True, slots=True)
class DnsRow:
    """One DNS record as the project page shows it: the plan's record with what its last
    apply came to, and what the name servers answered for it when last verified. A check
    with no record of the plan (the PTR of the public address) is a row of its own."""

    record: DnsRecordOut | None
    check: DnsCheckOut | None

    @property
    def type(self) -> str:
        return self.record.type if self.record else self.check.type if self.check else ""

    @property
    def name(self) -> str:
        return self.record.name if self.record else self.check.name if self.check else ""

    @property
    def value(self) -> str:
        if self.record is None:
            return self.check.expected if self.check else ""
        r = self.record
        return r.value if r.priority is None else f"{r.priority} {r.value}"


@dataclass(frozen=True, slots=True)
class Detail:
    """One project as its own page shows it."""

    summary: Summary
    dns: DnsPlanOut | None
    dns_problem: str | None  # why there is no plan to show
    providers: list[ProviderAccountOut] | None  # the operator's view only, as in the API

    @property
    def dns_rows(self) -> list[DnsRow]:
        return [] if self.dns is None else dns_rows(self.dns)


def dns_rows(plan: DnsPlanOut) -> list[DnsRow]:
    """Each planned record beside its check (the same type and name, in order); the checks
    left over after them, and before any verification the PTR the plan asks for."""
    checks = plan.verification.records if plan.verification else plan.ptr
    left = list(checks)
    rows = []
    for record in plan.records:
        found = next((c for c in left if (c.type, c.name) == (record.type, record.name)), None)
        if found is not None:
            left.remove(found)
        rows.append(DnsRow(record, found))
    return rows + [DnsRow(None, c) for c in left]


async def _number(session: AsyncSession, project_id: str) -> PhoneNumberOut | None:
    try:
        return phone.number_out(await phone.current(session, project_id))
    except NotFound:
        return None


async def summaries(
    session: AsyncSession, who: Principal, before: str | None
) -> tuple[list[Summary], str | None]:
    """The projects ``who`` sees, by id, a page at a time."""
    listed = await projects.list_projects(session, who, PAGE, before)
    ids = [p.id for p in listed.projects]
    messages = await inbox.counts(session, ids)
    unused = await codes.unused_counts(session, ids)
    states = await dns.statuses(session, [p.domain for p in listed.projects if p.domain])
    reads = "read" in who.scopes
    found = [
        Summary(
            project=p,
            dns_status=states.get(p.domain) if p.domain else None,
            phone=await _number(session, p.id),
            messages=messages[p.id] if reads else None,
            unused_codes=unused[p.id] if reads else None,
        )
        for p in listed.projects
    ]
    await session.commit()
    return found, listed.next


async def detail(rt: Runtime, session: AsyncSession, who: Principal, project: Project) -> Detail:
    states = await dns.statuses(session, [project.domain] if project.domain else [])
    summary = Summary(
        project=projects.project_out(project),
        dns_status=states.get(project.domain) if project.domain else None,
        phone=await _number(session, project.id),
        messages=(await inbox.counts(session, [project.id]))[project.id],
        unused_codes=(await codes.unused_counts(session, [project.id]))[project.id],
    )
    plan: DnsPlanOut | None = None
    problem: str | None = None
    try:
        plan = await dns.plan_out(rt, session, project)
    except AgentIDError as err:
        problem = err.message
    providers = None
    if who.is_admin:
        providers = (await Accounts.of(rt).show(session, project.id)).providers
    await session.commit()
    return Detail(summary, plan, problem, providers)
