"""The events table: each event written in the transaction of the change it reports, read
back in commit order.

``seq`` is commit order, so "every event after n" is exact, which is what lets a stream
resume from ``Last-Event-ID``: SQLite runs one writer at a time, and on PostgreSQL
``append`` first takes a transaction-scoped lock that writers of events share, so no
transaction can commit a smaller ``seq`` after a larger one is visible. Call ``append``
last in a transaction, to hold that lock for as short a time as possible.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from agentid.store.tables import EventRow
from agentid.store.tables import table_of
from agentid.times import utcnow

_EVENTS = table_of(EventRow)
_LOG_LOCK = 0x61676E6964  # "agnid": the advisory lock every writer of events takes
_APPEND = insert(_EVENTS).returning(_EVENTS.c.seq, sort_by_parameter_order=True)
_INSERT_SQLITE = (
    "INSERT INTO events (project_id, kind, ref_id, payload, created_at) VALUES (?, ?, ?, ?, ?)"
)
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_LAST_SQLITE = text("SELECT seq FROM sqlite_sequence WHERE name = 'events'")


@dataclass(frozen=True, slots=True)
class Logged:
    seq: int
    project_id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime


def row(project_id: str, kind: str, ref_id: str | None, payload: dict[str, Any]) -> dict[str, Any]:
    """An event to ``append``."""
    return {"project_id": project_id, "kind": kind, "ref_id": ref_id, "payload": payload}


def append(conn: Connection, rows: list[dict[str, Any]]) -> list[int]:
    """Write events (made by ``row``) at the end of the log; their seqs, in order."""
    if not rows:
        return []
    now = utcnow()
    if conn.dialect.name != "sqlite":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOG_LOCK})
        return list(conn.execute(_APPEND, [{**r, "created_at": now} for r in rows]).scalars())
    # SQLite: this transaction is the only writer, and AUTOINCREMENT hands out the next
    # seqs in order, so they end at the counter it keeps. The rows go to the driver as
    # they are stored (JSON text, UTCDateTime's naive UTC text): once per digested batch.
    at = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    values = [(r["project_id"], r["kind"], r["ref_id"], _dumps(r["payload"]), at) for r in rows]
    conn.exec_driver_sql(_INSERT_SQLITE, values)
    last = conn.execute(_LAST_SQLITE).scalar_one()
    return list(range(last - len(rows) + 1, last + 1))


async def append_async(session: AsyncSession, rows: list[dict[str, Any]]) -> list[int]:
    """``append`` inside an async session's transaction."""
    return await session.run_sync(lambda s: append(s.connection(), rows))


async def after(session: AsyncSession, project_id: str, seq: int, limit: int) -> list[Logged]:
    """The project's events after ``seq``, oldest first."""
    found = await session.execute(
        select(_EVENTS.c.seq, _EVENTS.c.project_id, _EVENTS.c.kind, _EVENTS.c.payload,
               _EVENTS.c.created_at)
        .where(_EVENTS.c.project_id == project_id, _EVENTS.c.seq > seq)
        .order_by(_EVENTS.c.seq)
        .limit(limit)
    )  # fmt: skip
    return [Logged(*r) for r in found]


async def last_seq(session: AsyncSession, project_id: str) -> int:
    """The newest event's seq in the project (0 when none)."""
    found = await session.scalar(
        select(func.max(_EVENTS.c.seq)).where(_EVENTS.c.project_id == project_id)
    )
    return int(found or 0)


async def after_all(session: AsyncSession, seq: int, limit: int) -> list[Logged]:
    """Every project's events after ``seq``, oldest first (the operator's stream)."""
    found = await session.execute(
        select(_EVENTS.c.seq, _EVENTS.c.project_id, _EVENTS.c.kind, _EVENTS.c.payload,
               _EVENTS.c.created_at)
        .where(_EVENTS.c.seq > seq)
        .order_by(_EVENTS.c.seq)
        .limit(limit)
    )  # fmt: skip
    return [Logged(*r) for r in found]


async def last_seq_all(session: AsyncSession) -> int:
    """The newest event's seq in any project (0 when none)."""
    return int(await session.scalar(select(func.max(_EVENTS.c.seq))) or 0)


async def forget(session: AsyncSession, ref_ids: list[str]) -> None:
    """Remove the events about these (deleted) things."""
    await session.execute(delete(_EVENTS).where(_EVENTS.c.ref_id.in_(ref_ids)))


async def expire(session: AsyncSession, project_id: str, before: datetime) -> int:
    """Remove the project's events written before ``before``; how many."""
    result = await session.execute(
        delete(_EVENTS).where(_EVENTS.c.project_id == project_id, _EVENTS.c.created_at < before)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def of_kind(
    session: AsyncSession, project_id: str, kind: str, since: datetime, limit: int
) -> list[Logged]:
    """The project's events of ``kind`` written at or after ``since``, oldest first."""
    found = await session.execute(
        select(_EVENTS.c.seq, _EVENTS.c.project_id, _EVENTS.c.kind, _EVENTS.c.payload,
               _EVENTS.c.created_at)
        .where(_EVENTS.c.project_id == project_id, _EVENTS.c.kind == kind,
               _EVENTS.c.created_at >= since)
        .order_by(_EVENTS.c.seq)
        .limit(limit)
    )  # fmt: skip
    return [Logged(*r) for r in found]
