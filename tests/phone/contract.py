"""What the local Twilio and Plivo servers share: a real HTTP server on 127.0.0.1 (the OS
picks the port) in a thread, handing each request to a vendor's ``answer`` and writing
back what it returns; and the queue of failures a test asks for."""

from __future__ import annotations

import base64
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any
from typing import Protocol
from urllib.parse import urlsplit

HOST = "127.0.0.1"

Answer = tuple[int, dict[str, str], bytes]


@dataclass(frozen=True)
class Seen:
    """One request the server received."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes


class Vendor(Protocol):
    port: int

    def answer(self, request: Seen) -> Answer: ...


@dataclass
class Failures:
    """Answers queued by a test for the next authorised requests."""

    _queued: deque[Answer] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def queue(self, answer: Answer, times: int = 1) -> None:
        with self._lock:
            self._queued.extend([answer] * times)

    def next(self) -> Answer | None:
        with self._lock:
            return self._queued.popleft() if self._queued else None


def basic_auth(headers: dict[str, str]) -> tuple[str, str] | None:
    """The (user, password) of an ``Authorization: Basic`` header."""
    kind, _, value = headers.get("authorization", "").partition(" ")
    if kind.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(value, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return (user, password) if colon else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    vendor: Any


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        seen = Seen(
            self.command,
            parts.path,
            parts.query,
            {name.lower(): value for name, value in self.headers.items()},
            body,
        )
        status, extra, answer = self.server.vendor.answer(seen)
        self.send_response(status)
        for name, value in extra.items():
            self.send_header(name, value)
        if answer and "Content-Type" not in extra:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    do_POST = do_GET = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@contextmanager
def serving(vendor: Vendor) -> Iterator[None]:
    """Serve ``vendor`` on a free loopback port (set as ``vendor.port``) until the end."""
    server = _Server((HOST, 0), _Handler)
    server.vendor = vendor
    vendor.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
