"""TokenGate: a request that needs a token and carries no valid one gets 401 before a
byte of its body is read.

Every path needs a token except the public ones (health, the OpenAPI schema and docs,
provider webhooks, which prove themselves by signature); a path that serves nothing is
no exception, so unauthenticated callers learn nothing about which routes exist. The gate
asks only "is this any valid token" (``identify_token``); scopes, admin-only routes (403) and
other projects (404) stay with the routes. The principal it found is left in the scope,
where ``agentid.auth.principal`` finds it.

An address that presented ``api_failed_tokens_per_minute`` wrong tokens in the last minute
(``agentid.limiter``: each request with a token counts from when it arrives, a right one is
forgiven) is limited: a wrong token, and the operator token too, then gets 429 with
``Retry-After``, so that guessing the operator token (which the operator chose) is slow
however many requests are sent at once. A project token (256 random bits: guessing one is
hopeless) is still let through, so that one client behind a shared address (NAT, a proxy)
cannot lock the others out. A request without a token guesses nothing and is not counted.
Requests being looked up count until they are found right, so an address with as many
lookups in flight at once is limited for that moment too (its project tokens still pass).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.routing import compile_path
from starlette.types import ASGIApp
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from agentid.api.responses import error_response
from agentid.api.store_errors import unavailable
from agentid.auth import ADMIN
from agentid.auth import PRINCIPAL_KEY
from agentid.auth import Principal
from agentid.crypto import hash_token
from agentid.crypto import same_secret
from agentid.errors import AgentIDError
from agentid.errors import RateLimited
from agentid.errors import Unauthorized
from agentid.limiter import TokenLimiter
from agentid.projects.repository import TokenRepository
from agentid.runtime import Runtime
from agentid.times import utcnow

MAX_TOKEN_LENGTH = 512


def _bearer(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    return value.strip()


async def identify_token(
    rt: Runtime, token: str, *, operator: bool = True
) -> tuple[Principal, str | None]:
    """The caller ``token`` names, and its token row's id (None: the operator); else 401.
    ``operator=False``: the operator token is not believed (the caller's address is
    limited). The web page's sign-in asks the same question (agentid.web.sessions)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        raise Unauthorized("invalid token")
    if operator and same_secret(token, rt.admin_token):
        return ADMIN, None
    async with rt.sessions() as session:
        row = await TokenRepository(session).by_hash(hash_token(token))
    if row is None:
        raise Unauthorized("invalid token")
    return Principal(row.project_id, frozenset(row.scopes)), row.id


class TokenGate:
    """Pure ASGI: 401 (the JSON envelope) unless the path is public or the token valid."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        public: Iterable[str],
        elsewhere: Iterable[str] = (),
        failures: int = 30,
    ) -> None:
        self.app = app
        self.guesses = TokenLimiter(attempts=failures)  # wrong tokens a client a minute
        self.public = [compile_path(path)[0] for path in public]
        # apps of their own below these prefixes, with doors of their own (the web page)
        self.elsewhere = tuple(elsewhere)

    def is_public(self, path: str) -> bool:
        if any(path == p or path.startswith(p + "/") for p in self.elsewhere):
            return True
        return any(regex.match(path) for regex in self.public)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        rt: Runtime = scope["app"].state.runtime
        client = scope.get("client")
        address = client[0] if client else "unknown"
        try:
            who = await self._identify(rt, address, Headers(scope=scope).get("authorization", ""))
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

    async def _identify(self, rt: Runtime, address: str, authorization: str) -> Principal:
        token = _bearer(authorization)  # none presented: nothing guessed, nothing counted
        wait = self.guesses.attempt(address)  # counted before anything awaits
        try:
            who, _ = await identify_token(rt, token, operator=wait is None)
        except Unauthorized:
            if wait is None:
                raise
            raise RateLimited(
                f"too many invalid tokens from this address: try again in {int(wait)} s",
                resets_at=utcnow() + timedelta(seconds=wait),
            ) from None
        except BaseException:  # the store could not answer (503), or the request went:
            if wait is None:  # no wrong token was seen
                self.guesses.succeeded(address)
            raise
        if wait is None:
            self.guesses.succeeded(address)
        return who
