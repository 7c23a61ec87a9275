"""Which process digests a committed message, and claiming those whose process is gone.

The spool writes every message with the node id of the process that commits it
(``messages.digest_owner``, ``store/leader``), and only that process's parse workers
digest it: they read and store a message only while their process owns it (``digest``),
so a message is digested once, by one process, however many have it queued.

A process that stops or dies leaves what it committed and had not digested yet. Every
process claims such messages when it starts, and on PostgreSQL one process of the
cluster looks again every ``CLAIM_SECONDS`` (the job ``digest-claims``): messages whose
owner holds no node lock any more, and messages with no owner (stored before owners were
kept). A claim is one conditional UPDATE (to this process, where the owner is still the
gone one and the message still undigested), so two processes claiming at once split the
messages between them, and an owner that was only cut off from the store for a moment
(and so looked gone) finds them no longer its own and leaves them to the claimer.

A message is never taken from a live owner, however long it waits: a busy process keeps
its own backlog rather than see another process take it over piecemeal.

The owner also checks what it digested (its verdict stage). A message it digested and
left without a verdict when it went (killed mid-check) is claimed the same way, by the
same job, and checked by the claimer (``claim_unchecked``); a message of no owner is left
to the check at a process's start, which takes every one.
"""

from __future__ import annotations

import logging

from sqlalchemy import ColumnExpressionArgument
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from agentid.email.inbound.schedule import Item
from agentid.email.inbound.verdict_records import UNCHECKED_COLUMNS
from agentid.email.inbound.verdict_records import Unchecked
from agentid.email.inbound.verdict_records import unchecked
from agentid.runtime import Runtime
from agentid.store.tables import Message

log = logging.getLogger("agentid.parse")

JOB = "digest-claims"  # its name for store/leader
CLAIM_SECONDS = 2.0  # how often the process running the job looks for gone owners


async def _owners(rt: Runtime, *where: ColumnExpressionArgument[bool]) -> tuple[set[str], bool]:
    """The owners of the messages ``where`` selects that are gone, and whether some of
    those messages have no owner. Raises when the store cannot tell who is alive."""
    async with rt.sessions.begin() as session:
        owners = set(
            (await session.execute(select(Message.digest_owner).where(*where).distinct()))
            .scalars()
            .all()
        )
    named = {owner for owner in owners if owner is not None and owner != rt.leader.node}
    gone = named - await rt.leader.alive(named) if named else set()
    return gone, None in owners


async def claim_orphans(rt: Runtime) -> list[Item]:
    """Take every undigested message whose owner is gone (or unknown) for this process;
    what it took, oldest first. Raises when the store cannot tell who is alive."""
    me = rt.leader.node
    gone, unowned = await _owners(rt, Message.status == "received")
    if not gone and not unowned:
        return []
    async with rt.sessions.begin() as session:
        taken = (
            await session.execute(
                update(Message)
                .where(
                    Message.status == "received",
                    or_(Message.digest_owner.is_(None), Message.digest_owner.in_(gone)),
                )
                .values(digest_owner=me)
                .returning(Message.id, Message.project_id, Message.size, Message.rcpt_to)
                .execution_options(synchronize_session=False)
            )
        ).all()
    if taken:
        log.info(
            "claimed undigested messages",
            extra={"count": len(taken), "owners": len(gone) + unowned},
        )
    return [
        Item(message_id, project_id, size, (rcpt_to or [""])[0])
        for message_id, project_id, size, rcpt_to in sorted(taken)
    ]


async def claim_unchecked(rt: Runtime) -> list[Unchecked]:
    """Take the messages a gone process digested and left without a verdict (of the last
    day, as a start's check) for this process to check. Raises when the store cannot tell
    who is alive. An owner that only looked gone may still write its verdict: the first
    one written stands (``verdict_records.store``)."""
    gone, _ = await _owners(rt, *unchecked())
    if not gone:
        return []
    async with rt.sessions.begin() as session:
        taken = (
            await session.execute(
                update(Message)
                .where(*unchecked(), Message.digest_owner.in_(gone))
                .values(digest_owner=rt.leader.node)
                .returning(*UNCHECKED_COLUMNS)
                .execution_options(synchronize_session=False)
            )
        ).all()
    if taken:
        log.info("claimed messages left without a verdict", extra={"count": len(taken)})
    return [(p, m, rcpt, codes, links) for p, m, rcpt, codes, links in taken]
