"""The sentence between a code label and a code: where it ends, and how long it reads.

Banks put a lot between "code" and the code: an amount with its currency, a merchant
(``MAISON DUPONT S.A.S.``, ``Otto GmbH & Co. KG``), a masked card number, a date. None of
that ends the sentence or makes the code far from its label; ordinary words do.

- A sentence ends at "!", "?", "。"..., a blank line, or a "." followed by a space, unless
  the "." ends an abbreviation (a single letter, ``Co.``, ``Inc.``, ``S.A.R.L.``...) or
  the next word starts in lower case.
- :func:`prose_length` is the length of the words between two points that are not
  numbers, amounts, masked digits, upper-case names or abbreviations.
"""

from __future__ import annotations

import re

# lower case: any case is matched ("co" matches "Co" and "CO")
_ABBREVIATIONS = (
    "co", "inc", "ltd", "corp", "llc", "plc", "bv", "nv", "ag", "kg", "sa", "sas", "sarl",
    "srl", "spa", "ltda", "cia", "pte", "pty", "bhd", "tbk", "mr", "mrs", "ms", "dr", "st",
    "no", "nr", "tel", "str", "ca", "min", "max", "ref", "art", "vs", "jr", "sr", "dept",
    "ave", "blvd", "rd", "bzw", "usw", "ggf", "inkl", "zzgl", "evtl", "ul", "av", "mme",
    "approx", "nº",
)  # fmt: skip
_LOWER = "a-zß-öø-ÿа-яёіїєґ"


def _any_case(word: str) -> str:
    return "".join(f"[{c}{c.upper()}]" if c.upper() != c else re.escape(c) for c in word)


def _not_after_abbreviation() -> str:
    """Look-behinds (after the "."): the "." does not end a single letter or an
    abbreviation."""
    by_length: dict[int, list[str]] = {}
    for word in _ABBREVIATIONS:
        by_length.setdefault(len(word), []).append(_any_case(word))
    # (a look-behind has one width: one per length; "\b" before: a whole word)
    groups = [rf"(?<!\b(?:{'|'.join(words)})\.)" for _, words in sorted(by_length.items())]
    return r"(?<!\b[^\W\d_]\.)" + "".join(groups)


# "." not after an abbreviation, not before a word in lower case (the "." first: the
# look-behinds are only tried where there is one)
_DOT = rf"\.{_not_after_abbreviation()}(?:\s|$)(?![ \t]*+[{_LOWER}])"
BREAK = rf"[!?。！？](?:\s|$)|{_DOT}|\n[ \t]*\n"
BREAK_RE = re.compile(BREAK)

_SIGNS = frozenset("0123456789*•●∗$€£¥₹₽₩₺₴₫%")
_TOKEN_RE = re.compile(r"\S++")


def _skipped(token: str) -> bool:
    """Is ``token`` what banks put between a label and a code? A number, an amount, masked
    digits, a currency sign, a word without a lower-case letter (MAISON, S.A.S., EUR),
    punctuation. (Text without spaces, CJK, is one token: never skipped.)"""
    if len(token) > 24:
        return False
    upper = False
    for c in token:
        if c in _SIGNS:
            return True
        if c.islower():
            return False
        if c.isupper():
            upper = True
        elif c.isalpha():
            return False  # a letter without case (CJK, Arabic, Devanagari...): a word
    return upper or not any(c.isalnum() for c in token)


def prose_length(t: str, lo: int, hi: int) -> int:
    """Characters of ordinary words in ``t[lo:hi]``: ``hi - lo`` minus the tokens banks
    put there (:func:`_skipped`)."""
    skipped = 0
    for m in _TOKEN_RE.finditer(t, lo, hi):
        if _skipped(m.group()):
            skipped += m.end() - m.start()
    return hi - lo - skipped
