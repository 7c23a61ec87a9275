"""Who is calling: the operator (admin token) or a project token with scopes.

Whether a token is valid at all is decided once, by the token gate (agentid.api.gate),
before a body is read; it leaves the principal in the request's scope for ``principal``.
What a principal may do is decided here: an admin-only route answers 403 to every project
token; a route on one project (agentid.api.project) answers a project token on another
project's resources 404, exactly as if the project did not exist, and 403 when the token
lacks the route's scope.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from fastapi import Request

from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.errors import Unauthorized
from agentid.names import SLUG
from agentid.runtime import Runtime

SCOPES = ("read", "write", "send")  # what each allows: the README's scope table
PRINCIPAL_KEY = "agentid.principal"  # the ASGI scope key the token gate leaves its answer in


@dataclass(frozen=True, slots=True)
class Principal:
    project_id: str | None  # None: the operator
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.project_id is None


ADMIN = Principal(None, frozenset(SCOPES))


def app_state(name: str) -> Callable[[Request], object]:
    """The dependency answering what ``create_app`` put on ``app.state``'s ``name`` (the
    runtime, the outbox sender...); the ``Annotated`` type using it says what that is."""

    def made(request: Request) -> object:
        return getattr(request.app.state, name)

    return made


RuntimeDep = Annotated[Runtime, Depends(app_state("runtime"))]


async def principal(request: Request) -> Principal:
    """The caller the token gate identified (it identifies the caller of every route that
    is not public)."""
    known = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(known, Principal):
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    return known


PrincipalDep = Annotated[Principal, Depends(principal)]


async def admin(who: PrincipalDep) -> Principal:
    if not who.is_admin:
        raise Forbidden("this route needs the operator's token")
    return who


AdminDep = Annotated[Principal, Depends(admin)]


async def project_path(request: Request, who: PrincipalDep) -> None:
    """A path id that cannot name a project is not found, before it reaches a query.

    Project tokens are refused by their own checks (403 or 404) first; this keeps the
    operator's hostile ids (NUL, 5,000 characters) away from the store.
    """
    project_id = request.path_params.get("project_id")
    if who.is_admin and project_id is not None and not SLUG.match(project_id):
        raise NotFound(f"project {project_id[:63]!r} not found")


def require_scope(who: Principal, scope: str) -> None:
    if scope not in who.scopes:
        raise Forbidden(f"this token lacks the {scope!r} scope")
