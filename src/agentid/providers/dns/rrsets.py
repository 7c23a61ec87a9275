"""Changes as whole record sets, for providers that keep a zone as (name, type) sets with
no id per record (a zone file, Route 53's resource record sets).

``regroup`` turns a list of changes into the new content of each (name, type) set they
touch, starting from what the zone holds: a created record joins its set (once), an
updated one takes the old one's place, a deleted one leaves. Every other value in a set
stays: writing the set back never drops a record someone else put there.
"""

from __future__ import annotations

from collections.abc import Sequence

from agentid.providers.base import DnsAction
from agentid.providers.base import DnsChange
from agentid.providers.base import DnsChanged
from agentid.providers.base import DnsRecord

Key = tuple[str, str]


def key(record: DnsRecord) -> Key:
    return record.name.lower(), record.type.upper()


def regroup(
    current: Sequence[DnsRecord], changes: Sequence[DnsChange]
) -> dict[Key, list[DnsRecord]]:
    """The new content of every (name, type) set ``changes`` touch (empty: delete the set)."""
    sets: dict[Key, list[DnsRecord]] = {}
    for change in changes:
        for touched in (change.record, change.old):
            if touched is not None and key(touched) not in sets:
                sets[key(touched)] = [r for r in current if key(r) == key(touched)]
    for change in changes:
        if change.old is not None:
            _drop(sets[key(change.old)], change.old)
        if change.action is DnsAction.DELETE:
            _drop(sets[key(change.record)], change.record)
        else:
            members = sets[key(change.record)]
            _drop(members, change.record)
            members.append(change.record)
    return sets


def _drop(members: list[DnsRecord], record: DnsRecord) -> None:
    members[:] = [r for r in members if not r.same(record)]


def outcomes(changes: Sequence[DnsChange], failed: dict[Key, str]) -> list[DnsChanged]:
    """One outcome per change: failed when a set it touched could not be written."""
    out = []
    for change in changes:
        keys = {key(change.record)} | ({key(change.old)} if change.old else set())
        error = next((failed[k] for k in sorted(keys) if k in failed), None)
        if error is not None:
            out.append(DnsChanged(change, None, error))
        elif change.action is DnsAction.DELETE:
            out.append(DnsChanged(change, None))
        else:
            out.append(DnsChanged(change, change.record))
    return out
