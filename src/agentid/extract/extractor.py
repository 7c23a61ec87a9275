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

_ANGLE_URL_RE = re.compile(r"<(https?://[^>\s]+)>")
_MULTI_SOURCE_BONUS = 0.4
_CONCLUSIVE = 4.5


def _lazy_gate(text: str, meeting: bool) -> Callable[[], bool]:
    cache: list[bool] = []

    def gate() -> bool:
        if not cache:
            cache.append(text_gate(text, meeting))
        return cache[0]

    return gate


def _link_gate(text: str, meeting: bool) -> bool:
    """Links are only reported from messages that read like a verification message."""
    low = lower(text)
    if kw.LINK_GATE_RE.search(low):
        return True
    return not meeting and any(tier in ("otp", "code") for _, _, tier in scan(low))


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


def _excluded_urls(headers: Mapping[str, str] | None) -> frozenset[str]:
    if not headers:
        return frozenset()
    urls: set[str] = set()
    for name, value in headers.items():
        if name.lower() in ("list-unsubscribe", "list-help", "list-subscribe"):
            urls.update(_ANGLE_URL_RE.findall(str(value)))
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
    html_text = clean(rendered.text) if rendered else ""
    whole = "\n".join((subject, body_text, html_text))
    meeting = bool(kw.MEETING_RE.search(lower(whole)))
    gate = _lazy_gate(whole, meeting)
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
    if links and not cands and not _link_gate(whole, meeting) and not subject_kind(subject):
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
    meeting = bool(kw.MEETING_RE.search(lower(text)))
    gate = _lazy_gate(text, meeting)
    codes = _merge(find_candidates(text, "sms", meeting=meeting, gate=gate))
    ob = prepared.origin_bound
    if ob is not None:
        codes = [Code(ob.code, ob.raw, 1.0, "sms", ob.origin)] + [
            c for c in codes if c.value.upper() != ob.code.upper()
        ]
    links = classify(text_occurrences(text), frozenset())
    return Extraction(tuple(codes), _dedupe_links(links))
