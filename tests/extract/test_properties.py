"""Property tests (hypothesis) for the extractor."""

from __future__ import annotations

import re

from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.extract import Extraction
from agentid.extract import extract_email
from agentid.extract import extract_eml
from agentid.extract import extract_sms

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NEUTRAL_WORDS = [
    "the",
    "blue",
    "river",
    "tomorrow",
    "we",
    "have",
    "apples",
    "train",
    "station",
    "morning",
    "report",
    "garden",
    "happy",
    "weekend",
    "weather",
    "lovely",
    "window",
    "bread",
    "coffee",
    "walk",
    "dinner",
    "friends",
    "music",
    "paper",
    "yellow",
    "quiet",
    "street",
    "pronto",
    "amigo",
    "bonjour",
    "merci",
    "danke",
    "schön",
    "привет",
    "друзья",
    "你好",
    "天气",
    "こんにちは",
    "안녕하세요",
    "مرحبا",
]

TEMPLATES = (
    "Your verification code is {c}.",
    "{c} is your login code.",
    "Tu código de verificación es {c}.",
    "Votre code de confirmation : {c}",
    "Ihr Bestätigungscode lautet {c}.",
    "Ваш код подтверждения: {c}",
    "您的验证码为{c}，请勿泄露。",
    "認証コード：{c}",
    "인증번호 [{c}]",
    "رمز التحقق {c}",
    "Kode verifikasi Anda: {c}",
    "Mã xác minh của bạn là {c}",
    "Security code:\n\n{c}",
)

words = st.sampled_from(NEUTRAL_WORDS)
sentence = st.lists(words, min_size=3, max_size=12).map(lambda ws: " ".join(ws).capitalize() + ".")
distractor = st.one_of(
    st.integers(1, 99).map(lambda n: f"${n}.99"),
    st.integers(1, 28).map(lambda d: f"{d:02d}/11/2026"),
    st.integers(0, 23).map(lambda h: f"{h:02d}:30"),
    st.integers(10, 99).map(lambda n: f"{n}%"),
    st.just("+1 646 555 0147"),
    st.just("order #778812"),
)
filler = st.lists(st.one_of(sentence, distractor), min_size=0, max_size=6).map(" ".join)

numeric_code = st.integers(4, 8).flatmap(
    lambda n: st.text(alphabet="0123456789", min_size=n, max_size=n)
)
alnum_code = (
    st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ23456789", min_size=5, max_size=8)
    .filter(lambda s: any(c.isdigit() for c in s) and any(c.isalpha() for c in s))
    .filter(lambda s: not re.fullmatch(r"[A-Z]{3,}[0-9]+", s))
    .filter(lambda s: sum(c.isalpha() for c in s) < 4 or sum(c.isdigit() for c in s) > 1)
    # a run of X is masked digits ("XX1234", "222XX": part of a card or account number),
    # which the extractor rightly leaves out
    .filter(lambda s: "XX" not in s)
)
code = st.one_of(numeric_code, alnum_code)


@FAST
@given(before=filler, after=filler, template=st.sampled_from(TEMPLATES), value=code)
def test_inserted_code_sentence_is_found(
    before: str, after: str, template: str, value: str
) -> None:
    body = "\n\n".join(x for x in (before, template.format(c=value), after) if x)
    ex = extract_sms(body)
    assert ex.codes, body
    assert ex.codes[0].value == value, body


@FAST
@given(before=filler, after=filler, value=numeric_code)
def test_inserted_code_in_email_html(before: str, after: str, value: str) -> None:
    html = f"<p>{before}</p><p>Your sign-in code:</p><div><b>{value}</b></div><p>{after}</p>"
    ex = extract_email(subject="Sign in", html=html)
    assert ex.codes and ex.codes[0].value == value, html


number = st.one_of(
    st.integers(0, 10**12).map(str),
    st.floats(0, 1e6, allow_nan=False).map(lambda f: f"{f:.2f}"),
    st.integers(1000, 99999).map(lambda n: f"{n:,}"),
)


@FAST
@given(st.lists(st.one_of(words, number), min_size=1, max_size=40))
def test_numbers_without_keywords_yield_nothing(tokens: list[str]) -> None:
    body = " ".join(tokens)
    digits = body.replace(" ", "")
    assume(not (digits.isdigit() and len(digits) <= 8))  # a message that is only a code
    assert extract_sms(body).codes == (), body
    assert extract_email(subject="Hello", text=body, html=f"<p>{body}</p>").codes == ()


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000))
def test_eml_never_raises(raw: bytes) -> None:
    assert isinstance(extract_eml(raw), Extraction)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=2000))
def test_sms_never_raises(body: str) -> None:
    assert isinstance(extract_sms(body), Extraction)


tag = st.sampled_from(["div", "p", "span", "td", "tr", "table", "a", "b", "br", "style", "x-y"])
attr = st.sampled_from(
    ['', ' style="display:none"', ' href="https://e.example/v?t=Ab12Cd34&amp;x=1"', " hidden",
     ' style="font-size:0"', ' href="javascript:alert(1)"', ' href=""']
)  # fmt: skip
fragment = st.recursive(
    st.text(max_size=30),
    lambda inner: st.tuples(tag, attr, st.lists(inner, max_size=4)).map(
        lambda t: f"<{t[0]}{t[1]}>{''.join(t[2])}</{t[0]}>"
    ),
    max_leaves=30,
)


@settings(max_examples=60, deadline=None)
@given(fragment, st.text(max_size=200))
def test_html_never_raises(html: str, junk: str) -> None:
    assert isinstance(extract_email(subject=junk, html=html + junk, text=junk), Extraction)


def test_deep_nesting_and_huge_input_never_raise() -> None:
    assert isinstance(extract_email(html="<div>" * 5000 + "code 123456"), Extraction)
    assert isinstance(extract_sms("1234 " * 50000), Extraction)
