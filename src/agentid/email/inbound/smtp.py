"""The SMTP listener (aiosmtpd): an inbound-only MX for the domains agentid hosts.

The handler's methods follow the SMTP conversation; each refusal is one line with its
enhanced status code. Nothing is acknowledged before the spool has committed it.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from aiosmtpd.smtp import SMTP, Envelope, Session

from agentid.config import BareLineEndings, Settings
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

# A CR not followed by LF, or an LF not preceded by CR: the stuff of SMTP smuggling.
BARE_LINE_ENDING = re.compile(rb"\r(?!\n)|(?<!\r)\n")
NUL = b"\x00"
_ROUTES = "agentid_routes"


def _routes(envelope: Envelope) -> dict[str, list[str]]:
    routes: dict[str, list[str]] | None = getattr(envelope, _ROUTES, None)
    if routes is None:
        routes = {}
        setattr(envelope, _ROUTES, routes)
    return routes


def has_bare_line_ending_or_nul(raw: bytes) -> bool:
    """Fast path (C-level scans): true when the body holds a bare CR, bare LF or NUL."""
    if NUL in raw:
        return True
    if b"\r" not in raw and b"\n" not in raw:
        return False
    return raw.count(b"\n") != raw.count(b"\r\n") or raw.count(b"\r") != raw.count(b"\r\n")


def fix_line_endings(raw: bytes) -> bytes:
    """Bare CR or LF become CRLF; NULs go (the ``normalize`` mode)."""
    return BARE_LINE_ENDING.sub(b"\r\n", raw.replace(NUL, b""))


class InboundHandler:
    def __init__(self, settings: Settings, router: RecipientRouter, spool: Spool) -> None:
        self._settings = settings
        self._router = router
        self._spool = spool

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
        raw = envelope.original_content or b""
        if has_bare_line_ending_or_nul(raw):
            if self._settings.bare_line_endings is BareLineEndings.REJECT:
                return (
                    NUL_REFUSED
                    if NUL in raw and not BARE_LINE_ENDING.search(raw)
                    else (BARE_REFUSED)
                )
            raw = fix_line_endings(raw)
        peer = session.peer
        mail_from = envelope.mail_from or ""
        arrival = Arrival(
            mail_from="" if mail_from == "<>" else mail_from,  # aiosmtpd keeps <> as is
            recipients={p: list(dict.fromkeys(a)) for p, a in _routes(envelope).items()},
            raw=raw,
            peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
            helo=session.host_name,
            received_at=datetime.now(UTC),
        )
        try:
            await self._spool.submit(arrival)
        except SpoolError as exc:  # the writer or the store is down: /healthz says so, once
            log.debug("message not stored", extra={"size": len(raw), "error": str(exc)})
            return NOT_STORED
        except Exception:
            log.exception("message not stored", extra={"size": len(raw)})
            return NOT_STORED
        ids = ",".join(arrival.message_ids.values())
        log.info("message accepted", extra={"ids": ids, "size": len(raw)})
        return QUEUED_AS.format(ids=ids)

    async def handle_exception(self, error: Exception) -> str:
        log.error("SMTP session error", extra={"error": type(error).__name__})
        return INTERNAL_ERROR
