"""The SMTP protocol side: aiosmtpd's SMTP with a fast, exact DATA reader and a shutdown
that lets messages in DATA finish while every other session gets 421."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Any

from aiosmtpd.smtp import MISSING, SMTP

from agentid.config import Settings
from agentid.email.inbound.data import read_data

SHUTTING_DOWN = "421 4.3.2 Service shutting down, try again later"
TOO_BIG = "552 5.3.4 Message size exceeds fixed maximum message size"


class Listener(SMTP):
    def __init__(self, handler: Any, sessions: set[Listener], **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._sessions = sessions
        self.closing = False
        self.idle = asyncio.Event()  # set while not inside DATA
        self.idle.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self._sessions.discard(self)
        super().connection_lost(error)

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 5.5.1 Error: need RCPT command")
            return
        if arg:
            await self.push("501 5.5.4 Syntax: DATA")
            return
        self.idle.clear()
        try:
            await self._data()
        finally:
            self.idle.set()
        if self.closing:
            await self.say_goodbye()

    async def _data(self) -> None:
        assert self.envelope is not None
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        try:
            content = await read_data(self._reader, self.data_size_limit)
        except asyncio.IncompleteReadError:  # the peer left mid-message: nothing to keep
            if self.transport is not None:
                self.transport.close()
            return
        if content is None:
            await self.push(TOO_BIG)
        else:
            self.envelope.content = content
            self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
            await self.push("250 OK" if status is MISSING else status)
        self.envelope = self._create_envelope()

    async def say_goodbye(self) -> None:
        """Send 421 and close (the peer will retry what it did not get a 250 for)."""
        if self.transport is None or self.transport.is_closing():
            return
        with contextlib.suppress(OSError, TimeoutError, AssertionError):
            await asyncio.wait_for(self.push(SHUTTING_DOWN), 2)
        if self.transport is not None:  # the peer may have left while we wrote
            self.transport.close()


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(settings.tls_cert, settings.tls_key)
    return context
