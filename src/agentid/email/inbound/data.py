"""Reading an SMTP DATA section (RFC 5321 4.5.2), fast, exactly and as a stream.

aiosmtpd reads DATA one line at a time; this reads up to each ".\\r\\n" instead (at most
``CHUNK`` bytes at a time), so a message costs a few buffer scans rather than a Python
loop per line. The end is only CRLF "." CRLF: a bare LF or CR next to the dot never ends
a message (the SMTP smuggling sequences stay inside it, for the handler to refuse).

Each piece is dot-unstuffed as it comes and handed on (``Incoming``: memory, then a
file), so a message is never held whole, let alone several times.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from typing import Protocol

from agentid.email.inbound.incoming import Content
from agentid.email.inbound.incoming import Incoming
from agentid.email.inbound.replies import NOT_STORED
from agentid.email.inbound.replies import TOO_BIG

log = logging.getLogger("agentid.smtp")

DOT_LINE = b".\r\n"
END = b"\r\n.\r\n"
CRLF = b"\r\n"
STUFFED = b"\r\n."
CHUNK = 256 * 1024  # bytes read at most at a time: the reader buffers up to twice this
GATHER = 64 * 1024  # pieces are handed on in blocks of about this size


class Sink(Protocol):
    async def write(self, piece: bytes) -> None: ...


class Unstuffer:
    """Transparency undone on a stream cut anywhere: a dot that follows a CRLF (or starts
    the message) goes. Each piece is read with the two bytes before it, so a CRLF "." split
    across pieces is seen too."""

    def __init__(self) -> None:
        self._before = CRLF  # a message starts as if after a CRLF

    def feed(self, piece: bytes) -> bytes:
        if STUFFED not in piece and not piece.startswith((b".", b"\n.")):
            self._before = (self._before + piece[-2:])[-2:]
            return piece  # the usual case: no dot to remove, no copy
        framed = self._before + piece
        self._before = framed[-2:]
        # Only dots are removed, never the two bytes in front: [2:] is exactly the piece.
        return framed.replace(STUFFED, CRLF)[2:]


async def receive(
    reader: asyncio.StreamReader, max_bytes: int | None, incoming: Incoming
) -> Content | str:
    """The message, or the reply refusing it (552 too big, 451 when it could not be kept);
    either way DATA is read to its end, so the session can go on.

    Raises ``asyncio.IncompleteReadError`` when the peer closes before the end marker.
    """
    receiving = incoming.receiving()
    sink = _Guarded(receiving)
    try:
        whole = await stream_data(reader, max_bytes, sink)
        if whole and sink.error is None:
            try:
                return await receiving.finish()
            except OSError as exc:  # writing the file's last block failed (a full disk)
                sink.error = exc
    except BaseException:
        receiving.abandon()
        raise
    receiving.abandon()
    if not whole:
        return TOO_BIG
    log.warning("message not kept while receiving", extra={"error": str(sink.error)})
    return NOT_STORED


async def read_data(reader: asyncio.StreamReader, max_bytes: int | None) -> bytes | None:
    """The message in memory, dot-unstuffed, with its last CRLF; None when it exceeds
    ``max_bytes`` (read to its end and dropped)."""
    pieces = _Pieces()
    if not await stream_data(reader, max_bytes, pieces):
        return None
    return b"".join(pieces.pieces)


async def stream_data(reader: asyncio.StreamReader, max_bytes: int | None, sink: Sink) -> bool:
    """Hand the message, dot-unstuffed and with its last CRLF, to ``sink`` piece by piece;
    False when it exceeds ``max_bytes`` (then the rest is read and dropped).

    Raises ``asyncio.IncompleteReadError`` when the peer closes before the end marker.
    """
    # StreamReader's line limit (aiosmtpd sets 1001) has no public setter; DATA lines may
    # be longer, and a chunk without a marker is handled below, so lift it meanwhile.
    limited: Any = reader
    saved_limit = limited._limit
    limited._limit = CHUNK
    try:
        return await _stream(reader, max_bytes, sink)
    finally:
        limited._limit = saved_limit


async def _stream(reader: asyncio.StreamReader, max_bytes: int | None, sink: Sink) -> bool:
    unstuffer = Unstuffer()
    size = 0
    too_big = False
    tail = CRLF  # the stream's last bytes so far; a message starts as if after a CRLF
    gathered: list[bytes] = []  # pieces not handed on yet (text has many short ones)
    held = 0
    while True:
        try:
            piece = await reader.readuntil(DOT_LINE)
        except asyncio.LimitOverrunError as exc:
            # No ".\r\n" within a chunk: take what was scanned (never a partial marker).
            piece = await reader.readexactly(exc.consumed)
            ended = False
        else:
            ended = (tail + piece[-len(END) :]).endswith(END)
        tail = (tail + piece[-len(END) :])[-(len(END) - 1) :]
        size += len(piece)
        if max_bytes is not None and size - len(DOT_LINE) > max_bytes:
            too_big, gathered, held = True, [], 0
        if too_big:
            if ended:
                return False
            continue
        gathered.append(piece[: -len(DOT_LINE)] if ended else piece)
        held += len(piece)
        if ended or held >= GATHER:
            block = gathered[0] if len(gathered) == 1 else b"".join(gathered)
            gathered, held = [], 0
            await sink.write(unstuffer.feed(block))
        if ended:
            return True


class _Pieces:
    def __init__(self) -> None:
        self.pieces: list[bytes] = []

    async def write(self, piece: bytes) -> None:
        self.pieces.append(piece)


class _Guarded:
    """Writes until one fails (a full disk): then the rest of DATA is only read."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink
        self.error: OSError | None = None

    async def write(self, piece: bytes) -> None:
        if self.error is not None:
            return
        try:
            await self._sink.write(piece)
        except OSError as exc:
            self.error = exc
