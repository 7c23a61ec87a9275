"""The fast paths of the extractor find exactly what their plain definitions find.

Label scanning, token and URL matching, keyword searches and the hidden-style test each
have a short reference (the slower regex they replace, several of them quadratic on
hostile input, which does not matter for the short inputs here); hypothesis compares.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.extract import html_text
from agentid.extract import keywords
from agentid.extract import links
from agentid.extract.alternations import any_of
from agentid.extract.alternations import split_top
from agentid.extract.codes import _ALNUM_RE
from agentid.extract.codes import _NUM_RUN_RE
from agentid.extract.codes import _alnum_tokens
from agentid.extract.codes import run_starts
from agentid.extract.labels import START_RE
from agentid.extract.labels import scan
from agentid.extract.textnorm import EMAIL_RE
from agentid.extract.textnorm import URL_RE
from agentid.extract.textnorm import find_urls
from agentid.extract.textnorm import mask_urls_and_emails
from agentid.extract.textnorm import trim_url

# -- label scanning: every alternative of every tier, tried at every START_RE position

_ALL_LABELS = re.compile(
    "|".join(f"(?P<{tier}>{'|'.join(entries)})" for tier, entries in keywords.LABEL_TIERS)
)


def _scan_reference(low: str, lo: int, hi: int) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    last = lo
    for m in START_RE.finditer(low, lo, hi):
        pos = m.start()
        if pos < last:
            continue
        label = _ALL_LABELS.match(low, pos, hi)
        if label and label.end() > pos:
            out.append((pos, label.end(), label.lastgroup or "neg"))
            last = label.end()
    return out


def _literal(alternative: str) -> str:
    return "".join(c for c in alternative if c.isalnum() or c in " -#№'")


_LABEL_WORDS = sorted(
    {
        _literal(alt)
        for _, entries in keywords.LABEL_TIERS
        for entry in entries
        for alt in split_top(entry)
    }
)
_NOISE = ["the", "x", "code", "kod", "nummer", "2fa", "é", "ь", "码", "#", "123", ".", ":", "ß"]
_SEPARATORS = ["", " ", "-", "\n"]
label_text = st.lists(
    st.tuples(st.sampled_from(_LABEL_WORDS + _NOISE), st.sampled_from(_SEPARATORS)).map("".join),
    min_size=1,
    max_size=20,
).map(lambda parts: "".join(parts).lower())


@settings(max_examples=400, deadline=None)
@given(label_text, st.integers(0, 400), st.integers(0, 400))
def test_scan_finds_what_every_label_alternative_finds(low: str, a: int, b: int) -> None:
    lo, hi = sorted((a % (len(low) + 1), b % (len(low) + 1)))
    assert scan(low, lo, hi) == _scan_reference(low, lo, hi)
    assert scan(low) == _scan_reference(low, 0, len(low))


# -- alphanumeric tokens: _ALNUM_RE tried at every position

token_text = st.text(alphabet="aZk09-_ .é\n", max_size=60)


@settings(max_examples=400, deadline=None)
@given(token_text)
def test_alnum_tokens_are_the_regex_matches(t: str) -> None:
    runs = [p for m in _NUM_RUN_RE.finditer(t) for p in run_starts(m.group(), m.start())]
    assert [m.span() for m in _alnum_tokens(t, runs)] == [m.span() for m in _ALNUM_RE.finditer(t)]


# -- URLs and e-mail addresses: the regexes over the whole text

_URL_PIECES = [
    "https://", "http://", "www.", "WWW.", "a.b", "ex.com/", "x", "/", "@", "me@", "mail.",
    "org", " ", "\n", ".", ")", "(", "-", "é", "1", "?q=", "#",
]  # fmt: skip
url_text = st.lists(st.sampled_from(_URL_PIECES), max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(url_text)
def test_urls_and_emails_are_the_regex_matches(text: str) -> None:
    urls = []
    for m in URL_RE.finditer(text):
        url = trim_url(m.group(0))
        if url:
            urls.append((m.start(), m.start() + len(url), url))
    assert find_urls(text) == urls
    masked = text
    if "/" in text or "www." in text or "WWW." in text:
        masked = URL_RE.sub(lambda m: " " * len(m.group(0)), masked)
    if "@" in masked:
        masked = EMAIL_RE.sub(lambda m: " " * len(m.group(0)), masked)
    assert mask_urls_and_emails(text) == masked


# -- keyword alternations grouped by first character

_ALTERNATIVES = [
    "code", "codes?", "co(?:de|dex)", r"\bpin\b", r"\bpin", r"pass[- ]?word", r"\d\s?%",
    r"%\s?\d", "[ab]c", "b", r"\boff\b", "zoom", "o(?=ff)", "cup[oó]n", "(?:x|y)z", r"\bx",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_ALTERNATIVES), min_size=1, max_size=6),
    st.text(alphabet="abcodexyzpinwrf%1 -_óu", max_size=40),
)
def test_any_of_matches_the_same_texts(alternatives: list[str], text: str) -> None:
    pattern = "|".join(alternatives)
    assert bool(any_of(pattern).search(text)) == bool(re.compile(pattern).search(text))


# -- meeting invitations: the words looked for before the regex


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(split_top(keywords.MEETING_PATTERN)).flatmap(
        lambda alt: st.from_regex(alt, fullmatch=True)
    ),
    st.text(alphabet="abc 1é", max_size=8),
)
def test_meeting_words_are_the_regex_ones(phrase: str, around: str) -> None:
    for low in (phrase, around + phrase + around, around):
        assert keywords.is_meeting(low) == bool(keywords.MEETING_RE.search(low)), low


# -- hidden styles: the patterns before possessive quantifiers and pre-checks

_HIDDEN_REFERENCE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden|mso-hide\s*:\s*all"
    r"|(?:max-height|font-size|opacity|max-width)\s*:\s*0+(?:\.0*)?(?:px|em|rem|pt|%)?"
    r"\s*(?:!\s*important)?\s*(?:;|$))",
    re.IGNORECASE,
)
_ZERO_HEIGHT_REFERENCE = re.compile(
    r"(?:^|;)\s*height\s*:\s*0+(?:px)?\s*(?:!\s*important)?\s*(?:;|$)"
)


def _hides_reference(style: str) -> bool:
    if _HIDDEN_REFERENCE.search(style):
        return True
    low = style.lower()
    return "overflow" in low and "hidden" in low and bool(_ZERO_HEIGHT_REFERENCE.search(low))


_WS = ["", " ", "  ", "\t", "\n", "\x1c", "\u00a0"]
_PROPERTIES = [
    "display", "DISPLAY", "visibility", "mso-hide", "max-height", "max-width", "font-size",
    "opacity", "height", "Height", "overflow", "color", "xdisplay", "mso-display",
    "display;display", "font-size font-size",
]  # fmt: skip
_VALUES = [
    "none", "NONE", "hidden", "all", "0", "00", "0.", "0.00", "0px", "0em", "0%", "0.5", "1",
    "auto", "İ",
]  # fmt: skip
declaration = st.tuples(
    st.sampled_from(_WS),
    st.sampled_from(_PROPERTIES),
    st.sampled_from(_WS),
    st.sampled_from([":", ":", "="]),
    st.sampled_from(_WS),
    st.sampled_from(_VALUES),
    st.sampled_from(_WS),
    st.sampled_from(["", "!important", "! important", "!imp"]),
    st.sampled_from(_WS),
).map("".join)
style = st.tuples(
    st.lists(declaration, min_size=1, max_size=4),
    st.sampled_from([";", "; ", "x;", ""]),
    st.sampled_from(["", ";", "\n", "x"]),
).map(lambda t: t[1].join(t[0]) + t[2])


@settings(max_examples=600, deadline=None)
@given(style)
def test_hidden_styles_are_the_reference_ones(value: str) -> None:
    assert html_text._hides(value) == _hides_reference(value)


# -- links: URLs split as urllib does

_URL_PARTS = [
    "ex.com", "a.b", "/", "?", "#", "&", "=", "%2F", "%", "+", "@", ":", "8080", "x", "é",
    "[", "]", " ", "\t", "user:pw@", "q=1", "&&", "==", "::1",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTPS://"]),
    st.lists(st.sampled_from(_URL_PARTS), max_size=12).map("".join),
)
def test_urls_split_as_urllib_does(scheme: str, rest: str) -> None:
    url = scheme + rest
    try:
        parts = urlsplit(url)
        expected: tuple[str, str, str] | None = (
            (parts.hostname or "").lower(),
            parts.path,
            parts.query,
        )
    except ValueError:
        expected = None
    assert links._split(url) == expected
    if expected is not None:
        assert links._query(expected[2]) == parse_qsl(expected[2])
