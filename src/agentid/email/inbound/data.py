"""Reading an SMTP DATA section (RFC 5321 4.5.2), fast and exactly.

aiosmtpd reads DATA one line at a time; this reads up to each ".\\r\\n" instead, so a
message costs a few buffer scans rather than a Python loop per line. The end is only
CRLF "." CRLF: a bare LF or CR next to the dot never ends a message (the SMTP smuggling
sequences stay inside it, for the handler to refuse).
"""

from __future__ import annotations

import asyncio
from typing import Any

DOT_LINE = b".\r\n"
END = b"\r\n.\r\n"
CHUNK = 1 << 20


async def read_data(reader: asyncio.StreamReader, max_bytes: int | None) -> bytes | None:
    """The message, dot-unstuffed, with its last CRLF; None when it exceeds ``max_bytes``
    (everything up to the end marker is read and dropped, so the session can go on).

    Raises ``asyncio.IncompleteReadError`` when the peer closes before the end marker.
    """
    # StreamReader's line limit (aiosmtpd sets 1001) has no public setter; DATA lines may
    # be longer, and a chunk without a marker is handled below, so lift it meanwhile.
    limited: Any = reader
    saved_limit = limited._limit
    limited._limit = CHUNK
    try:
        return await _read(reader, max_bytes)
    finally:
        limited._limit = saved_limit


async def _read(reader: asyncio.StreamReader, max_bytes: int | None) -> bytes | None:
    parts: list[bytes] = []
    size = 0
    too_big = False
    tail = b"\r\n"  # the stream's last bytes so far; a message starts as if after a CRLF
    while True:
        try:
            piece = await reader.readuntil(DOT_LINE)
        except asyncio.LimitOverrunError as exc:
            # No ".\r\n" within a chunk: take what was scanned (never a partial marker).
            piece = await reader.readexactly(exc.consumed)
            ended = False
        else:
            ended = (tail + piece[-len(END) :]).endswith(END)
        tail = (tail + piece)[-(len(END) - 1) :]
        size += len(piece)
        if not too_big:
            parts.append(piece)
            if max_bytes is not None and size - len(DOT_LINE) > max_bytes:
                too_big = True
                parts.clear()
        if ended:
            break
    if too_big:
        return None
    data = b"".join(parts)[: -len(DOT_LINE)]
    # Transparency: a leading dot on any line was doubled by the sender.
    return (b"\r\n" + data).replace(b"\r\n.", b"\r\n")[2:]
