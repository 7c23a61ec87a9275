"""Sign-in sessions of the operator's web page.

A token pasted once becomes a session: a random id (``secrets.token_urlsafe``) that only
the browser's cookie holds; the store keeps its SHA-256, when it ends
(``AGENTID_UI_SESSION_HOURS``) and a CSRF token every form posts back. The token itself is
never stored: a project token's session names its token row and reads its project and
scopes from it at every request, so a revoked token's sessions end with it (its rows go
with the token); the operator's keeps the admin token's SHA-256, so a changed admin token
ends them. Signing out deletes the row.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from agentid.api.gate import identify_token
from agentid.auth import ADMIN
from agentid.auth import Principal
from agentid.crypto import hash_token
from agentid.crypto import same_secret
from agentid.runtime import Runtime
from agentid.store.db import AsyncSession
from agentid.store.tables import Token
from agentid.store.tables import UiSession
from agentid.times import utcnow
from agentid.web.repository import UiSessionRepository

MAX_SESSION_ID = 128  # a cookie longer than any id we hand out is no session


@dataclass(frozen=True, slots=True)
class SignedIn:
    """Who a session is, as of this request, and the CSRF token its forms carry."""

    principal: Principal
    csrf: str
    id_hash: str


async def sign_in(rt: Runtime, session: AsyncSession, token: str) -> tuple[str, SignedIn]:
    """A new session for ``token`` (401 when it is no valid token): its id, for the
    cookie, and what it signs in as."""
    principal, token_id = await identify_token(rt, token.strip())
    session_id = secrets.token_urlsafe(32)
    now = utcnow()
    row = UiSession(
        id_hash=hash_token(session_id),
        token_id=token_id,
        admin_hash=hash_token(rt.admin_token) if token_id is None else None,
        csrf=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=rt.settings.ui_session_hours),
    )
    repo = UiSessionRepository(session)
    await repo.purge(now)
    repo.add(row)
    await session.commit()
    return session_id, SignedIn(principal, row.csrf, row.id_hash)


async def resume(rt: Runtime, session: AsyncSession, session_id: str) -> SignedIn | None:
    """The session a cookie names, checked again against the tokens as they are now; None
    when it never was, has ended, or its token was revoked or changed."""
    if not session_id or len(session_id) > MAX_SESSION_ID:
        return None
    return await resume_by_hash(rt, session, hash_token(session_id))


async def resume_by_hash(rt: Runtime, session: AsyncSession, id_hash: str) -> SignedIn | None:
    """``resume`` for a session already found once (its id's hash): still live?"""
    repo = UiSessionRepository(session)
    found = await repo.find(id_hash)
    await session.commit()
    if found is None:
        return None
    row, token = found
    principal = _principal(rt, row, token)
    if principal is None or row.expires_at <= utcnow():
        await repo.end(id_hash)
        await session.commit()
        return None
    return SignedIn(principal, row.csrf, id_hash)


def _principal(rt: Runtime, row: UiSession, token: Token | None) -> Principal | None:
    if row.token_id is not None:
        if token is None:
            return None  # revoked (SQLite and PostgreSQL delete the row with it, too)
        return Principal(token.project_id, frozenset(token.scopes))
    if row.admin_hash is None or not same_secret(row.admin_hash, hash_token(rt.admin_token)):
        return None
    return ADMIN


async def sign_out(session: AsyncSession, id_hash: str) -> None:
    await UiSessionRepository(session).end(id_hash)
    await session.commit()


def csrf_matches(expected: str, given: str | None) -> bool:
    """A form's CSRF token against the session's, in constant time."""
    return bool(expected) and bool(given) and same_secret(expected, given or "")
