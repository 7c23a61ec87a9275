"""TokenGate: a request that needs a token and carries no valid one gets 401 before a
byte of its body is read.

Every path needs a token except the public ones (health, the OpenAPI schema and docs,
provider webhooks, which prove themselves by signature); a path that serves nothing is
no exception, so unauthenticated callers learn nothing about which routes exist. The gate
asks only "is this any valid token" (``agentid.auth.identify``); scopes, admin-only routes
(403) and other projects (404) stay with the routes. The principal it found is left in
the scope, so ``agentid.auth.principal`` does not look the token up again.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send

from agentid.api.responses import error_response
from agentid.api.store_errors import unavailable
from agentid.auth import PRINCIPAL_KEY, identify
from agentid.errors import AgentIDError
from agentid.runtime import Runtime


class TokenGate:
    """Pure ASGI: 401 (the JSON envelope) unless the path is public or the token valid."""

    def __init__(self, app: ASGIApp, *, public: Iterable[str]) -> None:
        self.app = app
        self.public = [compile_path(path)[0] for path in public]

    def is_public(self, path: str) -> bool:
        return any(regex.match(path) for regex in self.public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        rt: Runtime = scope["app"].state.runtime
        try:
            who = await identify(rt, Headers(scope=scope).get("authorization", ""))
        except AgentIDError as err:
            response = error_response(err)
        except SQLAlchemyError as exc:
            if (busy := unavailable(exc)) is None:
                raise
            response = error_response(busy)
        else:
            scope[PRINCIPAL_KEY] = who
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)
