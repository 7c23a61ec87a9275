"""Text normalisation that keeps character offsets (one char in, one char out)."""

from __future__ import annotations

import re

_INVISIBLE_RE = re.compile(
    "[\u00ad\u034f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]"
)


def _build_table() -> dict[int, int]:
    table: dict[int, int] = {}
    # full-width letters/digits and a few signs; full-width punctuation such as '，' stays
    # (a CJK comma after a code is not a decimal separator)
    for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)):
        table[cp] = cp - 0xFEE0
    for cp in (0xFF03, 0xFF0B, 0xFF0D, 0xFF04, 0xFF05):
        table[cp] = cp - 0xFEE0
    for base in (0x0660, 0x06F0, 0x0966, 0x09E6, 0x0E50, 0xFF10):  # other decimal digits
        for i in range(10):
            table[base + i] = ord("0") + i
    for cp in (0x00A0, 0x2007, 0x202F, 0x3000, *range(0x2000, 0x200B)):
        table[cp] = ord(" ")
    for cp in (0x2010, 0x2011, 0x2012, 0x2212, 0xFE63):
        table[cp] = ord("-")
    table[0x2028] = ord("\n")
    table[0x2029] = ord("\n")
    table[ord("\r")] = ord("\n")
    table[ord("\t")] = ord(" ")
    table[ord("\f")] = ord("\n")
    table[ord("\v")] = ord("\n")
    return table


_TABLE = _build_table()


def clean(text: str) -> str:
    """Remove invisible characters (zero-width, bidi marks, soft hyphens)."""
    text = text.replace("\r\n", "\n")
    return _INVISIBLE_RE.sub("", text)


_DIGIT_DASH_RE = re.compile(r"(?<=[0-9])[–—](?=[0-9])")


def normalize(text: str) -> str:
    """Map full-width/non-ASCII digits and odd spaces to ASCII; length-preserving."""
    text = text.translate(_TABLE)
    if "–" in text or "—" in text:
        text = _DIGIT_DASH_RE.sub("-", text)  # "123–456" is a dashed code
    return text


def lower(text: str) -> str:
    """Lower-case without changing length (e.g. 'İ' would otherwise grow)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(lc := c.lower()) != 1 else lc for c in text)


# URLs (with or without scheme) and e-mail addresses; masked before looking for codes.
URL_CHARS = r"A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%"
URL_RE = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[" + URL_CHARS + r"]+"
    r"|(?<![@\w.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,24}/[" + URL_CHARS + r"]+",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_TRAIL = ".,;:!?'\"*"


def trim_url(url: str) -> str:
    """Strip trailing punctuation and unbalanced closing brackets from a matched URL."""
    while url:
        last = url[-1]
        unbalanced = (last == ")" and url.count("(") < url.count(")")) or (
            last == "]" and url.count("[") < url.count("]")
        )
        if last not in _TRAIL and not unbalanced:
            break
        url = url[:-1]
    return url


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) for every URL in ``text``, trailing punctuation removed."""
    out: list[tuple[int, int, str]] = []
    for m in URL_RE.finditer(text):
        url = trim_url(m.group(0))
        if url:
            out.append((m.start(), m.start() + len(url), url))
    return out


def _blank(m: re.Match[str]) -> str:
    return " " * (m.end() - m.start())


def mask_urls_and_emails(text: str) -> str:
    """Replace URLs and e-mail addresses by spaces (same length)."""
    if "/" in text or "www." in text or "WWW." in text:
        text = URL_RE.sub(_blank, text)
    if "@" in text:
        text = EMAIL_RE.sub(_blank, text)
    return text
