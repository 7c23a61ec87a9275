"""Finding and scoring verification-code candidates in one piece of text."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from . import keywords as kw
from .labels import scan
from .textnorm import lower, mask_urls_and_emails, normalize

MAX_TEXT_CHARS = 200_000
MAX_CANDIDATES = 200

_NUM_RUN_RE = re.compile(r"[0-9]+(?:[ \-][0-9]+)*")
# mixed letter/digit tokens only (pure words and pure numbers are skipped by the regex)
_ALNUM_RE = re.compile(
    r"(?<![A-Za-z0-9\-_])(?=[A-Za-z\-]*[0-9])(?=[0-9\-]*[A-Za-z])[A-Za-z0-9]{1,8}"
    r"(?:-[A-Za-z0-9]{1,8}){0,2}(?![A-Za-z0-9_])"
)
_PREFIX_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,3})-$")
_SEP_RE = re.compile(r"[ \-]")
_FILLER_RE = re.compile(r"[\s:#№.\-–—=>»\]\)）】」』\[\(（【「『'\"*]*")
_COPULA_RE = re.compile(
    r"[\s:：\-–—]*(?:is|are|es|ist|est|è|é|e|lautet|lautet:|wynosi|является|это|是|为|為|は|هو|là"
    r"|adalah|olarak|:)?[\s:：\-–—\[\(【「]*",
    re.IGNORECASE,
)
_BREAK_RE = re.compile(r"[.!?。！？](?:\s|$)|\n[ \t]*\n")
_STRIP_DECOR = " \t[]()【】「」『』<>:：\"'■□●•*·-–—|>»«"
_UPPER_PREFIX_RE = re.compile(r"(?<![A-Za-z])([A-Z]{2,4}) $")
_YEAR_DATE_BEFORE_RE = re.compile(r"(?:\d{1,2}[./\- ]\s?|\d{1,2}(?:st|nd|rd|th)?,? )$")
_PROMO_SHAPE_RE = re.compile(r"^[A-Z]{3,}[0-9]{1,4}$")
_TIER_BASE = {"otp": 5.0, "code": 4.2, "pw": 3.6}


@dataclass(slots=True)
class Candidate:
    value: str
    raw: str
    score: float
    source: str
    pos: int


@dataclass(frozen=True, slots=True)
class _Label:
    start: int
    end: int
    tier: str


def _is_word_char(c: str) -> bool:
    """Latin/Greek/Cyrillic letters and ASCII digits glue to a token; CJK, Arabic... do not."""
    return c.isalnum() and (c.isascii() or (c.isalpha() and ord(c) < 0x0590))


def _num_run_ok(run: str) -> bool:
    groups = _SEP_RE.split(run)
    digits = sum(len(g) for g in groups)
    if not 4 <= digits <= 8:
        return False
    if len(groups) == 1:
        return True
    sizes = {len(g) for g in groups}
    if len(sizes) != 1:
        return False
    size = next(iter(sizes))
    seps = set(_SEP_RE.findall(run))
    if len(seps) != 1:
        return False
    if size == 1:
        return seps == {" "} and len(groups) >= 4
    return True


def _alnum_penalty(token: str) -> float | None:
    """Penalty for an alphanumeric token, or None when it cannot be a code."""
    groups = token.split("-")
    if len(groups) > 3 or any(len(g) < 2 for g in groups):
        return None
    core = "".join(groups)
    if not 4 <= len(core) <= 8:
        return None
    has_digit = any(c.isdigit() for c in core)
    has_alpha = any(c.isalpha() for c in core)
    if not (has_digit and has_alpha):
        return None
    if len(groups) > 1 and all(g.isdigit() for g in groups[1:]) and groups[0].isalpha():
        return None  # "G-123456" is a prefixed numeric code, handled elsewhere
    penalty = 0.0
    letters = [c for c in core if c.isalpha()]
    upper = all(c.isupper() for c in letters)
    lower = all(c.islower() for c in letters)
    if not upper:
        penalty += 1.5 if lower else 2.5
    if _PROMO_SHAPE_RE.match(core):
        penalty += 3.0
    if sum(c.isdigit() for c in core) == 1 and len(letters) >= 4:
        penalty += 1.0
    return penalty


class _Text:
    """One normalised text with its labels (found lazily near candidates) and lines."""

    def __init__(self, text: str, meeting: bool) -> None:
        self.orig = text[:MAX_TEXT_CHARS]
        self.t = mask_urls_and_emails(normalize(self.orig))
        self.low = lower(self.t)
        self.meeting = meeting
        self.labels: list[_Label] = []
        self.starts: list[int] = []
        self.ends: list[int] = []

    def scan_labels(self, spans: list[tuple[int, int]]) -> None:
        """Find labels inside the union of ``spans`` (the only places they matter)."""
        merged: list[list[int]] = []
        for lo, hi in sorted(spans):
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        labels: list[_Label] = []
        for lo, hi in merged:
            for start, end, tier in scan(self.low, lo, hi):
                if self.meeting and tier in ("pw", "code"):
                    tier = "neg"
                labels.append(_Label(start, end, tier))
        self.labels = labels
        self.starts = [lab.start for lab in labels]
        self.ends = [lab.end for lab in labels]

    def between(self, lo: int, hi: int) -> list[_Label]:
        """Labels fully inside [lo, hi)."""
        i = bisect_left(self.starts, lo)
        j = bisect_right(self.starts, hi)
        return [lab for lab in self.labels[i:j] if lab.end <= hi]

    def window(self, s: int, e: int) -> tuple[int, int]:
        """The span whose labels can matter for a candidate at [s, e)."""
        t = self.t
        ls, le = self.line_bounds(s, e)
        if t[ls:le].strip(_STRIP_DECOR) != t[s:e].strip(_STRIP_DECOR):
            return max(0, min(ls, s - 160)), le  # same line or same sentence only
        lo = ls
        for _ in range(4):  # standalone value: a few lines around it
            nxt = t.rfind("\n", max(0, s - 500), max(lo - 1, 0))
            if nxt < 0:
                lo = max(0, s - 500)
                break
            lo = nxt
        hi = e
        for _ in range(3):
            nxt = t.find("\n", hi + 1, e + 300)
            if nxt < 0:
                hi = min(len(t), e + 300)
                break
            hi = nxt
        return max(0, min(lo, s - 160)), hi

    def line_bounds(self, s: int, e: int) -> tuple[int, int]:
        ls = self.t.rfind("\n", 0, s) + 1
        le = self.t.find("\n", e)
        return ls, (len(self.t) if le < 0 else le)


def _line_label_score(tx: _Text, lo: int, hi: int, back: float) -> float:
    best = 0.0
    for lab in tx.between(lo, hi):
        if lab.tier in _TIER_BASE:
            best = max(best, _TIER_BASE[lab.tier] - back)
    return best


def _line_has_neg(tx: _Text, lo: int, hi: int) -> bool:
    return any(lab.tier in ("neg", "void") for lab in tx.between(lo, hi))


def _association(tx: _Text, s: int, e: int, gate: Callable[[], bool]) -> float:
    """How strongly the candidate at [s, e) is tied to a code label; 0 = not at all, <0 reject."""
    t = tx.t
    ls, le = tx.line_bounds(s, e)
    score = 0.0
    nearest_seen = False
    for lab in reversed(tx.labels[: bisect_right(tx.ends, s)]):
        if lab.end > s:
            continue
        if lab.start < ls:
            break
        gap = t[lab.end : s]
        if not nearest_seen:
            nearest_seen = True
            if lab.tier in ("neg", "void") and len(gap) <= 16 and _FILLER_RE.fullmatch(gap):
                return -1.0
        if lab.tier in _TIER_BASE:
            if _BREAK_RE.search(gap) or len(gap) > 120:
                break
            sc = _TIER_BASE[lab.tier] - len(gap) / 30.0
            if len(gap) <= 14 and _COPULA_RE.fullmatch(gap):
                sc += 1.0
            score = max(score, sc, 2.0)
            break
    for lab in tx.labels[bisect_left(tx.starts, e) :]:
        if lab.start > le:
            break
        gap = t[e : lab.start]
        if lab.tier in _TIER_BASE:
            if not _BREAK_RE.search(gap) and len(gap) <= 60:
                score = max(score, _TIER_BASE[lab.tier] - 0.5 - len(gap) / 30.0, 2.0)
            break
        if lab.tier in ("neg", "void") and len(gap) <= 3:
            # "4242 card" style: label right after; only a weak hint, keep looking
            continue
    line = t[ls:le].strip(_STRIP_DECOR)
    if line and line == t[s:e].strip(_STRIP_DECOR):
        # standalone line: look at the preceding (and following) non-empty lines
        pos, found, k = ls - 1, 0, 0
        while pos > 0 and k < 3 and ls - pos < 500:
            pls = t.rfind("\n", 0, pos) + 1
            if t[pls:pos].strip():
                k += 1
                if (
                    k == 1
                    and _line_label_score(tx, pls, pos, 0.0) <= 0
                    and _line_has_neg(tx, pls, pos)
                ):
                    return -1.0  # "Order number" / "Phone" on the line above a lone value
                found = max(found, int(10 * _line_label_score(tx, pls, pos, 0.4 * (k - 1))))
            pos = pls - 1
        score = max(score, found / 10.0)
        if score <= 0:
            nxt, k = le + 1, 0
            while nxt < len(t) and k < 2:
                nle = t.find("\n", nxt)
                nle = len(t) if nle < 0 else nle
                if t[nxt:nle].strip():
                    k += 1
                    score = max(score, _line_label_score(tx, nxt, nle, 1.5))
                nxt = nle + 1
    if score <= 0:
        before = tx.low[max(ls, s - 24) : s]
        if kw.CUE_RE.search(before) and gate():
            score = 3.0
    if score <= 0:
        # same sentence, across a line wrap
        start = max(0, s - 150)
        seg = t[start:s]
        breaks = list(_BREAK_RE.finditer(seg))
        lo = start + (breaks[-1].end() if breaks else 0)
        if any(lab.tier in _TIER_BASE for lab in tx.between(lo, s)):
            score = max(score, 2.0)
    return score


def _sentence(t: str, s: int, e: int) -> str:
    lo = max(
        t.rfind("\n", 0, s),
        max((m.end() for m in _BREAK_RE.finditer(t, max(0, s - 200), s)), default=0),
    )
    m = _BREAK_RE.search(t, e)
    hi = t.find("\n", e)
    end = min(x for x in (m.start() + 1 if m else len(t), hi if hi >= 0 else len(t)))
    return t[lo:end]


def _form_checks(t: str, low: str, s: int, e: int, digits: str) -> float | None:
    """Penalty from the surroundings of a numeric candidate, or None to reject."""
    before = t[max(0, s - 16) : s]
    after = t[e : e + 8]
    before_low = low[max(0, s - 16) : s]
    after_low = low[e : e + 8]
    b1 = before[-1:] if before else ""
    if (b1 and b1 in "+#№*…•") or before.endswith(("+ ", "# ", "№ ", "...", "**", "n°", "nº")):
        return None
    if b1 in ".,:/" and len(before) >= 2 and before[-2].isdigit():
        return None
    if len(after) >= 2 and after[0] in ".,:/" and after[1].isdigit():
        return None
    if after[:1] == "/" or (b1 == "/" and s >= 2):
        return None
    if kw.CURRENCY_BEFORE_RE.search(before_low) or kw.UNIT_AFTER_RE.match(after_low):
        return None
    penalty = 0.0
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        if after[:1] in ("年", "년") or kw.MONTH_RE.search(before_low):
            return None
        if _YEAR_DATE_BEFORE_RE.search(before) and not before.rstrip().endswith(":"):
            return None
        penalty += 1.0
    m = _UPPER_PREFIX_RE.search(before)
    if m and m.group(1) not in kw.UPPER_LABEL_WORDS:
        penalty += 2.5
    return penalty


def find_candidates(
    text: str, source: str, *, meeting: bool, gate: Callable[[], bool]
) -> list[Candidate]:
    """Scored code candidates in ``text`` (already cleaned of invisible characters).

    ``gate`` says (lazily) whether the whole message is about verification at all; it is
    only consulted for candidates whose sole evidence is a verb such as "enter".
    """
    tx = _Text(text, meeting)
    t = tx.t
    raw: list[tuple[int, int, str, float, bool]] = []
    for m in _NUM_RUN_RE.finditer(t):
        s, e = m.start(), m.end()
        run = m.group(0)
        if e - s < 4:
            continue
        if (s > 0 and _is_word_char(t[s - 1]) and not t[s - 1].isdigit()) or (
            e < len(t) and _is_word_char(t[e])
        ):
            continue
        if not _num_run_ok(run):
            continue
        start = s
        pm = _PREFIX_RE.search(t, max(0, s - 4), s)
        if pm:
            if pm.group(1) in kw.UPPER_LABEL_WORDS:
                pm = None
            else:
                start = pm.start()
        elif s > 0 and t[s - 1] == "-" and s > 1 and _is_word_char(t[s - 2]):
            continue
        value = _SEP_RE.sub("", run)
        penalty = _form_checks(t, tx.low, start, e, value)
        if penalty is None:
            continue
        raw.append((start, e, value, penalty, True))
    for m in _ALNUM_RE.finditer(t):
        s, e = m.start(), m.end()
        if (s > 0 and (_is_word_char(t[s - 1]) or t[s - 1] in "-_")) or (
            e < len(t) and (_is_word_char(t[e]) or t[e] in "_")
        ):
            continue
        token = m.group(0)
        if token.replace("-", "").isdigit():
            continue
        pen = _alnum_penalty(token)
        if pen is None:
            continue
        b1 = t[s - 1 : s]
        if b1 and b1 in "#№*+":
            continue
        raw.append((s, e, token.replace("-", ""), pen, False))
    out: list[Candidate] = []
    if not raw:
        return out
    del raw[MAX_CANDIDATES:]  # a wall of numbers is not a verification message
    tx.scan_labels([tx.window(s, e) for s, e, _, _, _ in raw])
    for s, e, value, pen, numeric in raw:
        _add(out, tx, s, e, value, pen, source, gate, numeric=numeric)
    return out


def _add(
    out: list[Candidate],
    tx: _Text,
    s: int,
    e: int,
    value: str,
    penalty: float,
    source: str,
    gate: Callable[[], bool],
    *,
    numeric: bool,
) -> None:
    assoc = _association(tx, s, e, gate)
    if assoc <= 0:
        return
    score = assoc - penalty
    n = len(value)
    if numeric:
        score += 0.6 if n == 6 else 0.3
    else:
        score += 0.2
    if kw.PROMO_RE.search(_sentence(tx.low, s, e)):
        score -= 4.0
    if score < 2.5:
        return
    out.append(Candidate(value, tx.orig[s:e], score, source, s))


def text_gate(text: str, meeting: bool) -> bool:
    """Does ``text`` carry any verification signal (a code label or topic word)?"""
    t = lower(normalize(text[:MAX_TEXT_CHARS]))
    for _, _, tier in scan(t):
        if tier == "otp" or (tier in ("pw", "code") and not meeting):
            return True
    return bool(kw.TOPIC_RE.search(t))
