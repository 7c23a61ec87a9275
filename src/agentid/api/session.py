"""The request's session: one per request, shared by its dependencies and its route.

Closed when the route returns, before the response is sent (``scope="function"``), which
rolls back whatever the route did not commit: a route that fails midway leaves nothing
half-written. Transactions are the route's to end (``agentid.store.repository``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends

from agentid.auth import RuntimeDep
from agentid.store.db import AsyncSession


async def request_session(rt: RuntimeDep) -> AsyncIterator[AsyncSession]:
    async with rt.sessions() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(request_session, scope="function")]
