"""SPF records (RFC 7208): recognise one, merge ours into it, count its DNS lookups.

The rules kept: a domain has one SPF record (two make every check ``permerror``, §3.2),
so ours is merged into the one there, keeping its terms, their order and its ``all``;
and a check may cost at most 10 DNS lookups (§4.6.4), so a merge that would need more
is refused rather than published. The count here is of the record's own terms
(``include``, ``a``, ``mx``, ``ptr``, ``exists``, ``redirect``), all the plan can know
without DNS; what the included records cost in turn is counted by ``spf_lookups``, at
apply (when the name servers answer) and at verify.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from collections.abc import Sequence

from agentid.errors import Conflict

MAX_LOOKUPS = 10
VERSION = "v=spf1"
_LOOKUP_MECHANISMS = frozenset({"include", "a", "mx", "ptr", "exists"})
_QUALIFIERS = "+-~?"
_TERM = re.compile(r"^[\x21-\x7e]+$")


def is_spf(text: str) -> bool:
    """A TXT value that is an SPF record: ``v=spf1`` alone or followed by a space."""
    head = text[: len(VERSION) + 1].lower()
    return head == VERSION or head == VERSION + " "


def terms(text: str) -> list[str]:
    """The terms after ``v=spf1``, as written."""
    return text.split()[1:]


def mechanism(term: str) -> str:
    """``include`` of ``~include:x``, ``redirect`` of ``redirect=x``, ``all`` of ``-all``."""
    bare = term.lstrip(_QUALIFIERS) if term[:1] in _QUALIFIERS else term
    return re.split(r"[:/=]", bare, maxsplit=1)[0].lower()


def is_modifier(term: str) -> bool:
    name = term.split("=", 1)[0]
    return "=" in term and ":" not in name and "/" not in name and name.isalnum()


def lookups(text: str) -> int:
    """DNS lookups the record's own terms cost (§4.6.4)."""
    count = 0
    for term in terms(text):
        name = mechanism(term)
        if name in _LOOKUP_MECHANISMS or (name == "redirect" and is_modifier(term)):
            count += 1
    return count


def merge(existing: Sequence[str], ours: Iterable[str], default_all: str = "~all") -> str:
    """One SPF record holding every term of ``existing`` (one record, or several to be
    made one) and each of ``ours`` not there yet, before the ``all`` (or a modifier);
    ``existing``'s ``all`` is kept, ``default_all`` when it has none (and no redirect).
    ``Conflict`` when the result would cost more than 10 lookups."""
    mechanisms: list[str] = []
    modifiers: list[str] = []
    final: str | None = None
    for record in existing:
        for term in terms(record):
            if not _TERM.match(term):
                continue
            if mechanism(term) == "all":
                final = final or term
            elif is_modifier(term):
                if term.lower() not in (m.lower() for m in modifiers):
                    modifiers.append(term)
            elif term.lower() not in (m.lower() for m in mechanisms):
                mechanisms.append(term)
    for term in ours:
        if term.lower() not in (m.lower().lstrip("+") for m in mechanisms):
            mechanisms.append(term)
    if final is None and not any(mechanism(m) == "redirect" for m in modifiers):
        final = default_all
    if final is not None:  # with an all, a redirect is never used (§6.1): left out
        modifiers = [m for m in modifiers if mechanism(m) != "redirect"]
    record = " ".join([VERSION, *mechanisms, *([final] if final else []), *modifiers])
    if (cost := lookups(record)) > MAX_LOOKUPS:
        raise Conflict(
            f"the merged SPF record would need {cost} DNS lookups, more than the "
            f"{MAX_LOOKUPS} SPF allows: remove includes from the domain's SPF record "
            f"({record[:300]})"
        )
    return record
