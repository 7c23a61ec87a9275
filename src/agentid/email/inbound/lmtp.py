"""The LMTP listener: how an edge MTA (Postfix, docker-mailserver) hands accepted mail over.

The same session as SMTP (``listener.Listener``: limits, timeouts, DATA reader, shutdown)
and the same handler (routing, size, line endings, the spool's durable group commit),
with what LMTP (RFC 2033) changes:

- the greeting is ``LHLO``; HELO and EHLO are refused;
- after DATA there is **one reply per accepted recipient, in RCPT order**: each project's
  copy is committed on its own, so a recipient whose copy cannot be stored gets its 451
  while the others get their 250. A refusal of the message itself (too big, bare line
  endings, NUL) is repeated for every recipient;
- a delivery the MTA makes again, because agentid committed it but died before replying,
  is acknowledged without a second copy: each recipient is recorded under the MTA's host
  and queue id, read from the top ``Received`` header (the one the MTA wrote when it
  queued the message; on LMTP only the MTA talks to us, so it is trusted).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import Session
from aiosmtpd.smtp import syntax

from agentid.email.inbound.incoming import Content
from agentid.email.inbound.listener import Listener
from agentid.email.inbound.replies import NO_HELO_IN_LMTP
from agentid.email.inbound.smtp import InboundHandler
from agentid.email.inbound.smtp import accepted
from agentid.email.inbound.smtp import arrival_of
from agentid.email.inbound.smtp import by_project
from agentid.email.inbound.smtp import refused

HEAD_BYTES = 16 * 1024  # where the top Received header is looked for
_FOLD = re.compile(rb"\r?\n[ \t]+")
_BY_ID = re.compile(
    rb"\bby\s+([A-Za-z0-9.\-\[\]:]+).*?\bwith\s+\S+\s+id\s+([A-Za-z0-9]+)", re.I | re.S
)


def relay_key(head: bytes) -> str | None:
    """``host/queue id`` from the message's first header when it is a ``Received`` naming
    both (``by mx.example (Postfix) with ESMTP id 4Xb2...``); None otherwise."""
    end = head.find(b"\r\n\r\n")
    header = head if end < 0 else head[:end]
    first = _FOLD.sub(b" ", header).split(b"\r\n", 1)[0].split(b"\n", 1)[0]
    name, _, value = first.partition(b":")
    if name.strip().lower() != b"received":
        return None
    found = _BY_ID.search(value.split(b";", 1)[0])
    if found is None:
        return None
    return f"{found.group(1).decode().lower()}/{found.group(2).decode()}"[:160]


class LmtpSession(Listener):
    """One LMTP session: the SMTP session's limits, LMTP's greeting and replies."""

    @syntax("LHLO hostname")
    async def smtp_LHLO(self, arg: str) -> None:
        if self._junk_allowed():
            await SMTP.smtp_EHLO(self, arg)

    async def smtp_HELO(self, arg: str) -> None:
        await self.push(NO_HELO_IN_LMTP.format(verb="HELO"))

    async def smtp_EHLO(self, arg: str) -> None:
        await self.push(NO_HELO_IN_LMTP.format(verb="EHLO"))

    def data_replies(self, reply: str) -> str:
        """A reply about the whole message is every recipient's (the handler's own
        per-recipient replies come joined already)."""
        if "\r\n" in reply or self.envelope is None:
            return reply
        return "\r\n".join(reply for _ in accepted(self.envelope)) or reply


class LmtpHandler(InboundHandler):
    """Each project's copy stored on its own; one reply per accepted recipient."""

    async def _store(self, session: Session, envelope: Envelope, content: Content) -> str:
        routes = accepted(envelope)
        refusal = refused(content)
        if refusal is not None:
            return "\r\n".join(refusal for _ in routes)
        key = relay_key(await content.head(HEAD_BYTES))
        projects = by_project(routes)
        replies: dict[str, Any] = {}
        for project_id, addresses in projects.items():
            arrival = arrival_of(session, envelope, content, {project_id: addresses})
            arrival.relay_key = key
            replies[project_id] = asyncio.ensure_future(self.submit(arrival, content))
        done = dict(zip(replies, await asyncio.gather(*replies.values()), strict=True))
        return "\r\n".join(done[project_id] for project_id, _ in routes)
