"""SPF: recognising, merging (one record, terms and ``all`` kept) and the 10-lookup limit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentid.dns import spf
from agentid.errors import Conflict


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v=spf1 -all", True),
        ("v=spf1", True),
        ("V=SPF1 mx ~all", True),
        ("v=spf10 -all", False),
        ("v=spf1-all", False),
        ("google-site-verification=abc", False),
        ("", False),
    ],
)
def test_is_spf(text: str, expected: bool) -> None:
    assert spf.is_spf(text) is expected


def test_lookups_count_the_record_own_terms() -> None:
    text = (
        "v=spf1 ip4:192.0.2.1 a mx include:a.test ~include:b.test exists:%{i}.x.test ptr"
        " redirect=c.test"
    )
    assert spf.lookups(text) == 7
    assert spf.lookups("v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all") == 0
    assert spf.lookups("v=spf1 a:mail.test/24 mx/24 -all") == 2


def test_merge_into_nothing() -> None:
    assert spf.merge([], ["ip4:203.0.113.7", "include:sendgrid.net"]) == (
        "v=spf1 ip4:203.0.113.7 include:sendgrid.net ~all"
    )


def test_merge_keeps_their_terms_order_and_all() -> None:
    merged = spf.merge(["v=spf1 include:_spf.google.com -all"], ["ip4:203.0.113.7"])
    assert merged == "v=spf1 include:_spf.google.com ip4:203.0.113.7 -all"


def test_merge_is_idempotent_and_case_blind() -> None:
    once = spf.merge(["v=spf1 MX include:Sendgrid.net ?all"], ["mx", "include:sendgrid.net"])
    assert once == "v=spf1 MX include:Sendgrid.net ?all"
    assert spf.merge([once], ["mx", "include:sendgrid.net"]) == once


def test_two_records_become_one() -> None:
    merged = spf.merge(["v=spf1 a -all", "v=spf1 include:x.test ~all"], ["mx"])
    assert merged == "v=spf1 a include:x.test mx -all"


def test_redirect_without_all_is_kept_after_our_terms() -> None:
    merged = spf.merge(["v=spf1 redirect=_spf.example.test"], ["ip4:192.0.2.1"])
    assert merged == "v=spf1 ip4:192.0.2.1 redirect=_spf.example.test"


def test_more_than_ten_lookups_is_refused() -> None:
    ten = "v=spf1 " + " ".join(f"include:i{n}.test" for n in range(10)) + " ~all"
    assert spf.merge([ten], []) == ten
    with pytest.raises(Conflict, match="11 DNS lookups"):
        spf.merge([ten], ["include:sendgrid.net"])


TERM = st.one_of(
    st.from_regex(r"[+~?-]?(a|mx|ptr|all)", fullmatch=True),
    st.from_regex(r"[+~?-]?(include|exists|a|mx):[a-z]{1,8}\.test", fullmatch=True),
    st.from_regex(r"ip4:192\.0\.2\.[0-9]{1,2}", fullmatch=True),
    st.from_regex(r"(redirect|exp)=[a-z]{1,8}\.test", fullmatch=True),
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=12),
)
RECORD = st.lists(TERM, max_size=8).map(lambda terms: " ".join(["v=spf1", *terms]))
OURS = st.lists(st.sampled_from(["mx", "ip4:203.0.113.7", "include:sendgrid.net"]), max_size=3)


@given(st.lists(RECORD, max_size=3), OURS)
def test_merge_properties(existing: list[str], ours: list[str]) -> None:
    try:
        merged = spf.merge(existing, ours)
    except Conflict:
        assert (
            spf.lookups(" ".join(["v=spf1", *(t for r in existing for t in spf.terms(r)), *ours]))
            > 10
        )
        return
    assert spf.is_spf(merged)
    assert spf.lookups(merged) <= spf.MAX_LOOKUPS
    words = [w.lower() for w in spf.terms(merged)]
    assert len(words) == len(set(words))  # nothing twice
    for term in ours:  # ours are all there
        assert term in [w.lstrip("+") for w in words]
    alls = [w for w in words if spf.mechanism(w) == "all"]
    assert len(alls) <= 1 and (
        not alls or words.index(alls[0]) == len([w for w in words if not spf.is_modifier(w)]) - 1
    )
    assert spf.merge([merged], ours) == merged  # merging again changes nothing
