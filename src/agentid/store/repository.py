"""The base every feature's ``repository.py`` builds on (after polar's ``kit/repository``).

Repositories and ``store/`` are the only modules that build SQLAlchemy statements; routes,
``auth.py`` and services call repository methods. A repository runs its statements on the
session it is given: in the API, the request's one (``agentid.api.session``).

The session's transactions are the caller's to end. A statement begins one by itself;
``await session.commit()`` ends it: every write ends with it, and so does a read that is
followed by a wait (a long-poll), so no connection is held while nothing is asked.

Lists page by key ("limit + 1 → has more"): ``paginate`` asks for one row more than the
page holds, and the page says whether more remain; the caller's cursor is the key of the
page's last row, and the next page is the rows past it in the list's order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from typing import Generic
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from agentid.store.engines import upsert
from agentid.store.tables import Base
from agentid.store.tables import table_of

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    more: bool  # rows remain past the last item

    def next(self, key: Callable[[T], str]) -> str | None:
        """The cursor of the page after this one (``key`` of the last item); None at the end."""
        return key(self.items[-1]) if self.more and self.items else None


@dataclass(frozen=True, slots=True)
class Window:
    """Which part of a list ordered by id (newest first) a read asks for: rows received
    since ``since``, with ids after ``after`` and before ``before`` (each a cursor a page
    answered), at most ``limit`` of them. The inbox and the SMS list read through one."""

    since: datetime | None = None
    after: str | None = None
    before: str | None = None
    limit: int = 50

    def narrow(
        self,
        statement: Select[T],
        received_at: InstrumentedAttribute[datetime],
        id_: InstrumentedAttribute[str],
    ) -> Select[T]:
        """``statement`` kept to this window, by the list's ``received_at`` and id columns."""
        if self.since is not None:
            statement = statement.where(received_at >= self.since)
        if self.after is not None:
            statement = statement.where(id_ > self.after)
        if self.before is not None:
            statement = statement.where(id_ < self.before)
        return statement


class Repository:
    """Statements of one feature, run on the caller's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_one_or_none(self, statement: Select[T]) -> T | None:
        return (await self.session.scalars(statement)).one_or_none()

    async def get_all(self, statement: Select[T]) -> list[T]:
        return list((await self.session.scalars(statement)).all())

    async def paginate(self, statement: Select[T], limit: int) -> Page[T]:
        """The first ``limit`` rows of ``statement`` (already ordered and filtered past the
        cursor), and whether more remain."""
        rows = await self.get_all(statement.limit(limit + 1))
        return Page(rows[:limit], len(rows) > limit)

    async def upsert(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Insert ``rows`` of ``model``; one whose primary key exists gets the other values
        given instead (no read-then-insert, which two requests at once both pass)."""
        if not rows:
            return
        table = table_of(model)
        keys = [column.name for column in table.primary_key.columns]
        # one row a key: a statement may not change a row twice (PostgreSQL refuses it)
        rows = list({tuple(row[k] for k in keys): row for row in rows}.values())
        changed = [name for name in rows[0] if name not in keys]
        dialect = self.session.get_bind().dialect.name
        await self.session.execute(upsert(dialect, table, keys, changed), rows)

    async def count_where(self, model: type[Base], *where: ColumnElement[bool]) -> int:
        """How many rows of ``model`` match ``where``."""
        found = await self.session.scalar(select(func.count()).select_from(model).where(*where))
        return int(found or 0)

    async def count_per_project(
        self,
        project_id: InstrumentedAttribute[str],
        project_ids: list[str],
        *where: ColumnElement[bool],
    ) -> dict[str, int]:
        """How many rows of each of ``project_ids`` (by the ``project_id`` column) match
        ``where``; a project with none is left out."""
        if not project_ids:
            return {}
        found = await self.session.execute(
            select(project_id, func.count())
            .where(project_id.in_(project_ids), *where)
            .group_by(project_id)
        )
        return {key: int(n) for key, n in found.all()}

    async def delete_where(self, model: type[Base], *where: ColumnElement[bool]) -> int:
        """Delete the rows of ``model`` that match ``where``; how many went. One statement,
        not a loaded row deleted: of two requests deleting one row at once, one finds it."""
        result = await self.session.execute(delete(model).where(*where))
        return int(getattr(result, "rowcount", 0) or 0)

    def add(self, *rows: object) -> None:
        self.session.add_all(rows)


async def ping(engine: AsyncEngine) -> None:
    """Raises unless the database answers a trivial query (the health check)."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
