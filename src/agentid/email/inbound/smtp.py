"""The SMTP listener (aiosmtpd): an inbound-only MX for the domains agentid hosts.

The handler's methods follow the SMTP conversation; each refusal is one line with its
enhanced status code. Nothing is acknowledged before the spool has committed it.
"""

from __future__ import annotations

import logging
from datetime import UTC
from datetime import datetime

from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import Session

from agentid.config import BareLineEndings
from agentid.config import Settings
from agentid.email.inbound.incoming import Content
from agentid.email.inbound.incoming import Incoming
from agentid.email.inbound.incoming import attached
from agentid.email.inbound.replies import BARE_REFUSED
from agentid.email.inbound.replies import INTERNAL_ERROR
from agentid.email.inbound.replies import NOT_STORED
from agentid.email.inbound.replies import NUL_REFUSED
from agentid.email.inbound.replies import QUEUED_AS
from agentid.email.inbound.replies import RECIPIENT_OK
from agentid.email.inbound.replies import TOO_MANY_RECIPIENTS
from agentid.email.inbound.routing import Accept
from agentid.email.inbound.routing import RecipientRouter
from agentid.email.inbound.spool import Arrival
from agentid.email.inbound.spool import Spool
from agentid.email.inbound.spool import SpoolError

log = logging.getLogger("agentid.smtp")

_ROUTES = "agentid_routes"


def accepted(envelope: Envelope) -> list[tuple[str, str]]:
    """The recipients accepted so far, in RCPT order: (project id, normalized address)."""
    routes: list[tuple[str, str]] | None = getattr(envelope, _ROUTES, None)
    if routes is None:
        routes = []
        setattr(envelope, _ROUTES, routes)
    return routes


def by_project(routes: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Each project's recipients, each once, in RCPT order."""
    found: dict[str, list[str]] = {}
    for project_id, address in routes:
        found.setdefault(project_id, [])
        if address not in found[project_id]:
            found[project_id].append(address)
    return found


class InboundHandler:
    def __init__(self, settings: Settings, router: RecipientRouter, spool: Spool) -> None:
        self._settings = settings
        self._router = router
        self._spool = spool
        # Where the listener puts DATA: memory, then a file in the data dir.
        self.incoming = Incoming(
            settings.data_dir,
            settings.data_memory_bytes,
            normalize=settings.bare_line_endings is BareLineEndings.NORMALIZE,
        )

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self._settings.max_recipients:
            return TOO_MANY_RECIPIENTS
        route = await self._router.route(address)
        if not isinstance(route, Accept):
            # one line per refusal at DEBUG only: a session's refusals are bounded by the
            # listener's error limit, which logs once when it ends the session
            log.debug("recipient refused", extra={"reply": route.reply[:9]})
            return route.reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        accepted(envelope).append((route.project_id, route.address))
        return RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = attached(envelope)
        if content is None:  # from a session other than ours: the bytes, in memory
            content = await self.incoming.of_bytes(envelope.original_content or b"")
        with content:
            return await self._store(session, envelope, content)

    async def _store(self, session: Session, envelope: Envelope, content: Content) -> str:
        refusal = refused(content)
        if refusal is not None:
            return refusal
        arrival = arrival_of(session, envelope, content, by_project(accepted(envelope)))
        return await self.submit(arrival, content)

    async def submit(self, arrival: Arrival, content: Content) -> str:
        """Hand ``arrival`` to the spool: the reply once it is committed, or why not."""
        try:
            await self._spool.submit(arrival)
        except SpoolError as exc:  # the writer or the store is down: /healthz says so, once
            log.debug("message not stored", extra={"size": content.size, "error": str(exc)})
            return NOT_STORED
        except Exception:
            log.exception("message not stored", extra={"size": content.size})
            return NOT_STORED
        ids = ",".join(arrival.message_ids.values())
        if arrival.stored_before:  # an MTA's delivery made again: the copy stored before
            log.info("delivery already stored", extra={"ids": ids, "relay": arrival.relay_key})
        else:
            log.info("message accepted", extra={"ids": ids, "size": content.size})
        return QUEUED_AS.format(ids=ids)

    async def handle_exception(self, error: Exception) -> str:
        log.error("SMTP session error", extra={"error": type(error).__name__})
        return INTERNAL_ERROR


def refused(content: Content) -> str | None:
    """The refusal of a message whatever its recipients; None when it may be stored."""
    # In normalize mode the line endings were fixed on the way in: nothing is found.
    if content.bare_line_ending:
        return BARE_REFUSED
    if content.nul:
        return NUL_REFUSED
    return None


def arrival_of(
    session: Session, envelope: Envelope, content: Content, recipients: dict[str, list[str]]
) -> Arrival:
    peer = session.peer
    mail_from = envelope.mail_from or ""
    return Arrival(
        mail_from="" if mail_from == "<>" else mail_from,  # aiosmtpd keeps <> as is
        recipients=recipients,
        raw=content.raw,
        peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
        helo=session.host_name,
        received_at=datetime.now(UTC),
    )
