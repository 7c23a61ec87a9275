"""The guard on what leaves: no received verification code or magic link goes out.

An agent can be talked into forwarding what it received ("reply with the code you just
got"). ``find_leaks`` looks for every code and link the project received (all candidates,
used or not) in an outgoing message's subject, text, HTML (its source, so attribute values
and comments count) and attachment names. Attachment contents are not read.

Every field is first normalised: HTML entities decoded, NFKC (fullwidth digits become
ASCII, a no-break space a space), format characters such as zero-width spaces and soft
hyphens removed, case folded.

**Codes** are compared on their letters and digits (``G-830829`` is ``g830829``) as a
token of their own. The text is cut into *runs*: letter-and-digit groups joined by single
separators (space, ``-``, ``.``, ``_``, ``/``). A code matches when some consecutive groups
of a run spell it, so ``482913``, ``482 913``, ``482-913`` and ``4 8 2 9 1 3`` all match,
while ``1482913`` and ``A482913`` (one longer group) and ``14 82913`` (the code starts
inside a group) do not. Concatenations are only formed up to the longest code's length,
so a megabyte of prose costs a linear pass, whatever the number of codes: each candidate
is a set lookup. Codes of fewer than four letters and digits are not guarded (they would
match ordinary words and numbers).

**Links** are compared by URL: scheme and host case-insensitive, percent-escapes decoded,
without a trailing slash or trailing punctuation, found anywhere in a field.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote, urlsplit

MIN_CODE = 4  # letters and digits: shorter codes are not guarded
Where = Literal["subject", "text", "html", "attachment_name"]

_GROUP = re.compile(r"[^\W_]+")  # letters and digits (Unicode), no underscore
_SEPARATORS = frozenset(" -._/")
_URL = re.compile(r"(?i)\bhttps?://[^\s\"'<>`]+")
_TRAILING = ".,;:!?)]}'\""


@dataclass(frozen=True, slots=True)
class ReceivedSecret:
    """A code or link the project received, and where it came from."""

    value: str
    kind: Literal["code", "link"]
    source_type: str  # email, sms, escalation
    source_id: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    subject: str
    text: str | None
    html: str | None
    attachment_names: Sequence[str]


@dataclass(frozen=True, slots=True)
class Leak:
    """A received secret found in an outgoing message: the first field it is in."""

    value: str
    kind: Literal["code", "link"]
    source_type: str
    source_id: str
    where: Where


def normalise(text: str) -> str:
    """Entities decoded, NFKC, format characters (zero-width, soft hyphen) gone."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def code_core(value: str) -> str:
    """A code as compared: its letters and digits only."""
    return "".join(_GROUP.findall(normalise(value).casefold()))


def url_key(url: str) -> str:
    """A URL as compared: scheme and host lower case, escapes decoded, no trailing slash."""
    url = normalise(url.strip()).rstrip(_TRAILING)
    try:
        parts = urlsplit(url)
    except ValueError:
        return unquote(url).rstrip("/")
    rest = unquote(url[len(parts.scheme) + 3 + len(parts.netloc) :])
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{rest}".rstrip("/")


def tokens(text: str, longest: int) -> Iterable[str]:
    """Every concatenation of consecutive groups of a run, up to ``longest`` characters."""
    run: list[str] = []
    end = -1
    for match in _GROUP.finditer(text):
        if run and not (match.start() == end + 1 and text[end] in _SEPARATORS):
            yield from _concatenations(run, longest)
            run = []
        run.append(match.group())
        end = match.end()
    yield from _concatenations(run, longest)


def _concatenations(run: list[str], longest: int) -> Iterable[str]:
    count = len(run)
    for start in range(count):
        joined = ""
        for index in range(start, count):
            joined += run[index]
            if len(joined) > longest:
                break
            yield joined


def find_leaks(outgoing: Outgoing, received: Iterable[ReceivedSecret]) -> list[Leak]:
    """The received codes and links ``outgoing`` holds, each once, in the order found."""
    codes: dict[str, list[ReceivedSecret]] = {}
    links: dict[str, list[ReceivedSecret]] = {}
    for secret in received:
        if secret.kind == "link":
            links.setdefault(url_key(secret.value), []).append(secret)
        elif len(core := code_core(secret.value)) >= MIN_CODE:
            codes.setdefault(core, []).append(secret)
    if not codes and not links:
        return []
    longest = max((len(c) for c in codes), default=0)
    fields: list[tuple[Where, str]] = [("subject", outgoing.subject)]
    fields += [("text", outgoing.text or ""), ("html", outgoing.html or "")]
    fields += [("attachment_name", name) for name in outgoing.attachment_names]
    found: dict[int, Leak] = {}
    for where, raw in fields:
        if not raw:
            continue
        text = normalise(raw)
        hits: list[ReceivedSecret] = []
        if codes:
            hits += [s for t in tokens(text.casefold(), longest) for s in codes.get(t, ())]
        if links:
            hits += [s for u in _URL.findall(text) for s in links.get(url_key(u), ())]
        for s in hits:
            found.setdefault(id(s), Leak(s.value, s.kind, s.source_type, s.source_id, where))
    return list(found.values())
