"""Idle HTTP connections: the server keeps one open longer than clients keep it in their
pools (httpx: 5 s), so a client never sends a request on a connection the server is
closing at that moment (which surfaced as an ``httpx.ReadError`` in a test that waited about
5 s between two requests); ``AGENTID_HTTP_KEEP_ALIVE_SECONDS`` sets how long."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.conftest import ADMIN
from tests.conftest import start_service

REQUEST = (
    f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {ADMIN}\r\n\r\n"
).encode()


async def answer(reader: asyncio.StreamReader) -> bytes:
    """One response's status line, its headers read through."""
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    await reader.readexactly(length)
    return head.split(b"\r\n", 1)[0]


async def test_idle_connection_outlives_the_clients_own_expiry(tmp_path: Path) -> None:
    async with start_service(tmp_path / "data") as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.running.http_port)
        try:
            writer.write(REQUEST)
            assert await answer(reader) == b"HTTP/1.1 200 OK"
            await asyncio.sleep(6)  # past httpx's keepalive_expiry and uvicorn's own 5 s
            writer.write(REQUEST)
            assert await answer(reader) == b"HTTP/1.1 200 OK"
        finally:
            writer.close()


async def test_idle_connection_closed_after_the_setting(tmp_path: Path) -> None:
    async with start_service(tmp_path / "data", http_keep_alive_seconds=1) as service:
        reader, writer = await asyncio.open_connection("127.0.0.1", service.running.http_port)
        try:
            writer.write(REQUEST)
            assert await answer(reader) == b"HTTP/1.1 200 OK"
            assert await asyncio.wait_for(reader.read(), 10) == b""  # closed by the server
        finally:
            writer.close()
