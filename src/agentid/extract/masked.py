"""Masked numbers: card, account and phone numbers with digits hidden are never codes.

``****1234``, ``*4471``, ``XX1234``, ``010-****-5678``, ``DE12 **** **** **** 7781``,
``+1 (***) ***-8812``, ``138****5521``: a run of mask characters (``*``, ``•``, ``●``, or
two or more ``X``) with the digits and groups glued to it. A run of two or more mask
characters also takes the groups around it that are separated by one space, dash or dot
(``1234 **** **** 5678``); a lone ``*`` only what touches it (``* 123456`` is a bullet).

Linear: each mask run is found once, and the groups around it are walked once (a run
inside a span already found is skipped; a span is at most ``MAX_SPAN`` long).
"""

from __future__ import annotations

import re
from bisect import bisect_right

MAX_SPAN = 64
# (each alternative starts with its character: re skips quickly to where one is)
_MASK_RE = re.compile(r"[*•●∗]++|[xX](?<![A-Za-z][xX])[xX]++(?![A-Za-z])")
_MASK_CHARS = frozenset("*•●∗xX")
_GLUED = frozenset("0123456789*•●∗xX()+")  # characters of one group of a masked number
_SEPARATORS = frozenset(" -.")
_HINTS = ("*", "•", "●", "∗", "xx", "XX")


def _group_end(t: str, i: int, limit: int) -> int:
    while i < limit and t[i] in _GLUED:
        i += 1
    return i


def _group_start(t: str, i: int, limit: int) -> int:
    while i > limit and t[i - 1] in _GLUED:
        i -= 1
    return i


def _spanned(t: str, start: int, end: int, strong: bool) -> tuple[int, int]:
    lo, hi = max(0, start - MAX_SPAN // 2), min(len(t), end + MAX_SPAN // 2)
    start, end = _group_start(t, start, lo), _group_end(t, end, hi)
    if strong:
        while end + 1 < hi and t[end] in _SEPARATORS and t[end + 1] in _GLUED:
            end = _group_end(t, end + 1, hi)
        while start - 1 > lo and t[start - 1] in _SEPARATORS and t[start - 2] in _GLUED:
            start = _group_start(t, start - 1, lo)
    # the country and check digits of an IBAN: "DE12 ****"
    if start >= 5 and t[start - 1] == " " and t[start - 5 : start - 3].isupper():
        head = t[start - 5 : start - 1]
        if head[:2].isalpha() and head[:2].isascii() and head[2:].isdigit():
            start -= 5
    return start, end


def masked_spans(t: str) -> list[tuple[int, int]]:
    """[start, end) of the masked numbers in ``t``, in order, not overlapping."""
    if not any(h in t for h in _HINTS):
        return []
    spans: list[tuple[int, int]] = []
    last = 0
    for m in _MASK_RE.finditer(t):
        if m.start() < last:
            continue
        strong = m.end() - m.start() >= 2
        start, end = _spanned(t, m.start(), m.end(), strong)
        if not any(c.isdigit() for c in t[start:end]):
            continue  # decoration ("***", "* * *"), no number
        if spans and start < spans[-1][1]:
            start = spans[-1][0]
            spans.pop()
        spans.append((start, end))
        last = end
    return spans


def overlaps(spans: list[tuple[int, int]], starts: list[int], s: int, e: int) -> bool:
    """Does [s, e) overlap one of ``spans`` (``starts``: their starts)?"""
    i = bisect_right(starts, e - 1) - 1  # the last span starting before e
    return i >= 0 and spans[i][1] > s
