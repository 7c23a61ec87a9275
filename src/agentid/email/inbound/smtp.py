"""The SMTP listener (aiosmtpd): an inbound-only MX for the domains agentid hosts.

The handler's methods follow the SMTP conversation; each refusal is one line with its
enhanced status code. Nothing is acknowledged before the spool has committed it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiosmtpd.smtp import SMTP, Envelope, Session

from agentid.config import BareLineEndings, Settings
from agentid.email.inbound.incoming import Content, Incoming, attached
from agentid.email.inbound.replies import (
    BARE_REFUSED,
    INTERNAL_ERROR,
    NOT_STORED,
    NUL_REFUSED,
    QUEUED_AS,
    RECIPIENT_OK,
    TOO_MANY_RECIPIENTS,
)
from agentid.email.inbound.routing import Accept, RecipientRouter
from agentid.email.inbound.spool import Arrival, Spool, SpoolError

log = logging.getLogger("agentid.smtp")

_ROUTES = "agentid_routes"


def _routes(envelope: Envelope) -> dict[str, list[str]]:
    routes: dict[str, list[str]] | None = getattr(envelope, _ROUTES, None)
    if routes is None:
        routes = {}
        setattr(envelope, _ROUTES, routes)
    return routes


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
        _routes(envelope).setdefault(route.project_id, []).append(route.address)
        return RECIPIENT_OK

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = attached(envelope)
        if content is None:  # from a session other than ours: the bytes, in memory
            content = await self.incoming.of_bytes(envelope.original_content or b"")
        with content:
            return await self._store(session, envelope, content)

    async def _store(self, session: Session, envelope: Envelope, content: Content) -> str:
        # In normalize mode the line endings were fixed on the way in: nothing is found.
        if content.bare_line_ending:
            return BARE_REFUSED
        if content.nul:
            return NUL_REFUSED
        peer = session.peer
        mail_from = envelope.mail_from or ""
        arrival = Arrival(
            mail_from="" if mail_from == "<>" else mail_from,  # aiosmtpd keeps <> as is
            recipients={p: list(dict.fromkeys(a)) for p, a in _routes(envelope).items()},
            raw=content.raw,
            peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
            helo=session.host_name,
            received_at=datetime.now(UTC),
        )
        try:
            await self._spool.submit(arrival)
        except SpoolError as exc:  # the writer or the store is down: /healthz says so, once
            log.debug("message not stored", extra={"size": content.size, "error": str(exc)})
            return NOT_STORED
        except Exception:
            log.exception("message not stored", extra={"size": content.size})
            return NOT_STORED
        ids = ",".join(arrival.message_ids.values())
        log.info("message accepted", extra={"ids": ids, "size": content.size})
        return QUEUED_AS.format(ids=ids)

    async def handle_exception(self, error: Exception) -> str:
        log.error("SMTP session error", extra={"error": type(error).__name__})
        return INTERNAL_ERROR
