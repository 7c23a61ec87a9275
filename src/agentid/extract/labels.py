"""Fast label scanning: dispatch on the first character of each keyword pattern.

One regex made of every keyword alternative is slow in ``re`` (each position tries them
all). Here the alternatives are bucketed by their possible first characters, and only
word starts (plus every CJK/Hangul character and a few symbols) are tried, each against
the small regex of its bucket. Patterns are lower-case; the scanned text must be too.

Linear: positions inside a label found are not tried again, and an alternative can scan
past its start only to the end of its word, or a bounded length (``keywords``).
"""

from __future__ import annotations

import re

from .alternations import class_end
from .alternations import split_top as _split_top
from .keywords import LABEL_TIERS

# Labels are tried at word starts, at every character of CJK/kana/hangul text (no spaces
# there), and at "code"/"nummer" inside compounds ("Sicherheitscode", "Kundennummer").
_LETTER = "a-zß-ɏḀ-ỿа-яёіїєґ\u0600-\u06ff\u0900-\u097f"
START_RE = re.compile(
    rf"(?<![{_LETTER}])[{_LETTER}]|[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af〒#№]"
    rf"|(?<=[{_LETTER}])(?:code|kod|nummer)|(?<![\w])2(?=fa)"
)


def _group_end(p: str, i: int) -> int:
    depth = 0
    j = i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = class_end(p, j) + 1
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
            j = class_end(p, i)
            atom, i = _class_chars(p[i + 1 : j]), j + 1
        elif c == "(":
            j = _group_end(p, i)
            inner = p[i + 1 : j]
            if inner.startswith(("?=", "?!", "?<=", "?<!")):
                i = j + 1  # zero-width: the first character comes after it
                continue
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


def _quantifier(p: str, i: int) -> tuple[str, int]:
    """The quantifier at ``p[i]`` ("" when none) and the index after it."""
    if i >= len(p) or p[i] not in "?*+{":
        return "", i
    j = p.index("}", i) + 1 if p[i] == "{" else i + 1
    if j < len(p) and p[j] in "?+":  # lazy or possessive
        j += 1
    return p[i:j], j


def second_chars(p: str, first: str) -> set[str] | None:
    """Possible second characters of a match of ``p`` that starts with ``first``; None
    when unknown (or the match may be one character long)."""
    out: set[str] = set()
    for prefix in _starts(p, 2):
        if len(prefix) < 2:
            if not prefix or prefix == first:
                return None
        elif prefix[0] == first:
            out.add(prefix[1])
    return out


def _starts(p: str, k: int) -> set[str]:
    """Strings of at most ``k`` characters one of which starts every match of ``p`` (a
    shorter one: what follows it is not known, or the match may end there)."""
    if k == 0 or not p:
        return {""}
    c = p[0]
    chars: set[str] | None = None
    alts: list[str] = []
    if c == "\\":
        if p[1] in "bB":
            return _starts(p[2:], k)
        if p[1] in "wWdDsS":
            return {""}
        chars, j = {p[1]}, 2
    elif c == "[":
        j = class_end(p, 0) + 1
        chars = _class_chars(p[1 : j - 1])
        if chars is None:
            return {""}
    elif c == "(":
        j = _group_end(p, 0) + 1
        inner = p[1 : j - 1]
        if inner.startswith(("?=", "?!", "?<=", "?<!")):
            return _starts(p[j:], k)  # zero-width
        alts = _split_top(inner[2:] if inner.startswith("?:") else inner)
    elif c in ".^$|)":
        return {""}
    else:
        chars, j = {c}, 1
    q, j = _quantifier(p, j)
    rest = p[j:]
    repeated = q[:1] in ("*", "+") or (q[:1] == "{" and q.rstrip("?+") not in ("{0}", "{1}"))
    out: set[str] = set()
    if chars is not None:
        if repeated:
            out = set(chars)
        else:
            out = {ch + tail for ch in chars for tail in _starts(rest, k - 1)}
    else:
        for alt in alts:
            out |= _starts(alt, k) if repeated else _starts(alt + rest, k)
    if q[:1] in ("?", "*") or q.startswith("{0"):
        out |= _starts(rest, k)
    return out


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


# Alternatives that can start at any word (German compounds: "[a-zäöüß]*nummer") end in
# a word they need; they are left out of scans of text that does not hold it.
_ANY_START = frozenset(
    alt for alts in _BUCKETS.values() for _, alt in alts if len(first_chars(alt) or ()) > 26
)
_NEEDED = [re.search(r"(?<!\\)[a-z]{4,}$", alt) for alt in _ANY_START]
assert all(_NEEDED), "an any-start label must end in a literal word"
_NEEDED_WORDS = tuple(sorted({m.group(0) for m in _NEEDED if m}))


def _bucket(ch: str, second: str | None, compounds: bool) -> re.Pattern[str] | None:
    """The regex of the labels that can start with ``ch`` (and then ``second``), with the
    any-start ones only if ``compounds``."""
    alts = _BUCKETS.get(ch, []) + _ALWAYS
    if not compounds:
        alts = [(t, a) for t, a in alts if a not in _ANY_START]
    if second is not None:
        alts = [(t, a) for t, a in alts if (s := second_chars(a, ch)) is None or second in s]
    if not alts:
        return None
    groups: list[str] = []
    for tier in _ORDER:
        mine = [a for t, a in alts if t == tier]
        if mine:
            groups.append(f"(?P<{tier}>{'|'.join(mine)})")
    return re.compile("|".join(groups))


class _Buckets(dict[str, "re.Pattern[str] | None"]):
    """Bucket regexes by first character (key "c") or first two ("cd"), compiled on first
    use (a dict lookup per position, no call)."""

    def __init__(self, compounds: bool) -> None:
        super().__init__()
        self.compounds = compounds

    def __missing__(self, key: str) -> re.Pattern[str] | None:
        rx = self[key] = _bucket(key[0], key[1] if len(key) > 1 else None, self.compounds)
        return rx  # (None: no label starts so)


_REGEX = _Buckets(compounds=True)
_REGEX_PLAIN = _Buckets(compounds=False)  # (most positions then have no bucket at all)
# second characters some alternative names explicitly; for any other second character
# only the alternatives that can be followed by anything are tried (key ch + "\x00")
_PAIRS = frozenset(
    ch + c for ch, alts in _BUCKETS.items() for _, alt in alts for c in second_chars(alt, ch) or ()
)
assert not _ALWAYS, "every label alternative must have known first characters"
_LETTER_RE = re.compile(f"[{_LETTER}]")
_CJK_RE = re.compile("[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af〒#№]")


def _chars(keys: list[str]) -> str:
    return "".join(re.escape(ch) for ch in sorted(keys))


# START_RE's positions, found a word at a time: a run of letters (its start, unless the
# scan starts inside it) or one CJK character, "2" of "2fa"; and the "code", "kod",
# "nummer" inside words. Only characters that start some label count.
_WORD_RE = re.compile(
    rf"[{_LETTER}][{_LETTER}]*+|[{_chars([c for c in _BUCKETS if _CJK_RE.match(c)])}]"
    r"|2(?<!\w2)(?=fa)"
)
_INNER_RE = re.compile(
    rf"code(?<=[{_LETTER}]code)|kod(?<=[{_LETTER}]kod)|nummer(?<=[{_LETTER}]nummer)"
)


def scan(low: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int, str]]:
    """(start, end, tier) of keyword labels in lower-cased ``low`` between ``lo`` and ``hi``."""
    end = len(low) if hi is None else hi
    starts = [m.start() for m in _WORD_RE.finditer(low, lo, end)]
    if (
        starts
        and starts[0] == lo
        and lo
        and _LETTER_RE.match(low, lo - 1)
        and _LETTER_RE.match(low, lo)
    ):
        del starts[0]  # a word cut at ``lo``
    inner = [m.start() for m in _INNER_RE.finditer(low, lo, end)]
    if inner:
        starts = sorted(starts + inner)
    out: list[tuple[int, int, str]] = []
    last = lo
    compounds = any(low.find(word, lo, end) >= 0 for word in _NEEDED_WORDS)
    regex, pairs = (_REGEX if compounds else _REGEX_PLAIN), _PAIRS
    for pos in starts:
        if pos < last:
            continue
        if pos + 1 < end:
            pair = low[pos : pos + 2]
            rx = regex[pair if pair in pairs else pair[0] + "\x00"]
        else:
            rx = regex[low[pos]]
        if rx is None:
            continue
        mm = rx.match(low, pos, end)
        if mm and mm.end() > pos:
            out.append((pos, mm.end(), mm.lastgroup or "neg"))
            last = mm.end()
    return out
