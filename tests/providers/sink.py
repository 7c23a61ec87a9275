"""A real SMTP server to relay to: aiosmtpd's Controller on 127.0.0.1, a free port.

It keeps every message it accepts (envelope and bytes as they arrived) and answers what a
test tells it to: a reply per recipient at RCPT, one reply at DATA (or a script of replies
for the next ones), a pause, a hold until released or a hang-up at DATA, and optionally
AUTH with one user and password, and SMTPUTF8.
"""

from __future__ import annotations

import asyncio
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import LoginPassword

from tests.ports import free_port

HOST = "127.0.0.1"


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes


@dataclass
class Sink:
    received: list[Received] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_reply: str = "250 2.0.0 Ok: queued as 4Xk9ZQ1"
    data_script: list[str] = field(default_factory=list)  # replies to the next DATAs, first
    data_delay: float = 0.0
    held: threading.Event | None = None  # DATA is answered once it is set (the sink's thread)
    hang_up_at_data: bool = False
    port: int = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if (reply := self.rcpt_replies.get(address)) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        if self.held is not None:
            await asyncio.to_thread(self.held.wait)
        if self.hang_up_at_data:
            server.transport.close()
            return "250 never heard"
        reply = self.data_script.pop(0) if self.data_script else self.data_reply
        if reply.startswith("250"):
            got = Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            self.received.append(got)
        return reply


def _authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def running_sink(
    *,
    user: str | None = None,
    password: str | None = None,
    smtputf8: bool = False,
    tls: ssl.SSLContext | None = None,
) -> Iterator[Sink]:
    """A sink; with ``tls``, TLS from the first byte (implicit TLS, as on port 465)."""
    sink = Sink(port=free_port())
    kwargs: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
    if user is not None and password is not None:
        kwargs |= {"authenticator": _authenticator(user, password), "auth_require_tls": False}
    if tls is not None:
        kwargs["ssl_context"] = tls
    controller = Controller(sink, hostname=HOST, port=sink.port, **kwargs)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
