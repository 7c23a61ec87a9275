"""A local HTTP server that answers SES v2 SendEmail as a test scripts it: stdlib
``ThreadingHTTPServer`` on 127.0.0.1, a free port.

moto (test_ses.py) plays SES faithfully for sending and for an unverified sender; this
plays what moto cannot: SES's error answers as SES words them (the ``x-amzn-ErrorType``
header and a ``{"message": ...}`` body, the rest-json protocol), a slow answer, and it
keeps each request as it came (headers, JSON body) to check the signature's key and
region and the parameters sent.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from typing import Any

HOST = "127.0.0.1"
MESSAGE_ID = "0102018f-stub-message-id-000000"
SEND_PATH = "/v2/email/outbound-emails"  # SES v2 SendEmail


@dataclass
class Request:
    path: str
    headers: dict[str, str]  # lower-case names
    body: dict[str, Any]


@dataclass
class SesStub:
    requests: list[Request] = field(default_factory=list)
    status: int = 200
    error_type: str | None = None  # the x-amzn-ErrorType of an error answer
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    numbered: bool = False  # each answer's MessageId ends with the send's number (1...)
    port: int = 0
    # domain identities (GetEmailIdentity, CreateEmailIdentity): domain -> Easy DKIM tokens
    identities: dict[str, list[str]] = field(default_factory=dict)

    @property
    def sends(self) -> list[Request]:
        """The SendEmail calls (identity calls for provisioning left out)."""
        return [r for r in self.requests if r.path.startswith(SEND_PATH)]

    @property
    def endpoint(self) -> str:
        return f"{HOST}:{self.port}"

    def fail(self, status: int, error_type: str, message: str, **headers: str) -> None:
        """Answer every request with this error, as SES would."""
        self.status, self.error_type, self.error_message = status, error_type, message
        self.headers = headers

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        if self.error_type is None:
            said = f"{MESSAGE_ID}-{len(self.sends)}" if self.numbered else MESSAGE_ID
            return self.status, {}, json.dumps({"MessageId": said}).encode()
        headers = {
            "x-amzn-ErrorType": f"{self.error_type}:http://internal.amazon.com/",
            **self.headers,
        }
        return self.status, headers, json.dumps({"message": self.error_message}).encode()

    def identity(self, method: str, path: str, body: dict[str, Any]) -> tuple[int, bytes] | None:
        """CreateEmailIdentity (POST, three tokens) and GetEmailIdentity (GET, 404
        NotFoundException when unknown), as SES answers them; None for other paths."""
        if method == "POST" and path == "/v2/email/identities":
            domain = str(body.get("EmailIdentity", ""))
            tokens = self.identities.setdefault(domain, [f"tok{n}{domain[:3]}" for n in range(3)])
        elif method == "GET" and path.startswith("/v2/email/identities/"):
            domain = path.rsplit("/", 1)[-1]
            if domain not in self.identities:
                return 404, json.dumps(
                    {"message": f"Email identity {domain} does not exist."}
                ).encode()
            tokens = self.identities[domain]
        else:
            return None
        dkim = {"SigningEnabled": True, "Status": "PENDING", "Tokens": tokens}
        answer = {
            "IdentityType": "DOMAIN",
            "VerifiedForSendingStatus": False,
            "DkimAttributes": dkim,
        }
        return 200, json.dumps(answer).encode()


def _handler(stub: SesStub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = json.loads(self.rfile.read(length) or b"{}")
            headers = {name.lower(): value for name, value in self.headers.items()}
            stub.requests.append(Request(self.path, headers, body))
            time.sleep(stub.delay)
            status, extra, payload = stub.answer()
            if stub.error_type is None and (found := stub.identity(self.command, self.path, body)):
                status, payload = found
                if status == 404:
                    extra = {"x-amzn-ErrorType": "NotFoundException:http://internal.amazon.com/"}
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("x-amzn-requestid", "stub-request-id")
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up waiting
                pass

        def log_message(self, format: str, *args: Any) -> None:
            return None

    return Handler


@contextmanager
def running_stub() -> Iterator[SesStub]:
    stub = SesStub()
    server = ThreadingHTTPServer((HOST, 0), _handler(stub))
    server.daemon_threads = True
    stub.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
