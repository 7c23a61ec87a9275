"""Frames between the server and its own helper processes: an 8-byte big-endian length,
then a pickle. Only agentid's processes are at either end of these private socketpairs."""

from __future__ import annotations

import asyncio
import pickle
import socket
import struct
from typing import Any

FRAME = struct.Struct("!Q")


def send(sock: socket.socket, obj: Any) -> None:
    body = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    sock.sendall(FRAME.pack(len(body)) + body)


def _recv_exactly(sock: socket.socket, n: int) -> bytes | None:
    chunks, left = [], n
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv(sock: socket.socket) -> tuple[bool, Any]:
    """(True, object), or (False, None) once the other end has closed."""
    header = _recv_exactly(sock, FRAME.size)
    if header is None:
        return False, None
    body = _recv_exactly(sock, FRAME.unpack(header)[0])
    if body is None:
        return False, None
    return True, pickle.loads(body)  # noqa: S301 - from our own process


def write(writer: asyncio.StreamWriter, obj: Any) -> None:
    body = pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)
    writer.writelines((FRAME.pack(len(body)), body))  # no copy of the body


async def read(reader: asyncio.StreamReader) -> Any:
    """The next object; raises ``asyncio.IncompleteReadError`` once the other end is gone."""
    (length,) = FRAME.unpack(await reader.readexactly(FRAME.size))
    return pickle.loads(await reader.readexactly(length))  # noqa: S301 - our own process
