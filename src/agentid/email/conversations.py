"""Reading threads: a conversation both ways, and the project's threads page by page."""

from __future__ import annotations

from agentid.email.repository import ThreadRepository
from agentid.email.schemas import Thread
from agentid.email.schemas import ThreadList
from agentid.email.schemas import ThreadMessage
from agentid.email.schemas import ThreadSummary
from agentid.errors import NotFound
from agentid.store.db import AsyncSession


async def thread(session: AsyncSession, project_id: str, thread_id: str) -> Thread:
    rows = await ThreadRepository(session).messages(project_id, thread_id)
    await session.commit()
    if not rows:
        raise NotFound(f"thread {thread_id[:26]!r} not found")
    return Thread(
        thread_id=thread_id,
        messages=[
            ThreadMessage(id=i, direction=d, at=at, from_=f, to=list(to or []), subject=s)
            for i, d, at, f, to, s in rows
        ],
    )


async def threads(
    session: AsyncSession, project_id: str, before: str | None, limit: int
) -> ThreadList:
    rows, more = await ThreadRepository(session).page(project_id, before, limit)
    await session.commit()
    listed = [ThreadSummary(thread_id=t, messages=n, last_at=at) for t, n, at in rows]
    return ThreadList(threads=listed, next=listed[-1].thread_id if more and listed else None)
