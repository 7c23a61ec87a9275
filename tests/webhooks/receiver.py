"""A real webhook receiver on loopback: asyncio's server speaking HTTP/1.1 (one request per
connection, as agentid keeps none alive), over TLS when given a certificate.

It answers the statuses of ``script`` first, one per request, then ``status`` (200), once
``released`` is set (a test clears it to hold the answers back); it
keeps every request as it arrived (and the TLS server name the client asked for), and a
test awaits the n-th request instead of sleeping. Signatures are checked by the tests
with the ``standardwebhooks`` library (``verified``), never by our own code.
"""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from standardwebhooks import Webhook

HOST = "127.0.0.1"
REASONS = {200: "OK", 204: "No Content", 410: "Gone", 429: "Too Many Requests", 500: "Oops"}


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    peer: str
    server_name: str | None  # TLS SNI

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


def verified(secret: str, seen: Seen) -> dict[str, Any]:
    """The payload, once the standardwebhooks library accepts its signature (it raises
    ``WebhookVerificationError`` otherwise)."""
    return dict(Webhook(secret).verify(seen.body, seen.headers))


@dataclass
class Receiver:
    script: deque[int] = field(default_factory=deque)
    status: int = 200
    requests: list[Seen] = field(default_factory=list)
    port: int = 0
    server_names: dict[int, str | None] = field(default_factory=dict)  # TLS object -> SNI
    released: asyncio.Event = field(default_factory=asyncio.Event)  # clear it to hold answers
    _arrived: asyncio.Condition = field(default_factory=asyncio.Condition)

    def url(self, path: str = "/hook", host: str = HOST, scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            line, *fields = head.decode("latin-1").split("\r\n")
            method, target, _ = line.split(" ", 2)
            headers = {}
            for item in fields:
                if item:
                    name, _, value = item.partition(":")
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            ssl_object = writer.get_extra_info("ssl_object")
            server_name = self.server_names.get(id(ssl_object)) if ssl_object else None
            peer = str(writer.get_extra_info("peername")[0])
            await self.released.wait()
            status = self.script.popleft() if self.script else self.status
            reason = REASONS.get(status, "Status")
            answer = f"HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\nConnection: close\r\n"
            writer.write(answer.encode() + b"\r\n")
            await writer.drain()
            async with self._arrived:
                self.requests.append(Seen(method, target, headers, body, peer, server_name))
                self._arrived.notify_all()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_for(self, count: int, timeout: float = 20) -> list[Seen]:
        """The first ``count`` requests, once they have arrived."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(self.requests) >= count)
        return self.requests[:count]


def _tls(cert: tuple[Any, Any], names: dict[int, str | None]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*cert)

    def remember(sock: Any, name: str | None, _: ssl.SSLContext) -> None:
        names[id(sock)] = name

    context.sni_callback = remember
    return context


@asynccontextmanager
async def receiving(*script: int, cert: tuple[Any, Any] | None = None) -> AsyncIterator[Receiver]:
    """A receiver on a free loopback port answering ``script`` first, then 200."""
    receiver = Receiver(script=deque(script))
    receiver.released.set()
    server = await asyncio.start_server(
        receiver.handle, HOST, 0, ssl=None if cert is None else _tls(cert, receiver.server_names)
    )
    receiver.port = int(server.sockets[0].getsockname()[1])
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()
