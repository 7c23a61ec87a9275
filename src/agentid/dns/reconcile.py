"""What applying a plan to a zone takes, decided before anything is sent. Pure.

The rules kept: a record agentid did not create is never changed or deleted, except the
one SPF record ours is merged into (and a second SPF record, merged too: two break SPF);
a record of someone else's that competes with a planned one (another MX, another DMARC)
is a ``conflict``, changed only with ``force``; a planned record already there as it
should be is ``unchanged`` and costs no call, so applying twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from agentid.dns.plan import Plan
from agentid.dns.plan import Planned
from agentid.dns.plan import Role
from agentid.dns.plan import slot
from agentid.providers.base import DnsAction
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsRecord


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    CONFLICT = "conflict"
    ERROR = "error"
    PLANNED = "planned"  # not sent: another record's conflict stopped the apply


@dataclass(frozen=True, slots=True)
class Step:
    planned: Planned
    outcome: Outcome  # what it comes to if every change succeeds
    changes: tuple[DnsChange, ...] = ()
    found: tuple[DnsRecord, ...] = ()  # what competed with it in the zone


def reconcile(
    plan: Plan,
    existing: Sequence[DnsRecord],
    ours: Callable[[DnsRecord], bool],
    *,
    force: bool = False,
) -> list[Step]:
    """One step per planned record; ``ours`` tells a record agentid created."""
    steps = []
    for planned in plan.records:
        want = planned.record
        rivals = tuple(r for r in existing if slot(r) == slot(want))
        if not rivals:
            steps.append(Step(planned, Outcome.CREATED, (DnsChange(DnsAction.CREATE, want),)))
            continue
        same = [r for r in rivals if r.same(want)]
        others = [r for r in rivals if not r.same(want)]
        if not others:
            steps.append(Step(planned, Outcome.UNCHANGED, found=rivals))
            continue
        foreign = [r for r in others if not ours(r)]
        if foreign and not force and planned.role is not Role.SPF:
            steps.append(Step(planned, Outcome.CONFLICT, found=rivals))
            continue
        if same:
            changes = tuple(DnsChange(DnsAction.DELETE, r) for r in others)
        else:
            first, *rest = others
            update = DnsChange(DnsAction.UPDATE, _keep_id(want, first), old=first)
            changes = (update, *(DnsChange(DnsAction.DELETE, r) for r in rest))
        steps.append(Step(planned, Outcome.UPDATED, changes, rivals))
    return steps


def _keep_id(record: DnsRecord, old: DnsRecord) -> DnsRecord:
    return DnsRecord(record.name, record.type, record.value, record.ttl, record.priority, old.id)
