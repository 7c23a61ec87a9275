"""The DATA reader against a reference: only CRLF.CRLF ends a message, however the bytes
arrive, and dot-stuffing is undone exactly."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.email.inbound import data
from agentid.email.inbound.data import read_data

PIECES = [b"a", b"b", b".", b"..", b"\r", b"\n", b"\r\n", b"\r\n.", b".\r\n", b"\x00", b"x" * 40]


def reference(stream: bytes) -> tuple[bytes, bytes]:
    """(message, what follows the end marker), straight from RFC 5321 4.5.2."""
    framed = b"\r\n" + stream
    end = framed.find(b"\r\n.\r\n")
    body = framed[: end + 2]
    return body.replace(b"\r\n.", b"\r\n")[2:], framed[end + 5 :]


async def read(stream: bytes, cuts: list[int], max_bytes: int | None) -> tuple[bytes | None, bytes]:
    reader = asyncio.StreamReader(limit=1001)
    previous = 0
    for cut in [*sorted(cuts), len(stream)]:
        reader.feed_data(stream[previous:cut])
        previous = cut
    reader.feed_eof()
    message = await read_data(reader, max_bytes)
    return message, await reader.read()


@settings(max_examples=400, deadline=None)
@given(
    body=st.lists(st.sampled_from(PIECES), max_size=40).map(b"".join),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=6),
    chunk=st.sampled_from([16, 64, 1 << 20]),
)
def test_matches_the_reference(body: bytes, cuts: list[int], chunk: int) -> None:
    stream = body + b"\r\n.\r\nQUIT\r\n"
    cuts = [c for c in cuts if c <= len(stream)]
    original = data.CHUNK
    data.CHUNK = chunk  # small chunks force the no-marker-in-a-chunk path
    try:
        got = asyncio.run(read(stream, cuts, None))
    finally:
        data.CHUNK = original
    assert got == reference(stream)


@pytest.mark.parametrize(
    ("stream", "message", "rest"),
    [
        (b".\r\nQUIT\r\n", b"", b"QUIT\r\n"),
        (b"a\r\n.\r\n", b"a\r\n", b""),
        (b"..x\r\n..\r\n.\r\n", b".x\r\n.\r\n", b""),
        (b"a\n.\nb\r\n.\r\n", b"a\n.\nb\r\n", b""),
        (b"a\n.\r\nMAIL FROM:<e@x>\r\n.\r\n", b"a\n.\r\nMAIL FROM:<e@x>\r\n", b""),
        (b"x" * 3_000_000 + b"\r\n.\r\nNEXT", b"x" * 3_000_000 + b"\r\n", b"NEXT"),
    ],
)
def test_examples(stream: bytes, message: bytes, rest: bytes) -> None:
    assert asyncio.run(read(stream, [], None)) == (message, rest)


def test_too_big_is_read_to_the_end_and_dropped() -> None:
    stream = b"y" * 5000 + b"\r\n.\r\nQUIT\r\n"
    assert asyncio.run(read(stream, [100, 2000], 100)) == (None, b"QUIT\r\n")


def test_peer_leaving_mid_message_raises() -> None:
    with pytest.raises(asyncio.IncompleteReadError):
        asyncio.run(read(b"half a message\r\n", [], None))
