"""Combining code and link evidence from the parts of one message."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

from . import keywords as kw
from .codes import Candidate, find_candidates, text_gate
from .html_text import render
from .labels import scan
from .links import classify, html_occurrences, subject_kind, text_occurrences
from .models import EMPTY, Code, Extraction, Link
from .sms import prepare
from .textnorm import clean, lower

# a run of characters up to a ">" (possessive, starting after a ">" or a space: linear)
_ANGLE_RUN_RE = re.compile(r"(?<![^>\s])[^>\s]++>")
_MULTI_SOURCE_BONUS = 0.4
_CONCLUSIVE = 4.5


def _lazy(compute: Callable[[], bool]) -> Callable[[], bool]:
    """``compute``, called at most once (and only if asked)."""
    cache: list[bool] = []

    def value() -> bool:
        if not cache:
            cache.append(compute())
        return cache[0]

    return value


def _link_gate(low: str, meeting: Callable[[], bool]) -> bool:
    """Links are only reported from messages that read like a verification message.

    ``low``: the lower-cased message text.
    """
    if kw.LINK_GATE_RE.search(low):
        return True
    return any(tier in ("otp", "code") for _, _, tier in scan(low)) and not meeting()


def _confidence(score: float) -> float:
    return round(min(0.99, max(0.05, score / 8.0)), 3)


def _merge(cands: Iterable[Candidate]) -> list[Code]:
    best: dict[str, Candidate] = {}
    sources: dict[str, set[str]] = {}
    for c in cands:
        key = c.value.upper()
        sources.setdefault(key, set()).add(c.source)
        prev = best.get(key)
        if prev is None or c.score > prev.score:
            best[key] = c
    ranked = sorted(
        best.items(),
        key=lambda kv: -(kv[1].score + _MULTI_SOURCE_BONUS * (len(sources[kv[0]]) - 1)),
    )
    out: list[Code] = []
    for key, c in ranked:
        score = c.score + _MULTI_SOURCE_BONUS * (len(sources[key]) - 1)
        out.append(Code(c.value, c.raw.strip(), _confidence(score), c.source))
    return out


def _angle_urls(value: str) -> list[str]:
    """The ``<http(s)://...>`` URLs in a header (what ``<(https?://[^>\\s]+)>`` finds)."""
    urls: list[str] = []
    for run in _ANGLE_RUN_RE.finditer(value):
        start, end = run.start(), run.end() - 1  # value[end] == ">"
        i = value.find("<", start, end)
        while i >= 0:
            for scheme in ("http://", "https://"):
                if end > i + 1 + len(scheme) and value.startswith(scheme, i + 1):
                    urls.append(value[i + 1 : end])
                    break
            else:
                i = value.find("<", i + 1, end)
                continue
            break
    return urls


def _excluded_urls(headers: Mapping[str, str] | None) -> frozenset[str]:
    if not headers:
        return frozenset()
    urls: set[str] = set()
    for name, value in headers.items():
        if name.lower() in ("list-unsubscribe", "list-help", "list-subscribe"):
            urls.update(_angle_urls(str(value)))
    return frozenset(urls)


def _dedupe_links(links: list[Link]) -> tuple[Link, ...]:
    seen: set[str] = set()
    out: list[Link] = []
    for link in links:
        if link.url not in seen:
            seen.add(link.url)
            out.append(link)
    return tuple(out)


def extract_email(
    *,
    subject: str = "",
    from_: str = "",
    headers: Mapping[str, str] | None = None,
    text: str | None = None,
    html: str | None = None,
) -> Extraction:
    """Codes and links from the parts of an e-mail. Never fetches anything; never raises."""
    del from_  # the sender is not evidence on its own; kept for the interface
    try:
        return _extract_email(subject or "", headers, text, html)
    except Exception:  # hostile input must not take the inbound pipeline down
        return EMPTY


def _extract_email(
    subject: str, headers: Mapping[str, str] | None, text: str | None, html: str | None
) -> Extraction:
    subject = clean(subject or "").replace("\n", " ")
    body_text = clean(text or "")
    rendered = render(html) if html else None
    html_text = rendered.text if rendered else ""  # (rendered text needs no cleaning)
    whole = "\n".join((subject, body_text, html_text))
    low = lower(whole)
    meeting = _lazy(lambda: bool(kw.MEETING_RE.search(low)))  # (rarely needed: lazily)
    gate = _lazy(lambda: text_gate(whole, meeting))
    cands: list[Candidate] = []
    for part, source in ((subject, "subject"), (body_text, "text"), (html_text, "html")):
        if source == "html" and any(c.score >= _CONCLUSIVE for c in cands if c.source == "text"):
            break  # the text alternative already states the code plainly; HTML mirrors it
        if part.strip():
            cands.extend(find_candidates(part, source, meeting=meeting, gate=gate))
    occurrences = text_occurrences(body_text) if body_text else []
    if rendered is not None:
        occurrences.extend(html_occurrences(rendered))
    links = classify(occurrences, _excluded_urls(headers)) if occurrences else []
    if links and not cands and not _link_gate(low, meeting) and not subject_kind(subject):
        links = []
    return Extraction(tuple(_merge(cands)), _dedupe_links(links))


def extract_sms(body: str) -> Extraction:
    """Codes and links from an SMS body; never raises."""
    try:
        return _extract_sms(body or "")
    except Exception:  # hostile input must not take the webhook down
        return EMPTY


def _extract_sms(body: str) -> Extraction:
    prepared = prepare(clean(body))
    text = prepared.body
    meeting = _lazy(lambda: bool(kw.MEETING_RE.search(lower(text))))
    gate = _lazy(lambda: text_gate(text, meeting))
    codes = _merge(find_candidates(text, "sms", meeting=meeting, gate=gate))
    ob = prepared.origin_bound
    if ob is not None:
        codes = [Code(ob.code, ob.raw, 1.0, "sms", ob.origin)] + [
            c for c in codes if c.value.upper() != ob.code.upper()
        ]
    links = classify(text_occurrences(text), frozenset())
    return Extraction(tuple(codes), _dedupe_links(links))
