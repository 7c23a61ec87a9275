"""A plan as a BIND zone fragment a human can paste or redirect into a zone file: comments
start with ``;``, names are absolute (a final dot), one record per line, a long TXT value
as several quoted strings on the same line."""

from __future__ import annotations

from collections.abc import Sequence

from agentid.dns.plan import Plan
from agentid.providers.dns.rdata import zone_line


def fragment(plan: Plan, notes: Sequence[str] = ()) -> str:
    lines = [f"; {plan.domain}: mail records planned by agentid"]
    lines += [f"; {note}" for note in notes]
    for planned in plan.records:
        lines.append(zone_line(planned.record, planned.record.name + "."))
    for check in plan.ptr:
        lines.append(
            f"; PTR {check.name}. -> {check.expected}. : set it at the provider of {check.address}"
        )
    return "\n".join(lines) + "\n"
