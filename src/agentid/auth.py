"""Who is calling: the operator (admin token) or a project token with scopes.

A project token on another project's resources gets 404 exactly as if the project did
not exist; an admin-only route answers 403 to every project token. Whether a token is
valid at all is decided once, by ``identify``: the token gate (agentid.api.gate) calls it
before a body is read and leaves the principal in the request's scope for ``principal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from agentid.crypto import hash_token, same_secret
from agentid.errors import Forbidden, NotFound, Unauthorized
from agentid.names import SLUG
from agentid.runtime import Runtime
from agentid.store.tables import Token

SCOPES = ("read", "write", "send")  # what each allows: the README's scope table
PRINCIPAL_KEY = "agentid.principal"  # the ASGI scope key the token gate leaves its answer in


@dataclass(frozen=True, slots=True)
class Principal:
    project_id: str | None  # None: the operator
    scopes: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return self.project_id is None

    def can_see(self, project_id: str) -> bool:
        return self.is_admin or self.project_id == project_id


ADMIN = Principal(None, frozenset(SCOPES))


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def _bearer(authorization: str) -> str:
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    return value.strip()


async def identify(rt: Runtime, authorization: str) -> Principal:
    """The caller an Authorization header names: the operator or a project token; else 401."""
    token = _bearer(authorization)
    if len(token) > 512:
        raise Unauthorized("invalid token")
    if same_secret(token, rt.admin_token):
        return ADMIN
    async with rt.sessions() as session:
        row = await session.scalar(select(Token).where(Token.token_hash == hash_token(token)))
    if row is None:
        raise Unauthorized("invalid token")
    return Principal(row.project_id, frozenset(row.scopes))


async def principal(request: Request, rt: RuntimeDep) -> Principal:
    known = request.scope.get(PRINCIPAL_KEY)
    if isinstance(known, Principal):  # the token gate identified the caller already
        return known
    return await identify(rt, request.headers.get("authorization", ""))


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


def visible_project(who: Principal, project_id: str) -> str:
    """The project id when ``who`` may see it; 404 (as if absent) otherwise."""
    if not who.can_see(project_id):
        raise NotFound(f"project {project_id!r} not found")
    return project_id


def require_scope(who: Principal, scope: str) -> None:
    if scope not in who.scopes:
        raise Forbidden(f"this token lacks the {scope!r} scope")


async def project_reader(project_id: str, who: PrincipalDep) -> Principal:
    visible_project(who, project_id)
    require_scope(who, "read")
    return who


async def project_writer(project_id: str, who: PrincipalDep) -> Principal:
    visible_project(who, project_id)
    require_scope(who, "write")
    return who


ReaderDep = Annotated[Principal, Depends(project_reader)]
WriterDep = Annotated[Principal, Depends(project_writer)]
