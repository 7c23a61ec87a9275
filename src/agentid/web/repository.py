"""Statements on the web page's sign-in sessions (``ui_sessions``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy import select

from agentid.store.repository import Repository
from agentid.store.tables import Token
from agentid.store.tables import UiSession


class UiSessionRepository(Repository):
    async def find(self, id_hash: str) -> tuple[UiSession, Token | None] | None:
        """The session and, for a project token's, its token row as it is now (None when
        the token was revoked, or for the operator's)."""
        found = await self.session.execute(
            select(UiSession, Token)
            .outerjoin(Token, Token.id == UiSession.token_id)
            .where(UiSession.id_hash == id_hash)
        )
        row = found.one_or_none()
        return None if row is None else (row[0], row[1])

    async def end(self, id_hash: str) -> None:
        await self.session.execute(delete(UiSession).where(UiSession.id_hash == id_hash))

    async def purge(self, now: datetime) -> None:
        """Sessions past their end go (a sign-in clears them: nothing else has to run)."""
        await self.session.execute(delete(UiSession).where(UiSession.expires_at <= now))
