"""Finding and scoring verification-code candidates in one piece of text.

Linear in the length of the text: at most ``MAX_CANDIDATES`` candidates are scored, and
what each looks at is bounded (its line and a few around it, found with ``find``; labels
and sentence ends looked up by bisection) or shared between candidates.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from . import keywords as kw
from .code_text import MAX_TEXT_CHARS
from .code_text import TIER_BASE
from .code_text import CodeText
from .labels import scan
from .layout import MIN_LIST
from .layout import list_items
from .layout import whole
from .sentence import BREAK_RE
from .sentence import prose_length
from .textnorm import lower
from .textnorm import normalize

MAX_CANDIDATES = 200
_MAX_GAP = 240  # characters from a label to its code on one line, at most...
_MAX_PROSE = 120  # ... of which ordinary words (not amounts, names, masked digits)
_WHOLE = 4.0  # the association of a code that is all the text holds

_DIGIT_RE = re.compile(r"\d")
# (starting with a plain character class lets re skip quickly to the next digit)
_NUM_RUN_RE = re.compile(r"[0-9][0-9]*+(?:[ \-][0-9]++)*+")
# mixed letter/digit tokens only (pure words and pure numbers are skipped by the regex)
_ALNUM_RE = re.compile(
    r"(?<![A-Za-z0-9\-_])(?=[A-Za-z\-]*+[0-9])(?=[0-9\-]*+[A-Za-z])[A-Za-z0-9]{1,8}"
    r"(?:-[A-Za-z0-9]{1,8}){0,2}(?![A-Za-z0-9_])"
)
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
_TOKEN_RUN_RE = re.compile(r"[A-Za-z0-9_\-]*+")  # the same characters, walked in C
_PREFIX_RE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{1,3})-$")
_SEP_RE = re.compile(r"[ \-]")
_FILLER_RE = re.compile(r"[\s:#№.\-–—=>»\]\)）】」』\[\(（【「『'\"*]*+")
_COPULA_RE = re.compile(
    r"[\s:：\-–—]*+(?:is|are|es|ist|est|è|é|e|lautet|lautet:|wynosi|является|это|是|为|為|は|هو"
    r"|là|adalah|olarak|:)?[\s:：\-–—\[\(【「]*+",
    re.IGNORECASE,
)
_UPPER_PREFIX_RE = re.compile(r"(?<![A-Za-z])([A-Z]{2,4}) $")
_YEAR_DATE_BEFORE_RE = re.compile(r"(?:\d{1,2}[./\- ]\s?|\d{1,2}(?:st|nd|rd|th)?,? )$")
_PROMO_SHAPE_RE = re.compile(r"^[A-Z]{3,}[0-9]{1,4}$")


@dataclass(slots=True)
class Candidate:
    value: str
    raw: str
    score: float
    source: str
    pos: int


@dataclass(slots=True)
class _Spot:
    """A raw candidate: [s, e) in the text, its line [ls, le), alone on it or not."""

    s: int
    e: int
    value: str
    penalty: float
    numeric: bool
    ls: int
    le: int
    alone: bool


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


def _line_label_score(tx: CodeText, lo: int, hi: int, back: float) -> float:
    best = 0.0
    for lab in tx.between(lo, hi):
        if lab.tier in TIER_BASE:
            best = max(best, TIER_BASE[lab.tier] - back)
    return best


def _line_has_neg(tx: CodeText, lo: int, hi: int) -> bool:
    return any(lab.tier in ("neg", "void") for lab in tx.between(lo, hi))


def _association(tx: CodeText, spot: _Spot, gate: Callable[[], bool]) -> float:
    """How strongly the candidate ``spot`` is tied to a code label; 0 = not at all, <0 reject."""
    t = tx.t
    labels = tx.labels
    s, e, ls, le = spot.s, spot.e, spot.ls, spot.le
    score = 0.0
    k = bisect_right(tx.ends, s)  # labels[:k] end before the candidate
    if k and labels[k - 1].start >= ls:
        nearest = labels[k - 1]
        if (
            nearest.tier in ("neg", "void")
            and s - nearest.end <= 16
            and _FILLER_RE.fullmatch(t, nearest.end, s)
        ):
            return -1.0
        j = tx.prev_code[k - 1]  # the nearest code label before it, on the same line
        if j >= 0 and labels[j].start >= ls:
            lab = labels[j]
            gap = s - lab.end
            if gap <= _MAX_GAP and not BREAK_RE.search(t, lab.end, s):
                # amounts, merchants, masked numbers, dates in between: not far
                prose = gap if gap <= 14 else prose_length(t, lab.end, s)
                if prose <= _MAX_PROSE:
                    sc = TIER_BASE[lab.tier] - prose / 30.0
                    if gap <= 14 and _COPULA_RE.fullmatch(t, lab.end, s):
                        sc += 1.0
                    score = max(score, sc, 2.0)
    i = bisect_left(tx.starts, e)
    if i < len(labels):
        j = tx.next_code[i]  # the first code label after it, on the same line
        if j < len(labels) and labels[j].start <= le:
            lab = labels[j]
            gap = lab.start - e
            if gap <= 60 and not BREAK_RE.search(t, e, lab.start):
                score = max(score, TIER_BASE[lab.tier] - 0.5 - gap / 30.0, 2.0)
    if spot.alone:
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
        lo = start
        for m in BREAK_RE.finditer(t, start, s):
            lo = m.end()
        if any(lab.tier in TIER_BASE for lab in tx.between(lo, s)):
            score = max(score, 2.0)
    return score


def _is_promo(tx: CodeText, s: int, e: int) -> bool:
    """Does the sentence around [s, e) read like a promotion (a discount, a coupon)?"""
    low = tx.low
    lo = max(
        low.rfind("\n", 0, s),
        max((m.end() for m in BREAK_RE.finditer(tx.t, max(0, s - 200), s)), default=0),
    )
    stop = low.find("\n", e)
    end = tx.sentence_end(e, len(low) if stop < 0 else stop)
    return tx.promo_between(lo, end)


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
    # (the ``...$`` patterns match at most a few characters: searched for only at the end)
    if kw.CURRENCY_BEFORE_RE.search(before_low, len(before_low) - 6) or kw.UNIT_AFTER_RE.match(
        after_low
    ):
        return None
    penalty = 0.0
    if len(digits) == 4 and digits[:2] in ("19", "20"):
        if after[:1] in ("年", "년") or kw.MONTH_RE.search(before_low):
            return None
        if _YEAR_DATE_BEFORE_RE.search(before, len(before) - 8) and not before.rstrip().endswith(
            ":"
        ):
            return None
        penalty += 1.0
    m = _UPPER_PREFIX_RE.search(before, len(before) - 7)
    if m and m.group(1) not in kw.UPPER_LABEL_WORDS:
        penalty += 2.5
    return penalty


def run_starts(run: str, s: int) -> list[int]:
    """Where the runs of digits of a ``_NUM_RUN_RE`` match ``run`` at ``s`` start, but for
    those after a dash (the token holding them starts before)."""
    if " " not in run:
        return [s]
    return [s] + [s + i + 1 for i, c in enumerate(run) if c == " "]


def _alnum_tokens(t: str, runs: list[int]) -> list[re.Match[str]]:
    """What ``_ALNUM_RE.finditer(t)`` finds, tried only at the start of each run of
    ``[A-Za-z0-9_-]`` that holds a digit (every match does; the regex alone tries every
    position of every word). Each run is walked once, from its first digits.

    ``runs``: where the runs of digits of ``t`` start (those after a dash may be left
    out: the token holding them starts before)."""
    out: list[re.Match[str]] = []
    token_end = -1
    for start in runs:
        if start < token_end:
            continue  # the same run as the digits before
        while start > 0 and t[start - 1] in _TOKEN_CHARS:
            start -= 1
        run = _TOKEN_RUN_RE.match(t, start)
        token_end = run.end() if run else start
        m = _ALNUM_RE.match(t, start)
        if m:
            out.append(m)
    return out


def find_candidates(
    text: str,
    source: str,
    *,
    meeting: Callable[[], bool],
    gate: Callable[[], bool],
    booking: Callable[[], bool],
    numbers: list[int] | None = None,
) -> list[Candidate]:
    """Scored code candidates in ``text`` (already cleaned of invisible characters).

    ``meeting`` says (lazily) whether the message is a meeting invitation, ``booking``
    whether it confirms a booking (``agentid.extract.bookings``).
    ``gate`` says (lazily) whether the whole message is about verification at all; it is
    only consulted for candidates whose sole evidence is a verb such as "enter".
    ``numbers``, when given, gets where the short runs of digits start ("10 minutes").
    """
    if not _DIGIT_RE.search(text, 0, MAX_TEXT_CHARS):
        return []  # (normalize() makes ASCII digits only of other digits)
    tx = CodeText(text, meeting, booking)
    t = tx.t
    raw: list[tuple[int, int, str, float, bool]] = []
    runs: list[int] = []  # where each run of digits starts
    for m in _NUM_RUN_RE.finditer(t):
        s, e = m.span()
        run = m.group(0)
        runs.extend(run_starts(run, s))
        if e - s < 4:
            if numbers is not None:
                numbers.append(s)
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
    for m in _alnum_tokens(t, runs):
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
    raw.sort()
    spots: list[_Spot] = []
    for s, e, value, pen, numeric in raw:
        if tx.is_masked(s, e):
            continue  # "****1234", "XX1234": part of a card or account number
        ls, le = tx.line_bounds(s, e)
        spots.append(_Spot(s, e, value, pen, numeric, ls, le, tx.standalone(s, e, ls, le)))
    # (a list item is alone on its line, after a marker such as "1." at most)
    listed = [(sp.s, sp.e, sp.ls, sp.le) for sp in spots if sp.alone or sp.s - sp.ls <= 6]
    if len(listed) >= MIN_LIST:
        items = list_items(t, listed)
        spots = [sp for sp in spots if sp.s not in items]
    if len(spots) == 1 and spots[0].alone and whole(t, spots[0].s, spots[0].e):
        _add(out, tx, spots[0], source, _WHOLE)
        return out
    tx.scan_labels([tx.window(sp.s, sp.e, sp.ls, sp.le, sp.alone) for sp in spots])
    for spot in spots:
        _add(out, tx, spot, source, _association(tx, spot, gate))
    return out


def _add(out: list[Candidate], tx: CodeText, spot: _Spot, source: str, assoc: float) -> None:
    if assoc <= 0:
        return
    score = assoc - spot.penalty
    if spot.numeric:
        score += 0.6 if len(spot.value) in (6, 8) else 0.3
    else:
        score += 0.2
    if _is_promo(tx, spot.s, spot.e):
        score -= 4.0
    if score < 2.5:
        return
    out.append(Candidate(spot.value, tx.orig[spot.s : spot.e], score, source, spot.s))


def text_gate(text: str, meeting: Callable[[], bool]) -> bool:
    """Does ``text`` carry any verification signal (a code label or topic word)?"""
    t = lower(normalize(text[:MAX_TEXT_CHARS]))
    for _, _, tier in scan(t):
        if tier == "otp" or (tier in ("pw", "code") and not meeting()):
            return True
    return bool(kw.TOPIC_RE.search(t))
