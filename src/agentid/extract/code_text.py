"""One text as the code finder sees it: normalised, URLs and e-mail addresses masked,
with the labels near candidates indexed.

Every question a candidate asks is bounded or answered from an index built once per text
(labels by bisection; sentence breaks and promotion words, for spans longer than
``_LONG``, by bisection too), so scoring many candidates stays linear in the text.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from . import keywords as kw
from .bookings import names_confirmation
from .labels import scan
from .masked import masked_spans
from .masked import overlaps
from .sentence import BREAK
from .sentence import BREAK_RE
from .textnorm import lower
from .textnorm import mask_urls_and_emails
from .textnorm import normalize

MAX_TEXT_CHARS = 200_000
TIER_BASE = {"otp": 5.0, "code": 4.2, "pw": 3.6}  # labels that name a code, and their weight
_BREAK_AT_RE = re.compile(rf"(?={BREAK})")  # every position where a sentence break starts
_PROMO_AT_RE = re.compile(rf"(?=({kw.PROMO_RE.pattern}))")
_STRIP_DECOR = " \t[]()【】「」『』<>:：\"'■□●•*·-–—|>»«"  # decoration around a lone value
_NOT_DECOR_RE = re.compile("[^" + re.escape(_STRIP_DECOR) + "]")
_LONG = 2000  # spans longer than this are looked up in per-text indexes instead of scanned


@dataclass(slots=True)
class Label:
    start: int
    end: int
    tier: str


class CodeText:
    """One normalised text with its labels (found lazily near candidates) and lines."""

    def __init__(self, text: str, meeting: Callable[[], bool], booking: Callable[[], bool]) -> None:
        self.orig = text[:MAX_TEXT_CHARS]
        self.t = mask_urls_and_emails(normalize(self.orig))
        self.low = lower(self.t)
        self.meeting = meeting
        self.booking = booking
        self.labels: list[Label] = []
        self.starts: list[int] = []
        self.ends: list[int] = []
        # per label: the nearest code label (tier in TIER_BASE) at or before / after it
        self.prev_code: list[int] = []
        self.next_code: list[int] = []
        self._breaks: list[int] | None = None
        self._promos: tuple[list[int], list[int]] | None = None
        self._masked: list[tuple[int, int]] | None = None
        self._masked_starts: list[int] = []

    def is_masked(self, s: int, e: int) -> bool:
        """Is [s, e) part of a masked number (``****1234``)?"""
        if self._masked is None:
            t = self.t
            # (most texts: no mask character at all)
            hinted = "*" in t or "•" in t or "●" in t or "∗" in t or "xx" in t or "XX" in t
            self._masked = masked_spans(t) if hinted else []
            self._masked_starts = [start for start, _ in self._masked]
        return bool(self._masked) and overlaps(self._masked, self._masked_starts, s, e)

    def scan_labels(self, spans: list[tuple[int, int]]) -> None:
        """Find labels inside the union of ``spans`` (the only places they matter)."""
        merged: list[list[int]] = []
        for lo, hi in sorted(spans):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        labels: list[Label] = []
        for lo, hi in merged:
            for start, end, tier in scan(self.low, lo, hi):
                if tier in ("pw", "code") and self.meeting():
                    tier = "neg"
                elif tier == "otp" and names_confirmation(self.low[start:end]) and self.booking():
                    tier = "neg"  # a booking's reference (agentid.extract.bookings)
                labels.append(Label(start, end, tier))
        self.labels = labels
        self.starts = [lab.start for lab in labels]
        self.ends = [lab.end for lab in labels]
        prev, last = [], -1
        for i, lab in enumerate(labels):
            if lab.tier in TIER_BASE:
                last = i
            prev.append(last)
        nxt, last = [0] * len(labels), len(labels)
        for i in range(len(labels) - 1, -1, -1):
            if labels[i].tier in TIER_BASE:
                last = i
            nxt[i] = last
        self.prev_code, self.next_code = prev, nxt

    def between(self, lo: int, hi: int) -> list[Label]:
        """Labels fully inside [lo, hi)."""
        i = bisect_left(self.starts, lo)
        j = bisect_right(self.starts, hi)
        return [lab for lab in self.labels[i:j] if lab.end <= hi]

    def standalone(self, s: int, e: int, ls: int, le: int) -> bool:
        """Is the candidate at [s, e) alone on its line [ls, le), apart from decoration?

        (``t[ls:le].strip(_STRIP_DECOR) == t[s:e].strip(_STRIP_DECOR)``, without copying
        the line.)
        """
        t = self.t
        first = _NOT_DECOR_RE.search(t, s, e)
        if first is None:
            return False  # (a candidate always holds a digit or a letter)
        core_end = e
        while t[core_end - 1] in _STRIP_DECOR:
            core_end -= 1
        return (
            _NOT_DECOR_RE.search(t, ls, first.start()) is None
            and _NOT_DECOR_RE.search(t, core_end, le) is None
        )

    def window(self, s: int, e: int, ls: int, le: int, alone: bool) -> tuple[int, int]:
        """The span whose labels can matter for a candidate at [s, e) (on the line
        [ls, le), ``alone`` on it or not)."""
        t = self.t
        if not alone:
            return max(0, min(ls, s - 160)), le  # same line or same sentence only
        lo = ls
        for _ in range(4):  # standalone value: a few lines around it
            nxt = t.rfind("\n", max(0, s - 500), max(lo - 1, 0))
            if nxt < 0:
                lo = max(0, s - 500)
                break
            lo = nxt
        hi = e
        for _ in range(3):
            nxt = t.find("\n", hi + 1, e + 300)
            if nxt < 0:
                hi = min(len(t), e + 300)
                break
            hi = nxt
        return max(0, min(lo, s - 160)), hi

    def line_bounds(self, s: int, e: int) -> tuple[int, int]:
        ls = self.t.rfind("\n", 0, s) + 1
        le = self.t.find("\n", e)
        return ls, (len(self.t) if le < 0 else le)

    def sentence_end(self, e: int, stop: int) -> int:
        """End of the sentence holding position ``e`` (just after its ".", "!"...),
        at most ``stop`` (the end of the line)."""
        if stop - e <= _LONG:
            m = BREAK_RE.search(self.t, e, stop)
            return m.start() + 1 if m else stop
        if self._breaks is None:
            self._breaks = [m.start() for m in _BREAK_AT_RE.finditer(self.t)]
        i = bisect_left(self._breaks, e)
        if i < len(self._breaks) and self._breaks[i] < stop:
            return self._breaks[i] + 1
        return stop

    def promo_between(self, lo: int, hi: int) -> bool:
        """Does a promotion word occur in ``low[lo:hi]``?"""
        if hi - lo <= _LONG:
            return kw.PROMO_RE.search(self.low, lo, hi) is not None
        if self._promos is None:  # every position a match starts at, and where it ends
            found = [(m.start(), m.end(1)) for m in _PROMO_AT_RE.finditer(self.low)]
            self._promos = ([p for p, _ in found], [q for _, q in found])
        starts, ends = self._promos
        i = bisect_left(starts, lo)
        while i < len(starts) and starts[i] < hi:
            if ends[i] <= hi:
                return True
            i += 1
        return False
