"""Classifying links (verify / login / reset / confirm) from their context; never fetched.

Linear in the length of the text: at most ``MAX_LINKS`` links per part are looked at,
each with at most ``CONTEXT_CHARS`` of text before it (its line, the lines above).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from urllib.parse import unquote
from urllib.parse import urlsplit

from .accents import fold
from .html_text import Rendered
from .link_words import ANY_KIND_RE
from .link_words import CTX_KIND_RE
from .link_words import GENERIC_RE
from .link_words import KIND_ORDER
from .link_words import NEG_CTX_RE
from .link_words import NEG_HOSTS
from .link_words import NEG_URL_RE
from .link_words import URL_KIND_RE
from .models import Link
from .textnorm import find_urls

MAX_LINKS = 100  # link occurrences per part: past that, a newsletter, not a verification
CONTEXT_CHARS = 500  # text before a link (or of an anchor) that can name its action

_BREAK_RE = re.compile(r"[.!?。！？](?:\s|$)")
_B64_RE = re.compile(r"^[A-Za-z0-9_\-]{16,}+={0,2}$")
_LETTERS_RE = re.compile(r"[A-Za-z_\-]+")
_SKIP_PARAMS = frozenset({"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"})


@dataclass(slots=True)
class _Occurrence:
    url: str
    primary: str
    paragraph: str
    after: str = ""
    start: int = 0  # where it is in its part's text
    html: bool = False  # in the HTML part (else the text part)


def _token_strength(s: str) -> float:
    s = s.strip()
    if len(s) < 4:
        return 0.0
    has_d = any(c.isdigit() for c in s)
    has_a = any(c.isalpha() for c in s)
    if has_d and has_a:
        return 1.0 if len(s) >= 8 else (0.7 if len(s) >= 6 else 0.0)
    if has_d and s.isdigit():
        return 0.5
    if len(s) >= 20 and _LETTERS_RE.fullmatch(s):
        return 0.6
    return 0.0


@dataclass(slots=True)
class _Url:
    """What a link's URL says by itself (worked out once per URL)."""

    host: str
    kinds: dict[str, float]  # actions named in the path and query
    payload: float  # how much it carries a token


def _unquote(s: str) -> str:
    return unquote(s) if "%" in s else s


def _split(url: str) -> tuple[str, str, str] | None:
    """(lower-cased host, path, query) of an http(s) URL, as ``urlsplit`` and its
    ``hostname`` give them (None where it raises ValueError). Done here for the URLs of a
    message (``urlsplit`` is Python, and a message has many); ``urlsplit`` itself for the
    odd ones (brackets, non-ASCII hosts, control characters)."""
    scheme_end = url.find("://")
    rest = url[scheme_end + 3 :]
    end = len(rest)
    for c in "/?#":
        k = rest.find(c)
        if 0 <= k < end:
            end = k
    netloc = rest[:end]
    if not url.isprintable() or not netloc.isascii() or "[" in netloc or "]" in netloc:
        try:
            parts = urlsplit(url)
            return (parts.hostname or "").lower(), parts.path, parts.query
        except ValueError:
            return None
    tail = rest[end:].partition("#")[0]
    path, _, query = tail.partition("?")
    host = netloc.rpartition("@")[2].partition(":")[0]
    return host.lower(), path, query


def _query(query: str) -> list[tuple[str, str]]:
    """``parse_qsl(query)``: the non-empty ``name=value`` pairs, unquoted."""
    out: list[tuple[str, str]] = []
    for pair in query.split("&") if query else ():
        name, eq, value = pair.partition("=")
        if eq and value:
            out.append((_unquote(name.replace("+", " ")), _unquote(value.replace("+", " "))))
    return out


def _url(url: str, excluded: frozenset[str]) -> _Url | None:
    """None when the URL is never offered (excluded, not http(s), no host, help pages...)."""
    if url in excluded or ("://" in url and not url.lower().startswith(("http://", "https://"))):
        return None
    split = _split(url if "://" in url else "http://" + url)
    if split is None:
        return None
    host, path, query_string = split
    if not host or host.startswith(NEG_HOSTS):
        return None
    query = _query(query_string)
    # lower-cased path and query, plus any redirect target (percent- or base64-encoded)
    chunks = [_unquote(path), _unquote(query_string)]
    for _, value in query:
        if value.startswith(("http://", "https://")):
            continue  # already in the unquoted query
        if _B64_RE.match(value):
            try:
                raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            except (binascii.Error, ValueError):
                continue
            if raw.startswith((b"http://", b"https://")):
                chunks.append(raw.decode("utf-8", "replace"))
    targets = " ".join(chunks).lower()
    if NEG_URL_RE.search(targets):
        return None
    payload = 0.0
    for seg in path.split("/"):
        payload = max(payload, _token_strength(seg))
    for key, value in query:
        if key.lower() not in _SKIP_PARAMS:
            payload = max(payload, _token_strength(value))
    kinds = {kind: 1.5 for kind in KIND_ORDER if URL_KIND_RE[kind].search(targets)}
    return _Url(host, kinds, payload)


def _kinds(text: str, weight: float, into: dict[str, float]) -> None:
    for kind in KIND_ORDER:
        if CTX_KIND_RE[kind].search(text):
            into[kind] = max(into.get(kind, 0.0), weight)


def subject_kind(subject: str) -> bool:
    """Does the subject line name a verify/login/reset/confirm action?"""
    return ANY_KIND_RE.search(fold(subject.lower())) is not None


def _last_sentence(text: str) -> str:
    text = text.strip()
    ends = [m.end() for m in _BREAK_RE.finditer(text)]
    return text[ends[-1] :] if ends else text


def _score(occ: _Occurrence, url: _Url) -> tuple[float, str] | None:
    primary = fold(occ.primary.strip().lower())
    if NEG_CTX_RE.search(primary):
        return None
    ctx: dict[str, float] = {}
    _kinds(primary, 3.0, ctx)
    generic = not ctx and (
        not primary
        or primary.startswith(("http", "www."))
        or url.host in primary
        or bool(GENERIC_RE.match(primary))
    )
    if generic and occ.paragraph:
        paragraph = fold(occ.paragraph.lower())
        after = fold(occ.after.lower())
        last = _last_sentence(paragraph) + " " + after
        if NEG_CTX_RE.search(last):
            return None
        named: dict[str, float] = {}
        _kinds(paragraph + " " + after, 1.5, named)
        for kind in named:  # (the last sentence is part of it: no other kind is there)
            ctx[kind] = max(ctx.get(kind, 0.0), 2.0 if CTX_KIND_RE[kind].search(last) else 1.5)
    if not ctx or url.payload <= 0:
        return None
    url_kinds = url.kinds
    combined = {k: ctx.get(k, 0.0) + url_kinds.get(k, 0.0) for k in KIND_ORDER}
    kind = max(KIND_ORDER, key=lambda k: (combined[k], -KIND_ORDER.index(k)))
    score = max(ctx.values()) + max(url_kinds.values(), default=0.0) + url.payload
    return score, kind


def _paragraph_before(text: str, pos: int, max_lines: int = 3) -> str:
    """Up to ``max_lines`` lines before ``pos`` (stopping at a blank line) plus the line prefix,
    within ``CONTEXT_CHARS`` before ``pos``."""
    floor = max(0, pos - CONTEXT_CHARS)
    if floor:
        text, pos = text[floor:pos], pos - floor
    ls = text.rfind("\n", 0, pos) + 1
    lines: list[str] = []
    cur = ls - 1
    while cur > 0 and len(lines) < max_lines:
        pls = text.rfind("\n", 0, cur) + 1
        line = text[pls:cur].strip()
        if not line:
            if lines:
                break
        else:
            lines.append(line)
        cur = pls - 1
    lines.reverse()
    prefix = text[ls:pos].strip()
    return " ".join([*lines, prefix]).strip()


def _rest(text: str, end: int) -> str:
    """The rest of the sentence after ``end`` on the same line (at most 80 characters)."""
    le = text.find("\n", end, end + 80)
    rest = text[end : (min(len(text), end + 80) if le < 0 else le)]
    m = _BREAK_RE.search(rest)
    return rest[: m.start()] if m else rest


def text_occurrences(text: str) -> list[_Occurrence]:
    out: list[_Occurrence] = []
    for start, end, url in find_urls(text)[:MAX_LINKS]:
        floor = max(0, start - CONTEXT_CHARS)
        ls = max(floor, text.rfind("\n", floor, start) + 1)
        rest = _rest(text, end)
        # text after the URL on its line can name the action too ("tap URL to verify")
        primary = (text[ls:start] + " " + rest).strip() if rest.strip() else text[ls:start]
        out.append(_Occurrence(url, primary, _paragraph_before(text, start), "", start))
    return out


def html_occurrences(rendered: Rendered) -> list[_Occurrence]:
    out: list[_Occurrence] = []
    text = rendered.text
    for a in rendered.anchors:
        href = a.href
        if not href.lower().startswith(("http://", "https://")):
            continue
        if len(out) == MAX_LINKS:
            break
        primary = text[a.start : min(a.end, a.start + CONTEXT_CHARS)]
        out.append(
            _Occurrence(
                href,
                primary,
                _paragraph_before(text, a.start, 2),
                _rest(text, a.end),
                a.start,
                True,
            )
        )
    return out


def located(occurrences: list[_Occurrence], url: str) -> tuple[bool, int] | None:
    """Where ``url`` first occurs: (in the HTML part, offset in its text)."""
    for occ in occurrences:
        if occ.url == url:
            return occ.html, occ.start
    return None


def classify(occurrences: list[_Occurrence], excluded: frozenset[str]) -> list[Link]:
    best: dict[str, tuple[float, str]] = {}
    urls: dict[str, _Url | None] = {}
    for occ in occurrences:
        if occ.url not in urls:
            urls[occ.url] = _url(occ.url, excluded)
        url = urls[occ.url]
        res = _score(occ, url) if url is not None else None
        if res is None:
            continue
        prev = best.get(occ.url)
        if prev is None or res[0] > prev[0]:
            best[occ.url] = res
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])
    return [
        Link(url, kind, round(min(0.99, max(0.05, score / 6.5)), 3))
        for url, (score, kind) in ranked
    ]
