"""Text normalisation that keeps character offsets (one char in, one char out).

Everything here is linear in the length of the text: URLs and e-mail addresses are only
looked for inside the whitespace-free tokens that can hold them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

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
_ASCII_TABLE = {cp: to for cp, to in _TABLE.items() if cp < 0x80}
# the characters normalize() changes: text without any skips the (slow, non-ASCII) translate
_MAPPED_RE = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_TABLE)) + "]")


def clean(text: str) -> str:
    """Remove invisible characters (zero-width, bidi marks, soft hyphens)."""
    text = text.replace("\r\n", "\n")
    if text.isascii():
        return text  # the invisible characters are all non-ASCII
    return _INVISIBLE_RE.sub("", text)


_DIGIT_DASH_RE = re.compile(r"(?<=[0-9])[–—](?=[0-9])")


def normalize(text: str) -> str:
    """Map full-width/non-ASCII digits and odd spaces to ASCII; length-preserving."""
    if text.isascii():  # only \r, \t, \f and \v change
        if "\r" in text or "\t" in text or "\f" in text or "\v" in text:
            text = text.translate(_ASCII_TABLE)
        return text
    if "\xa0" in text:  # (the one most non-ASCII texts hold: translate is slow)
        text = text.replace("\xa0", " ")
    if _MAPPED_RE.search(text):
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
# Neither can hold whitespace, and what they look at before their start is one character,
# so they are matched inside the whitespace-free tokens that contain "/", "www." or "@".
URL_CHARS = r"A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%"
URL_RE = re.compile(
    r"(?:\b(?:https?|ftp)://|\bwww\.)[" + URL_CHARS + r"]+"
    r"|(?<![@\w.\-/])(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+[a-z]{2,24}/[" + URL_CHARS + r"]+",
    re.IGNORECASE,
)
EMAIL_RE = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
_URL_HINT_RE = re.compile(r"/|[wW][wW][wW]\.")
_EMAIL_HINT_RE = re.compile("@")
_SPACE_RE = re.compile(r"\s")
_TRAIL = ".,;:!?'\"*"


def trim_url(url: str) -> str:
    """Strip trailing punctuation and unbalanced closing brackets from a matched URL."""
    opened = url.count("(")
    closed = url.count(")")
    opened_sq = url.count("[")
    closed_sq = url.count("]")
    end = len(url)
    while end:
        last = url[end - 1]
        if last == ")" and opened < closed:
            closed -= 1
        elif last == "]" and opened_sq < closed_sq:
            closed_sq -= 1
        elif last in _TRAIL:
            pass
        else:
            break
        end -= 1
    return url[:end]


def _spans(hint_re: re.Pattern[str], rx: re.Pattern[str], text: str) -> list[re.Match[str]]:
    """The matches of ``rx`` in ``text``, looked for only in the whitespace-free tokens
    holding a match of ``hint_re``."""
    out: list[re.Match[str]] = []
    n = len(text)
    backwards = ""  # text reversed, to find the whitespace before a hint
    pos = 0
    while (hint := hint_re.search(text, pos)) is not None:
        i = hint.start()
        if not backwards:
            backwards = text[::-1]
        before = _SPACE_RE.search(backwards, n - i)
        after = _SPACE_RE.search(text, i)
        pos = after.start() if after else n
        out.extend(rx.finditer(text, n - before.start() if before else 0, pos))
    return out


def find_urls(text: str) -> list[tuple[int, int, str]]:
    """(start, end, url) for every URL in ``text``, trailing punctuation removed."""
    out: list[tuple[int, int, str]] = []
    for start, end in _url_spans(text):
        url = trim_url(text[start:end])
        if url:
            out.append((start, start + len(url), url))
    return out


@lru_cache(maxsize=8)
def _url_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Where ``URL_RE`` matches ``text`` (kept: the plain text part is both masked for
    codes and searched for links)."""
    return tuple(m.span() for m in _spans(_URL_HINT_RE, URL_RE, text))


def _blank(text: str, spans: Iterable[tuple[int, int]]) -> str:
    parts: list[str] = []
    pos = 0
    for start, end in spans:
        parts.append(text[pos:start])
        parts.append(" " * (end - start))
        pos = end
    if not parts:
        return text
    parts.append(text[pos:])
    return "".join(parts)


def mask_urls_and_emails(text: str) -> str:
    """Replace URLs and e-mail addresses by spaces (same length)."""
    if "/" in text or "www." in text or "WWW." in text:
        text = _blank(text, _url_spans(text))
    if "@" in text:
        text = _blank(text, (m.span() for m in _spans(_EMAIL_HINT_RE, EMAIL_RE, text)))
    return text
