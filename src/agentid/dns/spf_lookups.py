"""What checking an SPF record costs in DNS lookups over the whole evaluation (RFC 7208
§4.6.4), the records its ``include:`` and ``redirect=`` targets name counted in turn.

The rules kept: ``include``, ``a``, ``mx``, ``ptr``, ``exists`` and an evaluated
``redirect`` (none beside an ``all``, §6.1) each cost one lookup, wherever they stand in
the tree; more than 10 is ``permerror``, and so is more than 2 void lookups (a name with
no record at all). Only TXT is asked, only of include and redirect targets (``a``, ``mx``
and ``exists`` targets are counted, not resolved, so their void lookups are not seen; a
target with a macro is counted, not followed). The walk is bounded: at most
``max_queries`` names asked (each once, remembered), at most ``max_depth`` records deep
(a deeper chain costs more than 10 by itself), ``seconds`` for the whole count; a name
already on the path is a loop, which no evaluation survives. A target with no SPF record,
or two, ends every check in ``permerror`` (§5.2, §6.1): ``broken``. A failed lookup is
``failed`` with its reason, the rest still counted.

Pure but for ``txt_of``, the one adapter to dnspython, so the walk is tested with a dict.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

from agentid.dns import spf
from agentid.dns.resolver import lookup

if TYPE_CHECKING:
    import dns.asyncresolver

MAX_QUERIES = 30
MAX_DEPTH = spf.MAX_LOOKUPS
MAX_VOIDS = 2
_COUNTED = frozenset({"include", "a", "mx", "ptr", "exists"})

TxtOf = Callable[[str], Awaitable[list[str]]]
"""The TXT values of a name, [] when it has none (or does not exist); ``LookupFailed``."""


class LookupFailed(Exception):
    """A name's TXT records could not be had; the message is the resolver's reason."""


@dataclass(frozen=True, slots=True)
class Count:
    lookups: int  # at least this many when not ``complete`` or ``failed``
    voids: int = 0
    complete: bool = True  # every include and redirect target was followed
    loop: tuple[str, ...] = ()  # the names of an include/redirect loop, first one last too
    broken: str | None = None  # a target that ends the evaluation in permerror
    failed: str | None = None  # why a part could not be counted

    @property
    def over(self) -> bool:
        """More than 10 lookups, known for sure (a loop, or more than 10 already counted)."""
        return bool(self.loop) or self.lookups > spf.MAX_LOOKUPS

    def verdict(self) -> tuple[str, str] | None:
        """``("wrong" | "error", reason)`` for verify; None when nothing is wrong."""
        if self.loop:
            return "wrong", f"include loop {' -> '.join(self.loop)}: needs more than 10 lookups"
        if self.over:
            least = "" if self.complete and self.failed is None else "at least "
            return "wrong", f"needs {least}{self.lookups} DNS lookups (more than 10)"
        if self.failed is not None:
            return "error", self.failed
        if self.voids > MAX_VOIDS:
            return "wrong", f"{self.voids} void DNS lookups (more than {MAX_VOIDS})"
        if self.broken is not None:
            return "wrong", self.broken
        return None


async def count(
    record: str,
    txt_of: TxtOf,
    *,
    domain: str = "",
    seconds: float = 5.0,
    max_queries: int = MAX_QUERIES,
    max_depth: int = MAX_DEPTH,
) -> Count:
    """The lookups ``record`` (published at ``domain``) costs, its targets' included."""
    walk = _Walk(txt_of, max_queries, max_depth)
    try:
        async with asyncio.timeout(seconds):
            await walk.record(record, (_key(domain),))
    except TimeoutError:
        walk.failed = walk.failed or f"counting the SPF lookups took more than {seconds:g}s"
    return Count(walk.lookups, walk.voids, walk.complete, walk.loop, walk.broken, walk.failed)


def txt_of(res: dns.asyncresolver.Resolver) -> TxtOf:
    """The adapter: TXT values through ``res`` (no cache, its nameservers and timeout)."""

    async def txt(name: str) -> list[str]:
        values, reason = await lookup(res, name, "TXT")
        if reason is not None:
            raise LookupFailed(reason)
        return values

    return txt


@dataclass
class _Walk:
    txt_of: TxtOf
    max_queries: int
    max_depth: int
    asked: dict[str, list[str] | LookupFailed] = field(default_factory=dict)
    costs: dict[str, tuple[int, int]] = field(default_factory=dict)  # a target's whole tree
    lookups: int = 0
    voids: int = 0
    complete: bool = True
    loop: tuple[str, ...] = ()
    broken: str | None = None
    failed: str | None = None

    async def record(self, text: str, path: tuple[str, ...]) -> None:
        words = spf.terms(text)
        has_all = any(spf.mechanism(t) == "all" for t in words)
        targets: list[tuple[str, str]] = []
        for term in words:
            name = spf.mechanism(term)
            if name in _COUNTED:
                self.lookups += 1
                if name == "include":
                    targets.append((term.lstrip("+-~?")[:80], term.partition(":")[2]))
            elif name == "redirect" and spf.is_modifier(term) and not has_all:
                self.lookups += 1
                targets.append((term[:80], term.partition("=")[2]))
        await self._ask([t for _, t in targets], path)
        for label, target in targets:
            if self.loop:
                return
            await self._follow(label, target, path)

    async def _ask(self, targets: list[str], path: tuple[str, ...]) -> None:
        """The targets not asked yet, at once, as far as the query budget goes."""
        if len(path) > self.max_depth:
            return
        new = [_key(t) for t in targets if _followable(t)]
        new = [k for k in dict.fromkeys(new) if k not in self.asked and k not in path]
        new = new[: max(0, self.max_queries - len(self.asked))]
        answers = await asyncio.gather(*(self._txt(k) for k in new))
        self.asked.update(zip(new, answers, strict=True))

    async def _txt(self, name: str) -> list[str] | LookupFailed:
        try:
            return await self.txt_of(name)
        except LookupFailed as exc:
            return exc

    async def _follow(self, label: str, target: str, path: tuple[str, ...]) -> None:
        if not _followable(target):
            self.complete = False  # a macro (or nothing): counted, not followed
            return
        key = _key(target)
        if key in path:
            self.loop = (*path[path.index(key) :], key)
            return
        if key in self.costs:  # counted before: the same tree costs the same again
            lookups, voids = self.costs[key]
            self.lookups, self.voids = self.lookups + lookups, self.voids + voids
            return
        got = self.asked.get(key) if len(path) <= self.max_depth else None
        if got is None:  # too deep, or the query budget spent
            self.complete = False
            return
        before = (self.lookups, self.voids)
        if isinstance(got, LookupFailed):
            self.failed = self.failed or f"{label}: {got}"
        elif not got:
            self.voids += 1
            self.broken = self.broken or f"{label}: no record there (a void lookup, permerror)"
        elif len(found := [v for v in got if spf.is_spf(v)]) != 1:
            what = "no SPF record" if not found else f"{len(found)} SPF records"
            self.broken = self.broken or f"{label}: {what} there (permerror)"
        else:
            await self.record(found[0], (*path, key))
        self.costs[key] = (self.lookups - before[0], self.voids - before[1])


def _key(name: str) -> str:
    return name.strip().lower().removesuffix(".")


def _followable(target: str) -> bool:
    return bool(target) and "%" not in target
