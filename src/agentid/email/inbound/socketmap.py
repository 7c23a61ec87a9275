"""Recipient checks for an edge MTA, in its own lookup protocol: Postfix's socketmap.

Postfix asks before it accepts a RCPT (``relay_recipient_maps``, ``relay_domains``), so
mail for an unknown, disabled or expired address is refused at RCPT time by Postfix
itself and never bounced later (no backscatter). The answers are the SMTP listener's
own (``RecipientRouter``: the same cache, dropped on every routing change signalled by
any process), so both doors refuse the same addresses.

The protocol (Postfix's socketmap_table(5)): each request is a netstring
``<length>:<name> <key>,`` and each reply a netstring ``OK <value>``, ``NOTFOUND ``,
``TEMP <reason>`` or ``PERM <reason>``; a connection carries any number of them. The
names agentid answers:

- ``recipient``: a full address is ``OK`` when agentid would accept it now. Any other key
  (``@domain``, a bare local part: Postfix's fallback lookups) is ``NOTFOUND``, so a
  disabled alias on a catch-all domain is not let in by the domain's entry;
- ``domain``: a domain agentid receives mail for (a project's, or the shared domain).

A store that does not answer is ``TEMP`` (Postfix answers 451: the sender retries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from agentid.email.inbound.routing import Accept
from agentid.email.inbound.routing import RecipientRouter

log = logging.getLogger("agentid.socketmap")

MAX_REQUEST = 4096  # bytes; an address is at most 320
IDLE_SECONDS = 300.0  # a connection with no request for this long is closed

FOUND, NOT_FOUND = "OK agentid", "NOTFOUND "


class BadRequest(Exception):
    pass


def netstring(text: str) -> bytes:
    data = text.encode()
    return str(len(data)).encode() + b":" + data + b","


async def read_netstring(reader: asyncio.StreamReader) -> str | None:
    """One request; None when the client closed the connection between two."""
    try:
        head = await reader.readuntil(b":")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise BadRequest("truncated length") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest("length too long") from None
    digits = head[:-1]
    if not digits.isdigit() or len(digits) > 5 or int(digits) > MAX_REQUEST:
        raise BadRequest("bad length")
    data = await reader.readexactly(int(digits) + 1)
    if data[-1:] != b",":
        raise BadRequest("missing comma")
    return data[:-1].decode("utf-8", "replace")


class SocketmapServer:
    """Answers Postfix's lookups from the recipient router."""

    def __init__(self, router: RecipientRouter) -> None:
        self._router = router

    async def answer(self, request: str) -> str:
        name, _, key = request.partition(" ")
        key = key.strip()
        try:
            if name == "recipient":
                local, at, domain = key.rpartition("@")
                if not (local and at and domain):
                    return NOT_FOUND
                return FOUND if isinstance(await self._router.route(key), Accept) else NOT_FOUND
            if name == "domain":
                return FOUND if key and await self._router.hosts(key) else NOT_FOUND
        except Exception as exc:  # the store: Postfix answers 4xx and the sender retries
            log.warning("socketmap lookup failed", extra={"error": type(exc).__name__})
            return "TEMP agentid cannot look this up now"
        return f"PERM unknown table {name[:40]!r}"

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                async with asyncio.timeout(IDLE_SECONDS):
                    request = await read_netstring(reader)
                if request is None:
                    return
                writer.write(netstring(await self.answer(request)))
                await writer.drain()
        except (BadRequest, TimeoutError, ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
