"""Regex alternations: splitting them, and compiling them to be searched fast.

``re`` tries a pattern's alternatives one after the other at every position of the text,
so a search for one of a hundred keywords costs a hundred tries per character. Grouped by
first character (``c(?:ode|ódigo)|p(?:in|ass)``), it costs one quick test per group.
"""

from __future__ import annotations

import re

_SPECIAL = frozenset(".^$*+?{}[]\\|()")
_QUANTIFIERS = frozenset("?*+{")


def class_end(p: str, i: int) -> int:
    """Index of the "]" closing the character class opened at ``p[i]`` (a "]" first, or
    after "^", is a member); ``len(p)`` when nothing closes it."""
    j = i + 1
    if p[j : j + 1] == "^":
        j += 1
    if p[j : j + 1] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    return j


def split_top(p: str) -> list[str]:
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


def any_of(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile(pattern, flags)`` for searching only: the same texts match, but which
    alternative matched (and so the span of the match) may differ.

    Top-level alternatives that start with a plain character (or ``\\b`` and a word
    character, which becomes a look-behind after it) are grouped by that character.
    """
    groups: dict[str, list[str]] = {}
    other: list[str] = []
    for alt in split_top(pattern):
        if alt[:1] and alt[0] not in _SPECIAL and alt[1:2] not in _QUANTIFIERS:
            groups.setdefault(alt[0], []).append(alt[1:])
        elif (
            alt.startswith("\\b") and alt[2:3].isalnum() and alt[3:4] not in _QUANTIFIERS
        ):  # \bX... == X(?<!\w.)...: no word character before X
            groups.setdefault(alt[2], []).append(r"(?<!\w.)" + alt[3:])
        else:
            other.append(alt)
    parts = [
        re.escape(c) + (f"(?:{'|'.join(rests)})" if rests != [""] else "")
        for c, rests in groups.items()
    ]
    return re.compile("|".join(parts + other), flags)
