"""Bounces a relay reports after it took a message: suppressed, failed, and told.

Each bounced address joins the suppression list of the project that sent the message; the
recipient the bounce names (by the relay's message id) becomes ``failed`` with the
relay's reason, its message's status is derived again from its recipients', and the
message is a ``message.failed`` event on that project's stream (the payload shows each
recipient, so a message one recipient of which bounced reads ``partial``).

Whose bounce it is. A project's own relay account reports for that project alone. The
operator's shared relay (``AGENTID_RELAY_URL``) reports for every project sending through
it, to whichever project's webhook URL the operator gave it; its bounces are filed under
the project that relayed the message through the shared relay, found by the relay's
message id, never under the project the URL names. A bounce naming no message id, or one
no project (or more than one) sent through it, is logged and ignored: a suppression filed
under the wrong project would stop another project's mail.

A complaint (the reader marked the message as spam) suppresses the address the same
way; the message stays as it was, since it was delivered.

Reports are idempotent: a replayed one changes nothing more.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from agentid.email.outbound.repository import OutboxRepository
from agentid.email.outbound.service import outbound_event
from agentid.email.outbound.service import settle
from agentid.events import Kind
from agentid.events import Signal
from agentid.providers.base import Bounce
from agentid.providers.schemas import AccountSource
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.times import utcnow

log = logging.getLogger("agentid.outbox")


async def _owners(
    repo: OutboxRepository, hooked: str, source: AccountSource, bounces: Sequence[Bounce]
) -> list[tuple[str, Bounce]]:
    """Each bounce with the project it is filed under (those with none left out)."""
    if source is AccountSource.PROJECT:
        return [(hooked, b) for b in bounces]
    ids = [b.provider_message_id for b in bounces if b.provider_message_id]
    senders = await repo.shared_senders(ids)
    filed = []
    for bounce in bounces:
        found = senders.get(bounce.provider_message_id or "", set())
        if len(found) != 1:
            log.warning(
                "bounce ignored: %s", "no project sent it" if not found else "several sent it",
                extra={"provider_message_id": (bounce.provider_message_id or "")[:200],
                       "recipient_domain": bounce.address.rpartition("@")[2][:253]},
            )  # fmt: skip
            continue
        filed.append((next(iter(found)), bounce))
    return filed


async def record(
    rt: Runtime,
    session: AsyncSession,
    hooked: str,
    source: AccountSource,
    bounces: Sequence[Bounce],
) -> int:
    """File ``bounces`` a relay reported to project ``hooked``'s webhook, whose relay is
    ``source``'s (the module docstring says under which project); how many were filed."""
    repo = OutboxRepository(session)
    now = utcnow()
    changed: set[str] = set()
    filed = 0
    for project_id, bounce in await _owners(repo, hooked, source, bounces):
        address = bounce.address.strip().lower()
        if "@" not in address:
            continue
        filed += 1
        await repo.suppress(
            [{"project_id": project_id, "address": address, "reason": bounce.reason,
              "created_at": now}]
        )  # fmt: skip
        if bounce.provider_message_id and not bounce.complaint:  # a complaint was delivered
            changed.update(
                await repo.bounced(
                    project_id, address, bounce.provider_message_id, bounce.reason, now
                )
            )
    events = [
        outbound_event(row, recipients, Kind.MESSAGE_FAILED)
        for row, recipients, _ in await settle(repo, sorted(changed))
    ]
    seqs = await event_log.append_async(session, events) if events else []
    await session.commit()
    for event, seq in zip(events, seqs, strict=True):
        rt.bus.publish(Signal(event["project_id"], Kind.MESSAGE_FAILED, seq))
    return filed
