"""parse_message on its own: whatever the bytes, it never raises and every string it
returns can be stored (no NUL for PostgreSQL) and served as JSON (no lone surrogates)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.email.inbound.parse import parse_message
from agentid.extract import extract_eml

header_names = st.sampled_from(
    [b"Subject", b"From", b"To", b"Cc", b"Content-Type", b"Content-Transfer-Encoding",
     b"Content-Disposition", b"MIME-Version", b"Date", b"Message-ID", b"X-Junk"]
)  # fmt: skip
values = st.one_of(
    st.binary(max_size=80),
    st.sampled_from(
        [
            b"multipart/mixed; boundary=b",
            b'multipart/alternative; boundary="b"',
            b"text/plain; charset=utf-16",
            b"text/html; charset=x-bogus",
            b"message/rfc822",
            b"base64",
            b"quoted-printable",
            b"x-uuencode",
            b"attachment; filename*=utf-8''%ff%00",
            b"=?utf-8?b?////?=",
            b"=?bogus?q?=FF=00?=",
        ]
    ),
)
lines = st.one_of(
    st.binary(max_size=120),
    st.sampled_from([b"--b", b"--b--", b"", b"=", b"=00", b"AAAA", b"begin 644 x"]),
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    headers = draw(st.lists(st.tuples(header_names, values), max_size=8))
    body = draw(st.lists(lines, max_size=20))
    sep = draw(st.sampled_from([b"\r\n", b"\n"]))
    head = sep.join(name + b": " + value for name, value in headers)
    return head + sep + sep + sep.join(body) + draw(st.sampled_from([b"", sep]))


def assert_storable(value: Any) -> None:
    if isinstance(value, str):
        value.encode("utf-8")  # no lone surrogates
        assert "\x00" not in value
    elif isinstance(value, list):
        for v in value:
            assert_storable(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            assert_storable(k)
            assert_storable(v)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(messages(), st.binary(max_size=2000)))
def test_parse_never_raises(raw: bytes) -> None:
    parsed = parse_message(raw)
    for field in dataclasses.fields(parsed):  # (compiled, a dataclass has no __slots__)
        assert_storable(getattr(parsed, field.name))


def test_ingest_extracts_exactly_as_agentid_extract(shared_dir: Path) -> None:
    """One extraction path: what the inbox shows for a message is what `agentid extract`
    (and the corpus score) says of the same .eml."""
    corpus = sorted((shared_dir / "corpus" / "verification").glob("*.eml"))
    assert corpus
    for path in corpus:
        raw = path.read_bytes()
        parsed = parse_message(raw)
        assert {"codes": parsed.codes, "links": parsed.links} == extract_eml(raw).as_dict(), path


local = st.from_regex(r"[a-z0-9][a-z0-9._+-]{0,15}", fullmatch=True)
domain = st.from_regex(r"[a-z0-9]{1,10}\.(test|example|org)", fullmatch=True)
display = st.from_regex(r"[A-Za-z][A-Za-z ]{0,15}", fullmatch=True)


@st.composite
def address_lists(draw: st.DrawFn) -> str:
    items = []
    for _ in range(draw(st.integers(1, 5))):
        addr = f"{draw(local)}@{draw(domain)}"
        style = draw(st.sampled_from(["bare", "angle", "named", "quoted"]))
        items.append(
            {
                "bare": addr,
                "angle": f"<{addr}>",
                "named": f"{draw(display).strip() or 'X'} <{addr}>",
                "quoted": f'"{draw(display)}, Jr" <{addr}>',
            }[style]
        )
    return ", ".join(items)


@given(address_lists())
def test_fast_address_lists_agree_with_the_standard_library(value: str) -> None:
    from email.utils import getaddresses

    from agentid.email.inbound.parse import addresses_in

    expected = [a.lower() for _, a in getaddresses([value]) if "@" in a]
    assert addresses_in(value) == expected
