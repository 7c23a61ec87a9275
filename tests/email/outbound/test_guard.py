"""The received-code guard: every disguise of a received code or link is found; other
numbers, longer numbers and codes inside words are not."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentid.email.outbound.guard import Outgoing, ReceivedSecret, find_leaks

CODE = ReceivedSecret("482913", "code", "email", "M1")
DASHED = ReceivedSecret("G-830829", "code", "sms", "S1")
LINK = ReceivedSecret("https://app.example/magic/Xk29dLq7?a=1&b=2", "link", "email", "M2")
SHORT = ReceivedSecret("123", "code", "sms", "S2")
RECEIVED = [CODE, DASHED, LINK, SHORT]


def found(text: str | None = None, *, subject: str = "", html: str | None = None,
          names: tuple[str, ...] = ()) -> list[tuple[str, str]]:  # fmt: skip
    leaks = find_leaks(Outgoing(subject, text, html, list(names)), RECEIVED)
    return [(leak.value, leak.where) for leak in leaks]


@pytest.mark.parametrize(
    "text",
    [
        "482913", "Here it is: 482913.", "482 913", "482-913", "4 8 2 9 1 3", "48.29.13",
        "(482913)", "code:482913", "４８２９１３", "48\u200b2913", "482\u00ad913", "482\u00a0913",
        "&#52;82913", "4&#8203;82913",
    ],
)  # fmt: skip
def test_a_code_in_any_disguise_is_found(text: str) -> None:
    assert found(text) == [("482913", "text")]


@pytest.mark.parametrize(
    "text",
    ["1482913", "4829130", "A482913", "482913B", "14 82913", "482 91", "428913",
     "Your order 1482913 shipped", "call 482-9130"],
)  # fmt: skip
def test_other_numbers_are_not_the_code(text: str) -> None:
    assert found(text) == []


def test_codes_with_their_own_separators_and_letters() -> None:
    assert found("use g830829") == [("G-830829", "text")]
    assert found("use G 830 829") == [("G-830829", "text")]
    assert found("use XG-830829") == []


def test_short_codes_are_not_guarded() -> None:
    assert found("room 123 is free") == []


def test_every_field_is_searched() -> None:
    assert found(subject="code 482913") == [("482913", "subject")]
    assert found(html='<img alt="482913" src="x.png">') == [("482913", "html")]
    assert found(html="<!-- 482913 -->") == [("482913", "html")]
    assert found(html='<a href="https://x.example/?c=482913">go</a>') == [("482913", "html")]
    assert found(names=("code-482913.txt",)) == [("482913", "attachment_name")]
    assert found("482913", subject="482913") == [("482913", "subject")]  # once, where first


@pytest.mark.parametrize(
    "text",
    [
        "see https://app.example/magic/Xk29dLq7?a=1&b=2",
        "see https://APP.example/magic/Xk29dLq7?a=1&amp;b=2.",
        "(https://app.example/magic/Xk29dLq7?a=1&b=2)",
        "https://app.example/magic/Xk29dLq7?a=1%26b=2",
        '<a href="https://app.example/magic/Xk29dLq7?a=1&amp;b=2/">x</a>',
    ],
)
def test_a_link_is_found_by_its_url(text: str) -> None:
    assert [v for v, _ in found(text)] == [LINK.value]


def test_other_links_are_not_it() -> None:
    assert found("https://app.example/magic/xk29dlq7?a=1&b=2") == []  # tokens keep case
    assert found("https://app.example/magic/Xk29dLq7?a=1&b=3") == []
    assert found("https://app.example/help") == []


def test_nothing_received_nothing_found() -> None:
    assert find_leaks(Outgoing("482913", "482913", None, []), []) == []


codes = st.text(alphabet="0123456789", min_size=4, max_size=10)
separators = st.sampled_from(["", " ", "-", ".", "\u00a0", "\u200b"])
prose = st.text(alphabet=st.sampled_from("abcdefgh ,;:!?\n"), max_size=40)


@settings(max_examples=200, deadline=None)
@given(code=codes, seps=st.lists(separators, min_size=9, max_size=9), before=prose, after=prose)
def test_a_code_with_any_separators_is_found(
    code: str, seps: list[str], before: str, after: str
) -> None:
    disguised = "".join(ch + sep for ch, sep in zip(code, seps, strict=False)) + code[9:]
    disguised = disguised.strip(" -.\u00a0\u200b")
    text = f"{before} {disguised} {after}"
    secret = ReceivedSecret(code, "code", "email", "M")
    assert [leak.value for leak in find_leaks(Outgoing("", text, None, []), [secret])] == [code]


@settings(max_examples=200, deadline=None)
@given(code=codes, other=st.text(alphabet="0123456789", min_size=1, max_size=14), around=prose)
def test_a_number_that_is_not_the_code_is_never_reported(
    code: str, other: str, around: str
) -> None:
    if other == code:
        return
    secret = ReceivedSecret(code, "code", "email", "M")
    text = f"{around} {other} {around}"
    assert find_leaks(Outgoing("", text, None, []), [secret]) == []


def _cost(size: int, secrets: int) -> float:
    words = " ".join(f"word{n} {n * 7919 % 100000}" for n in range(size // 12))
    received = [ReceivedSecret(f"{n:06d}x", "code", "email", "M") for n in range(secrets)]
    received += [
        ReceivedSecret(f"https://x.example/{n}", "link", "email", "M") for n in range(secrets)
    ]
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        find_leaks(Outgoing("", words, words, []), received)
        best = min(best, time.process_time() - start)
    return best


def test_cost_grows_linearly_with_the_text_and_the_secrets() -> None:
    small, large = _cost(10_000, 100), _cost(100_000, 100)
    assert large <= 20 * max(small, 1e-4), (small, large)
    few, many = _cost(50_000, 100), _cost(50_000, 1000)
    assert many <= 20 * max(few, 1e-4), (few, many)
