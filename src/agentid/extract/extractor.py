"""Combining code and link evidence from the parts of one message.

Code candidates are merged across parts, ranked and grouped; their confidence is
calibrated on the labelled corpora (``tests/extract/test_calibration.py``): a code
reported with confidence >= 0.8 is right at least 98% of the time, and most right codes
get that much; below 0.5 are the ones that are mostly wrong (a runner-up, a member of an
ambiguous group).

- The best code gets 0.5 at the lowest score that is reported (``REPORTED``), 0.8 at a
  label and a code tied plainly ("code: 123456", about 4.0), up to 0.97.
- Codes scoring within ``CLOSE`` of the best are an ambiguous group (``status``
  "ambiguous"): none is clearly the code, each gets at most about half.
- Any other code is a runner-up: under 0.45.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping

from . import keywords as kw
from .bookings import is_booking
from .codes import Candidate
from .codes import find_candidates
from .codes import text_gate
from .html_text import render
from .labels import scan
from .links import classify
from .links import html_occurrences
from .links import located
from .links import subject_kind
from .links import text_occurrences
from .models import EMPTY
from .models import Code
from .models import Extraction
from .models import Link
from .notices import second_factor_notice
from .sms import prepare
from .textnorm import clean
from .textnorm import lower
from .validity import valid_for_seconds

# a run of characters up to a ">" (possessive, starting after a ">" or a space: linear)
_ANGLE_RUN_RE = re.compile(r"(?<![^>\s])[^>\s]++>")
_CONCLUSIVE = 4.5
# characters before and after a code or a link that can say how long it is valid
NEAR_BEFORE, NEAR_AFTER = 200, 300
_NUMBER_RE = re.compile(r"[0-9][0-9A-Za-z]*+")  # (from its first digit: "4TR9Z" of "H4TR9Z")
_MAX_NUMBERS = 100


def _lazy(compute: Callable[[], bool]) -> Callable[[], bool]:
    """``compute``, called at most once (and only if asked)."""
    cache: list[bool] = []

    def value() -> bool:
        if not cache:
            cache.append(compute())
        return cache[0]

    return value


class _Text:
    """A text worked out at most once, and only if asked for."""

    def __init__(self, compute: Callable[[], str]) -> None:
        self.compute = compute
        self.value: str | None = None

    def get(self) -> str:
        if self.value is None:
            self.value = self.compute()
        return self.value


def _link_gate(low: str, meeting: Callable[[], bool]) -> bool:
    """Links are only reported from messages that read like a verification message.

    ``low``: the lower-cased message text.
    """
    if kw.LINK_GATE_RE.search(low):
        return True
    return any(tier in ("otp", "code") for _, _, tier in scan(low)) and not meeting()


REPORTED = 2.5  # the lowest score a candidate is reported at (``codes._add``)
MULTI_SOURCE_BONUS = 0.4  # the same code in the subject and the body...
CLOSE = 0.5  # scores this close to the best: no clear winner
NOTICE_KEEP = 5.5  # in a second-factor notice, only a code tied this plainly is one


def _base(score: float) -> float:
    return min(0.97, max(0.5, 0.5 + (score - REPORTED) * 0.2))


def rank(cands: Iterable[Candidate], notice: Callable[[], bool]) -> tuple[list[Code], int]:
    """The codes, best first, with their confidence; and how many of the first form an
    ambiguous group (0: one clear code, or none). ``notice`` says (lazily) whether the
    message tells that a second factor was turned on or changed."""
    best: dict[str, Candidate] = {}
    sources: dict[str, set[str]] = {}
    for c in cands:
        key = c.value.upper()
        sources.setdefault(key, set()).add(c.source)
        prev = best.get(key)
        if prev is None or c.score > prev.score:
            best[key] = c
    if any(c.score < NOTICE_KEEP for c in best.values()) and notice():
        best = {k: c for k, c in best.items() if c.score >= NOTICE_KEEP}
    scored = sorted(
        ((c.score + MULTI_SOURCE_BONUS * (len(sources[k]) - 1), c) for k, c in best.items()),
        key=lambda sc: -sc[0],
    )
    if not scored:
        return [], 0
    top = scored[0][0]
    group = sum(1 for score, _ in scored if score >= top - CLOSE)
    second = scored[1][0] if len(scored) > 1 else 0.0
    out: list[Code] = []
    for i, (score, c) in enumerate(scored):
        if group > 1 and i < group:
            conf = 0.55 * _base(score)
        elif i == 0:
            margin = top - second
            conf = _base(score) * (1.0 if margin >= 2.0 else 0.8 + 0.1 * margin)
        else:
            conf = min(0.45, 0.4 * _base(score) * score / top)
        out.append(Code(c.value, c.raw.strip(), round(conf, 3), c.source))
    return out, group if group > 1 else 0


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
    # the whole message, and lower-cased: rarely needed (lazily)
    whole = _Text(lambda: "\n".join((subject, body_text, html_text)))
    low = _Text(lambda: lower(whole.get()))
    meeting = _lazy(lambda: kw.is_meeting(low.get()))
    booking = _lazy(lambda: is_booking(low.get()))
    gate = _lazy(lambda: text_gate(whole.get(), meeting))
    cands: list[Candidate] = []
    numbers: dict[str, list[int]] = {}  # where each part's short numbers start
    for part, source in ((subject, "subject"), (body_text, "text"), (html_text, "html")):
        if source == "html" and (
            any(c.score >= _CONCLUSIVE for c in cands if c.source == "text")
            or (body_text.strip() and _mirrors(html_text, body_text))
        ):
            break  # the text alternative states the code plainly, or has all HTML's numbers
        if part.strip():
            found = numbers[source] = []
            cands.extend(
                find_candidates(
                    part, source, meeting=meeting, gate=gate, booking=booking, numbers=found
                )
            )
    occurrences = text_occurrences(body_text) if body_text else []
    if rendered is not None:
        occurrences.extend(html_occurrences(rendered))
    links = classify(occurrences, _excluded_urls(headers)) if occurrences else []
    if links and not cands and not _link_gate(low.get(), meeting) and not subject_kind(subject):
        links = []
    notice = _lazy(lambda: second_factor_notice(low.get()))
    codes, group = rank(cands, notice)
    if not codes and not links:
        return EMPTY
    parts = {"subject": subject, "text": body_text, "html": html_text}
    near: list[tuple[str, int]] = []  # where it can say how long it is valid: the code...
    if cands:
        best = max(cands, key=lambda c: c.score)
        near.append((best.source, best.pos))
    where = located(occurrences, links[0].url) if links else None
    if where is not None:  # ... and the link
        near.append(("html" if where[0] else "text", where[1]))
    near.append(("subject", 0))
    valid = None
    for source, pos in near:
        part = parts[source]
        lo, hi = max(0, pos - NEAR_BEFORE), pos + NEAR_AFTER
        known = numbers.get(source)
        nums = None if known is None else [p - lo for p in known if lo <= p < hi]
        valid = valid_for_seconds(lower(part[lo:hi]), nums)
        if valid is not None:
            break
    return Extraction(tuple(codes), _dedupe_links(links), group, valid)


def _mirrors(html_text: str, text: str) -> bool:
    """Does the text part hold every number of the HTML part (a code being one)? Then the
    HTML part is its mirror: looking for codes in it again finds nothing new."""
    for k, m in enumerate(_NUMBER_RE.finditer(html_text)):
        if k == _MAX_NUMBERS or m.group() not in text:
            return False
    return True


def extract_sms(body: str) -> Extraction:
    """Codes and links from an SMS body; never raises."""
    try:
        return _extract_sms(body or "")
    except Exception:  # hostile input must not take the webhook down
        return EMPTY


def _extract_sms(body: str) -> Extraction:
    prepared = prepare(clean(body))
    text = prepared.body
    low = lower(text)  # (an SMS is short)
    meeting = _lazy(lambda: kw.is_meeting(low))
    booking = _lazy(lambda: is_booking(low))
    gate = _lazy(lambda: text_gate(text, meeting))
    notice = _lazy(lambda: second_factor_notice(low))
    numbers: list[int] = []
    found = find_candidates(
        text, "sms", meeting=meeting, gate=gate, booking=booking, numbers=numbers
    )
    codes, group = rank(found, notice)
    ob = prepared.origin_bound
    if ob is not None:
        codes = [Code(ob.code, ob.raw, 1.0, "sms", ob.origin)] + [
            c for c in codes if c.value.upper() != ob.code.upper()
        ]
        group = 0
    links = classify(text_occurrences(text), frozenset())
    if not codes and not links:
        return EMPTY
    return Extraction(tuple(codes), _dedupe_links(links), group, valid_for_seconds(low, numbers))
