"""DATA as a stream: however a message is cut into pieces, unstuffing it, checking and fixing
its line endings and keeping it (in memory, or past the threshold in a private file) give
exactly what the same work on the whole message gives."""

from __future__ import annotations

import asyncio
import stat
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentid.email.inbound.data import Unstuffer
from agentid.email.inbound.data import receive
from agentid.email.inbound.incoming import PREFIX
from agentid.email.inbound.incoming import Content
from agentid.email.inbound.incoming import Incoming
from agentid.email.inbound.incoming import Spooled
from agentid.email.inbound.incoming import clear_leftovers
from agentid.email.inbound.line_endings import LineEndingFixer
from agentid.email.inbound.line_endings import LineEndings
from agentid.email.inbound.line_endings import fix_line_endings
from agentid.email.inbound.line_endings import has_bare_line_ending_or_nul
from agentid.email.inbound.replies import NOT_STORED
from agentid.email.inbound.replies import TOO_BIG

PIECES = [b"a", b".", b"..", b"\r", b"\n", b"\r\n", b"\r\n.", b".\r\n", b"\x00", b"x" * 40]
BODIES = st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join)
CUTS = st.lists(st.integers(min_value=0, max_value=2500), max_size=12)


def cut(body: bytes, cuts: list[int]) -> list[bytes]:
    points = [0, *sorted(c for c in cuts if c <= len(body)), len(body)]
    return [body[a:b] for a, b in pairwise(points)]


def unstuffed(stream: bytes) -> bytes:
    """RFC 5321 4.5.2 on the whole: a dot after CRLF (or at the start) goes."""
    return (b"\r\n" + stream).replace(b"\r\n.", b"\r\n")[2:]


def reference(stream: bytes) -> tuple[bytes, bytes]:
    """(message, what follows the end marker), the whole stream at once."""
    framed = b"\r\n" + stream
    end = framed.find(b"\r\n.\r\n")
    return unstuffed(framed[2 : end + 2]), framed[end + 5 :]


@settings(max_examples=500, deadline=None)
@given(body=BODIES, cuts=CUTS)
def test_unstuffing_pieces_is_unstuffing_the_whole(body: bytes, cuts: list[int]) -> None:
    unstuffer = Unstuffer()
    assert b"".join(unstuffer.feed(p) for p in cut(body, cuts)) == unstuffed(body)


@settings(max_examples=500, deadline=None)
@given(body=BODIES, cuts=CUTS)
def test_line_endings_found_in_pieces_as_in_the_whole(body: bytes, cuts: list[int]) -> None:
    found = LineEndings()
    for piece in cut(body, cuts):
        found.feed(piece)
    assert (found.bare or found.nul) == has_bare_line_ending_or_nul(body)
    assert found.nul == (b"\x00" in body)


@settings(max_examples=500, deadline=None)
@given(body=BODIES, cuts=CUTS)
def test_line_endings_fixed_in_pieces_as_in_the_whole(body: bytes, cuts: list[int]) -> None:
    fixer = LineEndingFixer()
    fixed = b"".join(fixer.feed(p) for p in cut(body, cuts)) + fixer.flush()
    assert fixed == fix_line_endings(body)


async def received(
    stream: bytes, cuts: list[int], incoming: Incoming, max_bytes: int | None = None
) -> tuple[Content | str, bytes]:
    """(what ``receive`` gives, what follows DATA on the stream), the stream cut as given."""
    reader = asyncio.StreamReader(limit=1001)
    for piece in cut(stream, cuts):
        reader.feed_data(piece)
    reader.feed_eof()
    return await receive(reader, max_bytes, incoming), await reader.read()


def kept(content: Content | str) -> bytes:
    assert isinstance(content, Content), content
    if content.spooled is None:
        assert content.data is not None
        return content.data
    return content.spooled.path.read_bytes()


@settings(max_examples=200, deadline=None)
@given(
    body=BODIES,
    cuts=CUTS,
    memory=st.sampled_from([0, 1, 7, 64, 1 << 20]),
    normalize=st.booleans(),
)
def test_kept_in_memory_or_in_a_file_exactly(
    tmp_path_factory: pytest.TempPathFactory,
    body: bytes,
    cuts: list[int],
    memory: int,
    normalize: bool,
) -> None:
    directory = tmp_path_factory.mktemp("incoming")
    incoming = Incoming(directory, memory, normalize=normalize)
    stream = body + b"\r\n.\r\nQUIT\r\n"
    content, rest = asyncio.run(received(stream, cuts, incoming))
    message, after = reference(stream)
    expected = fix_line_endings(message) if normalize else message
    assert rest == after
    assert kept(content) == expected
    assert isinstance(content, Content)
    assert content.size == len(expected)
    assert (content.spooled is not None) == (len(expected) > memory)
    assert content.nul == (b"\x00" in expected)
    assert content.bare_line_ending == has_bare_line_ending_or_nul(expected.replace(b"\0", b""))
    content.release()
    assert list(directory.iterdir()) == []


def test_the_file_is_private_and_ownership_moves_once(tmp_path: Path) -> None:
    body = b"Subject: big\r\n\r\n" + b"line of text\r\n" * 1000
    content, _ = asyncio.run(
        received(body + b".\r\n", [], Incoming(tmp_path, 100, normalize=False))
    )
    assert isinstance(content, Content) and isinstance(content.raw, Spooled)
    spooled = content.raw
    assert spooled.path.parent == tmp_path and spooled.path.name.startswith(PREFIX)
    assert stat.S_IMODE(spooled.path.stat().st_mode) == 0o600
    assert spooled.size == len(body) == spooled.path.stat().st_size
    spooled.take()  # the spool has it now: the session letting go leaves the file
    content.release()
    assert spooled.path.exists()
    spooled.discard()  # the spool, once the message is committed or has failed
    assert not spooled.path.exists()


def test_too_big_is_drained_and_leaves_nothing(tmp_path: Path) -> None:
    stream = b"y" * 50_000 + b"\r\n.\r\nQUIT\r\n"
    incoming = Incoming(tmp_path, 100, normalize=False)
    assert asyncio.run(received(stream, [10, 3000], incoming, 10_000)) == (TOO_BIG, b"QUIT\r\n")
    assert list(tmp_path.iterdir()) == []


def test_peer_leaving_mid_message_leaves_nothing(tmp_path: Path) -> None:
    incoming = Incoming(tmp_path, 100, normalize=False)
    with pytest.raises(asyncio.IncompleteReadError):
        asyncio.run(received(b"z" * 5000, [], incoming))
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_cannot_be_written_is_451_and_the_session_stays_in_step(
    tmp_path: Path,
) -> None:
    incoming = Incoming(tmp_path / "gone", 100, normalize=False)  # no such directory
    stream = b"w" * 5000 + b"\r\n.\r\nNOOP\r\n"
    assert asyncio.run(received(stream, [], incoming)) == (NOT_STORED, b"NOOP\r\n")


def test_leftovers_are_cleared(tmp_path: Path) -> None:
    (tmp_path / f"{PREFIX}abc.eml").write_bytes(b"left by a crash")
    (tmp_path / "agentid.db").write_bytes(b"")
    assert clear_leftovers(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["agentid.db"]


def test_bytes_from_another_session_are_kept_the_same_way(tmp_path: Path) -> None:
    incoming = Incoming(tmp_path, 10, normalize=True)
    content = asyncio.run(incoming.of_bytes(b"bare\nline\r\n"))
    assert isinstance(content.raw, Spooled)
    assert kept(content) == b"bare\r\nline\r\n" and content.size == 12
    assert not content.bare_line_ending
    with content:  # the session lets go: the file goes
        pass
    assert list(tmp_path.iterdir()) == []
