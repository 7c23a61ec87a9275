"""The parse worker: committed raw messages -> parsed fields, codes, links, events.

Runs just after the spool commits; a message shows in the inbox and wakes its waiters once
this worker has stored what it parsed. On start it picks up anything committed but not yet
parsed (a crash between the two loses nothing).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from agentid.email.inbound.parse import Parsed, parse_message
from agentid.email.inbound.spool import Arrival
from agentid.events import Event
from agentid.ids import new_id
from agentid.runtime import Runtime
from agentid.store.db import insert_ignoring_duplicates
from agentid.store.tables import CodeRow, Message, MessageRaw, MessageRecipient

log = logging.getLogger("agentid.parse")

BATCH_MAX = 128


@dataclass(slots=True)
class Job:
    message_id: str
    project_id: str
    raw: bytes
    mail_from: str
    rcpt_to: list[str]
    received_at: datetime


class ParseWorker:
    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime
        self._queue: asyncio.Queue[Job | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.parsed = 0

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="agentid-parse")

    async def stop(self) -> None:
        """Finish what is queued (it is durable anyway), then end."""
        if self._task is None:
            return
        await self._queue.put(None)
        await self._task
        self._task = None

    def committed(self, arrivals: Sequence[Arrival]) -> None:
        for a in arrivals:
            for project_id, rcpts in a.recipients.items():
                self._queue.put_nowait(
                    Job(
                        a.message_ids[project_id],
                        project_id,
                        a.raw,
                        a.mail_from,
                        rcpts,
                        a.received_at,
                    )
                )

    async def recover(self) -> int:
        """Queue every message committed but never parsed (after a crash)."""
        async with self._rt.sessions() as session:
            rows = (
                await session.execute(
                    select(Message, MessageRaw.data)
                    .join(MessageRaw, MessageRaw.message_id == Message.id)
                    .where(Message.status == "received")
                    .order_by(Message.id)
                )
            ).all()
        for m, data in rows:
            self._queue.put_nowait(
                Job(m.id, m.project_id, data, m.mail_from, list(m.rcpt_to), m.received_at)
            )
        if rows:
            log.info("recovering unparsed messages", extra={"count": len(rows)})
        return len(rows)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            if first is None:
                return
            batch = [first]
            end = False
            while len(batch) < BATCH_MAX:
                try:
                    job = self._queue.get_nowait()
                except asyncio.QueueEmpty:
                    break
                if job is None:
                    end = True
                    break
                batch.append(job)
            try:
                await self._process(batch)
            except Exception:
                log.exception("storing parsed messages failed", extra={"count": len(batch)})
            if end:
                return

    async def _process(self, batch: list[Job]) -> None:
        parsed = await asyncio.to_thread(_parse_all, [job.raw for job in batch])
        updates: list[dict[str, Any]] = []
        recipients: list[dict[str, str]] = []
        codes: list[dict[str, Any]] = []
        for job, p in zip(batch, parsed, strict=True):
            updates.append(_row(job, p))
            for address in dict.fromkeys(p.to + p.cc):
                recipients.append({"message_id": job.message_id, "address": address[:320]})
            codes.extend(_code_rows(job, p))
        async with self._rt.sessions.begin() as session:
            await session.execute(update(Message), updates)
            if recipients:
                stmt = insert_ignoring_duplicates(self._rt.dialect, MessageRecipient)
                await session.execute(stmt, recipients)
            if codes:
                await session.execute(insert(CodeRow), codes)
        self.parsed += len(batch)
        for job, p in zip(batch, parsed, strict=True):
            self._publish(job, p)

    def _publish(self, job: Job, p: Parsed) -> None:
        entry = entry_from_parsed(job, p)
        self._rt.bus.publish(Event(job.project_id, "message.received", entry))
        for code in p.codes[:1] or p.links[:1]:
            self._rt.bus.publish(
                Event(job.project_id, "code.found", {"message_id": job.message_id, **code})
            )


def _parse_all(raws: list[bytes]) -> list[Parsed]:
    return [parse_message(raw) for raw in raws]


def _row(job: Job, p: Parsed) -> dict[str, Any]:
    return {
        "id": job.message_id,
        "status": "parse_error" if p.error else "parsed",
        "parse_error": p.error,
        "from_header": p.from_header,
        "from_address": p.from_address,
        "subject": p.subject,
        "message_id_header": p.message_id,
        "date_header": p.date,
        "headers": p.headers,
        "text": p.text,
        "html": p.html,
        "attachments": p.attachments,
        "has_attachments": bool(p.attachments),
        "auth_results": p.auth_results,
        "codes": p.codes,
        "links": p.links,
    }


def _code_rows(job: Job, p: Parsed) -> list[dict[str, Any]]:
    sender = p.from_address or job.mail_from or None
    rows: list[dict[str, Any]] = []
    found = [("code", c["value"], c["confidence"]) for c in p.codes]
    found += [("link", link["url"], link["confidence"]) for link in p.links]
    for kind, value, confidence in found:
        rows.append(
            {
                "id": new_id(),
                "project_id": job.project_id,
                "message_id": job.message_id,
                "channel": "email",
                "kind": kind,
                "value": value,
                "confidence": float(confidence),
                "sender": sender,
                "recipients": job.rcpt_to,
                "received_at": job.received_at,
                "used": False,
            }
        )
    return rows


def entry_from_parsed(job: Job, p: Parsed) -> dict[str, Any]:
    """What waiters match on; shaped like an inbox entry plus the header recipients."""
    return {
        "id": job.message_id,
        "received_at": job.received_at.isoformat(),
        "from": p.from_header or job.mail_from,
        "from_address": p.from_address or job.mail_from.lower(),
        "to": job.rcpt_to,
        "header_to": p.to + p.cc,
        "subject": p.subject,
        "size": len(job.raw),
        "has_attachments": bool(p.attachments),
        "unread": True,
        "codes": p.codes,
        "links": p.links,
    }
