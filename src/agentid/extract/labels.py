"""Fast label scanning: dispatch on the first character of each keyword pattern.

One regex made of every keyword alternative is slow in ``re`` (each position tries them
all). Here the alternatives are bucketed by their possible first characters, and only
word starts (plus every CJK/Hangul character and a few symbols) are tried, each against
the small regex of its bucket. Patterns are lower-case; the scanned text must be too.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .keywords import LABEL_TIERS

# Labels are tried at word starts, at every character of CJK/kana/hangul text (no spaces
# there), and at "code"/"nummer" inside compounds ("Sicherheitscode", "Kundennummer").
_LETTER = "a-zß-ɏḀ-ỿа-яёіїєґ\u0600-\u06ff\u0900-\u097f"
START_RE = re.compile(
    rf"(?<![{_LETTER}])[{_LETTER}]|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af〒#№]"
    rf"|(?<=[{_LETTER}])(?:code|kod|nummer)|(?<![\w])2(?=fa)"
)


def _split_top(p: str) -> list[str]:
    """Split ``p`` on '|' outside groups and character classes."""
    parts: list[str] = []
    cur: list[str] = []
    depth = 0
    in_class = False
    i = 0
    while i < len(p):
        c = p[i]
        if c == "\\":
            cur.append(p[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    parts.append("".join(cur))
    return parts


def _class_end(p: str, i: int) -> int:
    j = i + 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j


def _group_end(p: str, i: int) -> int:
    depth = 0
    j = i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(p, j) + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return j


def _class_chars(body: str) -> set[str] | None:
    if body.startswith("^"):
        return None
    chars: set[str] = set()
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            if body[i + 1] in "wWdDsS":
                return None
            chars.add(body[i + 1])
            i += 2
            continue
        if i + 2 < len(body) and body[i + 1] == "-":
            chars.update(chr(x) for x in range(ord(c), ord(body[i + 2]) + 1))
            i += 3
            continue
        chars.add(c)
        i += 1
    return chars


def first_chars(p: str) -> set[str] | None:
    """Possible first characters of a match of ``p``; None when unknown/anything."""
    acc: set[str] = set()
    i = 0
    while i < len(p):
        c = p[i]
        atom: set[str] | None
        if c == "\\":
            nxt = p[i + 1]
            if nxt in "bB":
                i += 2
                continue
            if nxt in "wWdDsS":
                return None
            atom, i = {nxt}, i + 2
        elif c == "[":
            j = _class_end(p, i)
            atom, i = _class_chars(p[i + 1 : j]), j + 1
        elif c == "(":
            j = _group_end(p, i)
            inner = p[i + 1 : j]
            if inner.startswith(("?=", "?!", "?<=", "?<!")):
                return None
            if inner.startswith("?:"):
                inner = inner[2:]
            atom = set()
            for alt in _split_top(inner):
                sub = first_chars(alt)
                if sub is None:
                    return None
                atom |= sub
            i = j + 1
        elif c in ".^$":
            return None
        else:
            atom, i = {c}, i + 1
        if atom is None:
            return None
        acc |= atom
        optional = i < len(p) and (p[i] in "?*" or p.startswith("{0", i))
        if optional:
            i += 1
            continue
        return acc
    return None  # every atom optional: may match empty


def _build() -> tuple[dict[str, list[tuple[str, str]]], list[tuple[str, str]]]:
    buckets: dict[str, list[tuple[str, str]]] = {}
    always: list[tuple[str, str]] = []
    for tier, entries in LABEL_TIERS:
        for entry in entries:
            for alt in _split_top(entry):
                fs = first_chars(alt)
                if fs is None:
                    always.append((tier, alt))
                    continue
                for ch in fs:
                    buckets.setdefault(ch, []).append((tier, alt))
    return buckets, always


_BUCKETS, _ALWAYS = _build()
_ORDER = [tier for tier, _ in LABEL_TIERS]


@lru_cache(maxsize=1024)
def _bucket(ch: str) -> re.Pattern[str] | None:
    alts = _BUCKETS.get(ch, []) + _ALWAYS
    if not alts:
        return None
    groups: list[str] = []
    for tier in _ORDER:
        mine = [a for t, a in alts if t == tier]
        if mine:
            groups.append(f"(?P<{tier}>{'|'.join(mine)})")
    return re.compile("|".join(groups))


def scan(low: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int, str]]:
    """(start, end, tier) of keyword labels in lower-cased ``low`` between ``lo`` and ``hi``."""
    end = len(low) if hi is None else hi
    out: list[tuple[int, int, str]] = []
    last = lo
    for m in START_RE.finditer(low, lo, end):
        pos = m.start()
        if pos < last:
            continue
        rx = _bucket(low[pos])
        if rx is None:
            continue
        mm = rx.match(low, pos, end)
        if mm and mm.end() > pos:
            out.append((pos, mm.end(), mm.lastgroup or "neg"))
            last = mm.end()
    return out
