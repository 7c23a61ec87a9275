"""Queueing a message, and reading the outbox.

``queue`` checks everything before it writes (sender, recipients, policy, suppressions,
the received-code guard, rate and warm-up), then stores the finished, signed message and
its recipients in one transaction; the sender (``agentid.email.outbound.sender``) delivers
it from there. An idempotency key names one message for 24 hours: the same key again
returns that message, the same key with another request is 409.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable
from collections.abc import Callable
from datetime import datetime
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from agentid.auth import Principal
from agentid.email import threads
from agentid.email.outbound import rules
from agentid.email.outbound.compose import Composed
from agentid.email.outbound.compose import Original
from agentid.email.outbound.compose import compose
from agentid.email.outbound.guard import Outgoing
from agentid.email.outbound.guard import ReceivedSecret
from agentid.email.outbound.guard import find_leaks
from agentid.email.outbound.guard import refusal
from agentid.email.outbound.repository import OPEN
from agentid.email.outbound.repository import OutboxRepository
from agentid.email.outbound.schemas import OutboundOut
from agentid.email.outbound.schemas import RecipientOut
from agentid.email.outbound.schemas import SendAccepted
from agentid.email.outbound.schemas import SendRequest
from agentid.errors import Conflict
from agentid.errors import ContainsReceivedCode
from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.events import Kind
from agentid.ids import is_valid
from agentid.ids import new_id
from agentid.projects.repository import ProjectRepository
from agentid.providers.schemas import AccountSource
from agentid.runtime import Runtime
from agentid.store import event_log
from agentid.store.db import AsyncSession
from agentid.store.tables import Outbound
from agentid.store.tables import OutboundRecipient
from agentid.store.tables import Project
from agentid.times import utcnow

IDEMPOTENCY_WINDOW = timedelta(hours=24)
Signer = Callable[[Project, Composed], Awaitable[bytes]]
Router = Callable[[str], Awaitable[bool]]  # is this address hosted here?


def request_hash(request: SendRequest) -> str:
    body = request.model_dump_json(exclude={"idempotency_key"}, by_alias=True)
    return hashlib.sha256(body.encode()).hexdigest()


async def _original(
    repo: OutboxRepository, project_id: str, mid: str | None
) -> tuple[Original | None, str | None]:
    """The stored message a reply answers, and its thread."""
    if mid is None:
        return None, None
    # One that cannot be an id is not looked up (PostgreSQL refuses a NUL in a query).
    found = await repo.message_for_reply(project_id, mid) if is_valid(mid) else None
    if found is None:
        raise NotFound(f"in_reply_to: no stored message {mid[:26]!r} in this project")
    references = next(
        (value for name, value in (found.headers or []) if name.lower() == "references"), None
    )
    # Its headers as the sender wrote them, decoded: only the ids are taken from them, and
    # the subject on one line, so no reply to a hostile message carries a header of its own.
    own = threads.ids_in(found.message_id_header)
    subject = " ".join((found.subject or "").split())
    original = Original(
        own[0] if own else None,
        " ".join(threads.ids_in(references)[-threads.MAX_PARENTS :]) or None,
        subject,
    )
    return original, found.thread_id or found.id


async def _guard(
    rt: Runtime, repo: OutboxRepository, project_id: str, request: SendRequest, who: Principal,
    subject: str,
) -> None:  # fmt: skip
    """``subject`` is the one that goes out (a reply's ``Re:`` + the original's)."""
    hours = rt.settings.received_code_window_hours
    if request.allow_received_codes:
        if not who.is_admin:
            raise Forbidden("allow_received_codes takes the admin token")
        return
    if hours <= 0:
        return
    since = utcnow() - timedelta(hours=hours)
    received = [ReceivedSecret(**s) for s in await repo.received_secrets(project_id, since)]
    if not received:
        return
    outgoing = Outgoing(
        subject=subject,
        text=request.text,
        html=request.html,
        attachment_names=[a.filename for a in request.attachments],
    )
    # CPU work over the whole body (tenths of a second for megabytes): off the loop, which
    # serves SMTP, the API and event streams meanwhile. It reads plain values only.
    if leaks := await asyncio.to_thread(find_leaks, outgoing, received):
        raise ContainsReceivedCode(
            f"{refusal(leaks)}. Received codes and links never leave (the operator may "
            "allow it with the admin token)"
        )


async def _keyed(
    repo: OutboxRepository, project_id: str, key: str | None, digest: str, now: datetime
) -> tuple[SendAccepted | None, Outbound | None]:
    """What an idempotency key says: the answer of the request first sent with it, within
    its window; or the message of a use past its window, whose key is free again."""
    if key is None:
        return None, None
    earlier = await repo.by_key(project_id, key)
    if earlier is None or earlier.created_at <= now - IDEMPOTENCY_WINDOW:
        return None, earlier
    if earlier.request_hash != digest:
        raise Conflict("this idempotency key was used for another request")
    return SendAccepted(id=earlier.id, status=earlier.status), None


async def queue(
    rt: Runtime,
    session: AsyncSession,
    project: Project,
    request: SendRequest,
    who: Principal,
    *,
    hosted: Router,
    sign: Signer,
    relay: AccountSource | None = None,
) -> SendAccepted:
    """``relay``: whose relay was chosen for the message (stored with it; ``sign`` made
    its DKIM decision for that relay)."""
    repo = OutboxRepository(session)
    digest = request_hash(request)
    now = utcnow()
    answered, stale = await _keyed(repo, project.id, request.idempotency_key, digest, now)
    if answered is not None:
        return answered
    mail_from = rules.sender(rt.settings, project, request.from_)
    original, thread_id = await _original(repo, project.id, request.in_reply_to)
    # Like the guard, CPU work over the whole body (validating, encoding, MIME): in a
    # thread, reading the request and plain values only (no session, nothing of the loop).
    message = await asyncio.to_thread(
        compose,
        request,
        mail_from,
        now=now,
        original=original,
        max_attachment_bytes=rt.settings.max_send_attachment_bytes,
    )
    found = await repo.policy(project.id)
    rules.policy(message.recipients, found.allow if found else [], found.block if found else [])
    await _guard(rt, repo, project.id, request, who, message.subject)
    raw = await sign(project, message)
    suppressed = await repo.suppressed(project.id, message.recipients)
    routes = {a: "local" if await hosted(a) else "relay" for a in message.recipients}
    # Counted, then queued: one send of the project at a time from here to the commit,
    # which asks nothing but this session's statements meanwhile.
    await ProjectRepository(session).hold(project.id)
    now = utcnow()  # a send that waited for the hold counts from now
    if request.idempotency_key is not None:  # sent again while this one was composed?
        answered, stale = await _keyed(repo, project.id, request.idempotency_key, digest, now)
        if answered is not None:
            await session.commit()  # the hold ends here
            return answered
    newest = await repo.nth_newest(project.id, rt.settings.send_rate_per_minute)
    rules.rate(rt.settings, newest, now)
    relayed = sum(1 for a, r in routes.items() if r == "relay" and a not in suppressed)
    if relayed:
        rules.warmup(
            rt.settings,
            await repo.first_relayed_at(project.id),
            await repo.relayed_since(project.id, rules.day_start(now)),
            relayed,
            now,
        )
    if stale is not None:  # the key's first use is past its window: the key is free again
        await repo.forget_key(stale.id)
    outbound_id = new_id()
    settled = all(a in suppressed for a in message.recipients)
    repo.add(
        Outbound(
            id=outbound_id,
            project_id=project.id,
            created_at=now,
            status="failed" if settled else "queued",
            mail_from=mail_from,
            to=message.to,
            cc=message.cc,
            subject=message.subject,
            message_id_header=message.message_id,
            in_reply_to=request.in_reply_to,
            thread_id=thread_id or outbound_id,
            mid_key=threads.key(message.message_id) or "",
            size=len(raw),
            raw=raw,
            idempotency_key=request.idempotency_key,
            request_hash=digest,
            relay=None if relay is None else relay.value,
        ),
        *(
            OutboundRecipient(
                outbound_id=outbound_id,
                address=a,
                project_id=project.id,
                route=routes[a],
                status="suppressed" if a in suppressed else "queued",
                attempts=0,
                error=f"suppressed: {suppressed[a]}" if a in suppressed else None,
                updated_at=now,
            )
            for a in message.recipients
        ),
    )
    try:
        await session.commit()
    except IntegrityError:  # the same key, sent at the same moment: the first one stands
        await session.rollback()
        first = await repo.by_key(project.id, request.idempotency_key or "")
        if first is None or first.request_hash != digest:
            raise Conflict("this idempotency key was used for another request") from None
        return SendAccepted(id=first.id, status=first.status)
    return SendAccepted(id=outbound_id, status="failed" if settled else "queued")


def overall(statuses: list[str]) -> str:
    """A message's status from its recipients'."""
    if any(s in OPEN for s in statuses):
        return "sending" if any(s != "queued" for s in statuses) else "queued"
    sent = sum(s == "sent" for s in statuses)
    return "sent" if sent == len(statuses) else "partial" if sent else "failed"


async def settle(
    repo: OutboxRepository, ids: list[str]
) -> list[tuple[Outbound, list[OutboundRecipient], str]]:
    """Each message's status derived again from its recipients' (on the session's
    transaction): the messages, each with its recipients and the status it had. The
    messages are locked first, then their recipients read: two transactions settling one
    message at once (a bounce, a round of the outbox) take turns, and the second reads
    what the first wrote."""
    messages = await repo.locked_messages(ids)
    by_message: dict[str, list[OutboundRecipient]] = {}
    for r in await repo.recipients(ids):
        by_message.setdefault(r.outbound_id, []).append(r)
    settled = []
    for row in messages:
        recipients, before = by_message.get(row.id, []), row.status
        row.status = overall([r.status for r in recipients])
        settled.append((row, recipients, before))
    return settled


def outbound_event(
    row: Outbound, recipients: list[OutboundRecipient], kind: Kind
) -> dict[str, Any]:
    """The events-table row saying ``kind`` of a message (payload: as the outbox shows it)."""
    payload = outbound_out(row, recipients).model_dump(mode="json", by_alias=True)
    return event_log.row(row.project_id, kind.value, row.id, payload)


# what a sent message shows under the name it is stored by
_AS_STORED = (
    "id", "created_at", "to", "cc", "subject", "message_id_header", "in_reply_to",
    "thread_id", "size",
)  # fmt: skip


def outbound_out(row: Outbound, recipients: list[OutboundRecipient]) -> OutboundOut:
    shown = [RecipientOut.model_validate(r, from_attributes=True) for r in recipients]
    waits = [r.next_attempt_at for r in recipients if r.next_attempt_at and r.status == "deferred"]
    return OutboundOut.model_validate(
        {name: getattr(row, name) for name in _AS_STORED}
        | {
            "status": overall([r.status for r in recipients]),
            "from": row.mail_from,
            "attempts": max((r.attempts for r in recipients), default=0),
            "next_attempt_at": min(waits, default=None),
            "provider_message_id": next(
                (r.provider_message_id for r in recipients if r.provider_message_id), None
            ),
            "error": next((r.error for r in recipients if r.error), None),
            "recipients": shown,
        }
    )


async def outbox(
    session: AsyncSession, project_id: str, before: str | None, limit: int
) -> tuple[list[OutboundOut], str | None]:
    repo = OutboxRepository(session)
    page = await repo.page(project_id, before, limit)
    recipients = await repo.recipients([m.id for m in page.items])
    by_message: dict[str, list[OutboundRecipient]] = {}
    for r in recipients:
        by_message.setdefault(r.outbound_id, []).append(r)
    out = [outbound_out(m, by_message.get(m.id, [])) for m in page.items]
    return out, page.next(lambda m: m.id)


async def sent_message(session: AsyncSession, project_id: str, mid: str) -> OutboundOut | None:
    repo = OutboxRepository(session)
    row = await repo.get(project_id, mid)
    if row is None:
        return None
    return outbound_out(row, await repo.recipients([row.id]))


async def retry(session: AsyncSession, project_id: str, mid: str) -> OutboundOut:
    """Queue a sent message's failed recipients again (the same bytes, a fresh round of
    attempts); a suppressed address stays failed until its suppression is lifted. 409 when
    no recipient can be retried."""
    repo = OutboxRepository(session)
    row = await repo.get(project_id, mid)
    if row is None:
        raise NotFound(f"sent message {mid!r} not found")
    if not await repo.retry_failed(project_id, row.id, utcnow()):
        await session.rollback()
        raise Conflict(
            f"message {mid!r} has no failed recipient to retry (a suppressed address is"
            " retried once its suppression is lifted)"
        )
    [(settled, recipients, _)] = await settle(repo, [row.id])
    await session.commit()
    return outbound_out(settled, recipients)
