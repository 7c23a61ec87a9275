"""DkimSigner on generated messages: every signature dkimpy verifies, every tampered one it
refuses, and the canonical forms match dkimpy's field by field.

Messages carry encoded words and raw UTF-8, folded fields, runs and trailing tabs and
spaces, duplicate and unsigned fields, names in any case, empty bodies, trailing blank
lines, long lines, and CRLF, LF, bare CR or mixed line ends.
"""

from __future__ import annotations

import itertools
import re
from email.header import Header

import dkim as dkimpy
from dkim.canonicalization import Relaxed
from dkim.util import parse_tag_value
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.email.outbound.dkim_sign import SIGNED_FIELDS
from agentid.email.outbound.dkim_sign import relaxed_body
from agentid.email.outbound.dkim_sign import relaxed_header
from agentid.email.outbound.dkim_sign import split_message
from agentid.email.outbound.dkim_sign import to_crlf
from tests.email.outbound.keys import provisioned

FIELD_NAMES = [*SIGNED_FIELDS, "received", "x-mailer", "list-id", "sender", "x-a"]

# any character but controls (tab is added back); verifiers disagree on \v and \f only
chars = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"), include_characters="\t")
words = st.text(chars, max_size=30)
spaces = st.text(" \t", max_size=3)


@st.composite
def field_values(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["text", "encoded", "ascii"]))
    if kind == "encoded":  # RFC 2047 encoded words, folded by the stdlib at 76 columns
        value = Header(draw(words), "utf-8").encode(linesep="\r\n").encode()
    else:
        alphabet = chars if kind == "text" else st.characters(min_codepoint=32, max_codepoint=126)
        parts = draw(st.text(alphabet, max_size=120)).encode().split(b" ")
        value = parts[0]
        for part in parts[1:]:  # fold at some spaces: CRLF before the whitespace
            value += draw(st.sampled_from([b" ", b"\r\n ", b"\r\n\t "])) + part
    return draw(spaces).encode() + value + draw(spaces).encode()


@st.composite
def fields(draw: st.DrawFn) -> bytes:
    name = draw(st.sampled_from(FIELD_NAMES))
    name = draw(st.sampled_from([name, name.title(), name.upper()]))
    value = draw(field_values())
    sep = b"" if value[:1] in (b" ", b"\t") else draw(st.sampled_from([b" ", b""]))
    return name.encode() + b":" + sep + value + b"\r\n"


body_lines = st.one_of(
    st.text(chars, max_size=80).map(str.encode),
    st.sampled_from([b"", b" ", b"\t", b"  a  b \t", b"x" * 1200, b"=?utf-8?q?x?=", b"."]),
    st.tuples(spaces, words, spaces).map(lambda t: "".join(t).encode()),
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    head = draw(st.lists(fields(), max_size=8))
    head.insert(draw(st.integers(0, len(head))), b"From: " + draw(field_values()) + b"\r\n")
    message = b"".join(head)
    if draw(st.integers(0, 9)):  # mostly a body; sometimes the message is all header
        lines = draw(st.lists(body_lines, max_size=30))
        blanks = b"\r\n" * draw(st.integers(0, 3))
        message += b"\r\n" + b"\r\n".join(lines) + draw(st.sampled_from([b"", b"\r\n"])) + blanks
    ending = draw(st.sampled_from(["crlf", "lf", "mixed"]))
    if ending == "lf":
        message = message.replace(b"\r\n", b"\n")
    elif ending == "mixed":  # CRLF, LF or a bare CR, each line its own
        pieces, message = message.split(b"\r\n"), b""
        for piece, nxt in itertools.pairwise(pieces):
            # (a bare CR before an empty line and LF would read as one CRLF: no blank line)
            ends = [b"\r\n", b"\n"] if not nxt else [b"\r\n", b"\n", b"\r"]
            message += piece + draw(st.sampled_from(ends))
        message += pieces[-1]
    return message


def verifies(message: bytes) -> bool:
    return bool(dkimpy.verify(message, dnsfunc=provisioned().dnsfunc))


def tags(signed: bytes) -> dict[bytes, bytes]:
    field = re.match(rb"DKIM-Signature:(.*?\r\n)(?![ \t])", signed, re.S)
    assert field is not None
    return {k: re.sub(rb"\s+", b"", v) for k, v in parse_tag_value(field.group(1)).items()}


FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(messages())
def test_every_signature_verifies_and_tampering_breaks_it(message: bytes) -> None:
    signed = provisioned().signer.sign(message)
    wire = to_crlf(message)
    field = signed[: len(signed) - len(wire)]
    assert signed.endswith(wire)
    assert all(len(line) <= 78 for line in field.split(b"\r\n"))
    assert verifies(signed), signed
    # every instance of the fields asked for, From once more (dkimpy's verifier adds that
    # From itself, other verifiers do not: this checks h= directly)
    present = [name for name, _ in split_message(wire)[0] if name.decode() in SIGNED_FIELDS]
    assert tags(signed)[b"h"].split(b":") == [*present, b"from"]

    assert not verifies(signed + b"\r\ntampered\r\n")  # the body (or a body added)
    from_at = re.search(rb"^From:", signed, re.M | re.I)
    assert from_at is not None
    assert not verifies(signed[: from_at.end()] + b"X" + signed[from_at.end() :])  # From
    assert not verifies(signed[: len(field)] + b"From: other@evil.test\r\n" + wire)  # 2nd From
    assert verifies(signed[: len(field)] + b"X-Added: unsigned\r\n" + wire)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_dkimpy_signs_the_same_message_alike(message: bytes) -> None:
    """dkimpy's own signature of the message, with our h= list, verifies and hashes the body
    to the same bh= (dkimpy.sign costs ~9 ms in pure Python: fewer examples)."""
    ours = tags(provisioned().signer.sign(message))
    include = ours[b"h"].split(b":")
    theirs = dkimpy.sign(
        to_crlf(message),
        ours[b"s"],
        ours[b"d"],
        provisioned().pem,
        canonicalize=(b"relaxed", b"relaxed"),
        include_headers=include,
    )
    assert verifies(theirs + to_crlf(message))
    assert tags(theirs)[b"bh"] == ours[b"bh"]
    assert tags(theirs)[b"h"] == ours[b"h"]


@FUZZ
@given(messages())
def test_canonical_forms_match_dkimpy(message: bytes) -> None:
    wire = to_crlf(message)
    ours, body = split_message(wire)
    headers, their_body = dkimpy.rfc822_parse(wire)
    assert body == their_body
    assert relaxed_body(body) == Relaxed.canonicalize_body(their_body)
    assert [relaxed_header(n, v) for n, v in ours] == [
        n + b":" + v for n, v in Relaxed.canonicalize_headers(headers)
    ]
