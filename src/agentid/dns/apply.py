"""Applying a plan through a DNS provider, record by record.

The order kept: the zone is read, the plan made against it (its SPF merged), and every
step decided (``reconcile``) before any change is sent; a conflict with a record agentid
did not create stops it all unless ``force``: nothing is sent, and each record's outcome
is ``conflict`` (with what was ``found``), ``unchanged`` or ``planned``. An SPF record to
be written whose check would cost more than 10 lookups with what its includes include
(counted when the name servers answer; else only its own terms, by the plan) is refused
(``Conflict``). Else the changes go in one ``DnsProvider.change`` call, and each planned
record gets the outcome of its own changes: ``created``, ``updated``, ``unchanged``, or
``error`` with the provider's reason. Not transactional: what succeeded stays, and the
outcome says so.
"""

from __future__ import annotations

from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from agentid.dns.plan import MailDomain
from agentid.dns.plan import Plan
from agentid.dns.plan import Role
from agentid.dns.plan import plan
from agentid.dns.reconcile import Outcome
from agentid.dns.reconcile import Step
from agentid.dns.reconcile import reconcile
from agentid.dns.spf_lookups import Count
from agentid.errors import Conflict
from agentid.providers.base import DnsAction
from agentid.providers.base import DnsProvider
from agentid.providers.base import DnsRecord


@dataclass(frozen=True, slots=True)
class Applied:
    """One planned record after apply: ``record`` as the zone holds it (its provider id
    when the provider has them); ``owned`` when agentid created or rewrote it."""

    role: Role
    record: DnsRecord
    status: Outcome
    owned: bool
    error: str | None = None
    found: tuple[DnsRecord, ...] = ()  # conflict: the records agentid did not create there


async def apply_plan(
    provider: DnsProvider,
    mail: MailDomain,
    ours: Callable[[DnsRecord], bool],
    *,
    force: bool = False,
    spf_cost: Callable[[str], Awaitable[Count]] | None = None,
) -> tuple[Plan, list[Applied]]:
    """Plan ``mail`` against its zone and apply it; the plan and each record's outcome
    (``conflict`` outcomes mean nothing was sent). ``spf_cost`` counts an SPF record's
    lookups with its includes' (``spf_lookups``): an SPF record about to be written that is
    over 10 for sure is refused (``Conflict``)."""
    zone = await provider.find_zone(mail.domain)
    existing = await provider.read_records(zone)
    made = plan(mail, existing)
    steps = reconcile(made, existing, ours, force=force)
    if any(s.outcome is Outcome.CONFLICT for s in steps):
        return made, [_stopped(step, ours) for step in steps]
    writing = [s for s in steps if s.planned.role is Role.SPF and s.changes]
    if spf_cost is not None and writing:
        record = writing[0].planned.record.value
        if (cost := await spf_cost(record)).over:
            raise Conflict(_too_costly(cost, record))
    changes = [change for step in steps for change in step.changes]
    results = list(await provider.change(zone, changes)) if changes else []
    out, at = [], 0
    for step in steps:
        mine = results[at : at + len(step.changes)]
        at += len(step.changes)
        errors = [r.error for r in mine if r.error]
        want = step.planned.record
        if errors:
            out.append(Applied(step.planned.role, want, Outcome.ERROR, False, "; ".join(errors)))
            continue
        held = next(
            (
                r.record
                for r in mine
                if r.record is not None and r.change.action is not DnsAction.DELETE
            ),
            None,
        )
        if held is None:  # unchanged, or only others deleted: the record there already
            held = next((r for r in step.found if r.same(want)), want)
        owned = step.outcome in (Outcome.CREATED, Outcome.UPDATED) or ours(held)
        out.append(Applied(step.planned.role, _with_id(want, held), step.outcome, owned))
    return made, out


def _with_id(want: DnsRecord, held: DnsRecord) -> DnsRecord:
    return DnsRecord(want.name, want.type, want.value, want.ttl, want.priority, held.id)


def _stopped(step: Step, ours: Callable[[DnsRecord], bool]) -> Applied:
    """A record of an apply a conflict stopped: what it is, with nothing sent."""
    want = step.planned.record
    if step.outcome is Outcome.CONFLICT:
        found = tuple(r for r in step.found if not r.same(want) and not ours(r))
        return Applied(step.planned.role, want, Outcome.CONFLICT, False, found=found)
    if step.outcome is Outcome.UNCHANGED:
        held = next((r for r in step.found if r.same(want)), want)
        return Applied(step.planned.role, _with_id(want, held), Outcome.UNCHANGED, ours(held))
    return Applied(step.planned.role, want, Outcome.PLANNED, False)


def conflict_message(results: Sequence[Applied]) -> str:
    parts = []
    for a in results:
        if a.status is not Outcome.CONFLICT:
            continue
        found = ", ".join(shown(r) for r in a.found)
        parts.append(f"{a.record.type} {a.record.name} (found {found})")
    return (
        "records agentid did not create stand where its records go: "
        + "; ".join(parts)[:600]
        + ". Remove them, or apply with force to replace them"
    )


def _too_costly(cost: Count, record: str) -> str:
    why = (
        f"its includes loop ({' -> '.join(cost.loop)})"
        if cost.loop
        else f"it would need {'at least ' if not cost.complete else ''}{cost.lookups} DNS "
        "lookups counting what its includes include"
    )
    return (
        f"the merged SPF record is refused: {why}, more than the 10 SPF allows. Remove "
        f"includes from the domain's SPF record ({record[:300]})"
    )


def shown(record: DnsRecord) -> str:
    value = record.value if len(record.value) <= 60 else record.value[:57] + "..."
    return f"{record.priority} {value}" if record.priority is not None else value
