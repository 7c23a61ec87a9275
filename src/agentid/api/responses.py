"""Errors as HTTP answers: the one JSON envelope, ``{"error": {"code", "message"}}``, and
its declaration in the OpenAPI schema.

``errors(...)`` is the one way a router or route declares the errors it can answer: each
error's status, described by its codes, with ``ErrorBody`` as the schema. The groups below
name what whole kinds of routes can answer; a route adds what its own work raises.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from typing import TypedDict

from fastapi.responses import JSONResponse
from fastapi.responses import Response

from agentid.errors import AgentIDError
from agentid.errors import BadRequest
from agentid.errors import Conflict
from agentid.errors import ErrorBody
from agentid.errors import Forbidden
from agentid.errors import NotFound
from agentid.errors import PayloadTooLarge
from agentid.errors import StoreUnavailable
from agentid.errors import Unauthorized
from agentid.errors import ValidationFailed

Responses = dict[int | str, dict[str, Any]]
Raised = tuple[type[AgentIDError], ...]

# Every route behind the token gate: no valid token, a parameter out of shape, a busy store.
GATED: Raised = (Unauthorized, ValidationFailed, StoreUnavailable)
# Every route on /projects/{project_id}: a token without the route's scope (or a project
# token on an admin route), and a project that does not exist or is not the token's.
ON_PROJECT: Raised = (*GATED, Forbidden, NotFound)
# Every route that reads a body: one the parser gives up on, one over the route's cap.
WITH_BODY: Raised = (BadRequest, PayloadTooLarge)


def error_response(err: AgentIDError) -> JSONResponse:
    return JSONResponse(err.as_body(), status_code=err.status, headers=err.headers())


def errors(*raised: type[AgentIDError]) -> Responses:
    """``responses=`` declaring ``raised``: per status, its error codes and ``ErrorBody``."""
    codes: dict[int, list[str]] = {}
    for error in raised:
        if error.code not in codes.setdefault(error.status, []):
            codes[error.status].append(error.code)
    return {
        status: {
            "model": ErrorBody,
            "description": f"{HTTPStatus(status).phrase} (code: {', '.join(codes[status])})",
        }
        for status in sorted(codes)
    }


class CreateArgs(TypedDict):
    """The decorator arguments of a route that creates: ``@router.post(path, **CREATES)``."""

    status_code: int
    responses: Responses


class DeleteArgs(TypedDict):
    """The decorator arguments of a route that deletes: ``@router.delete(path, **DELETES)``."""

    status_code: int
    response_class: type[Response]


# A route that creates a resource from its body: 201, or 409 when the project cannot take
# it (the name is taken, the project holds as many as it may).
CREATES: CreateArgs = {
    "status_code": HTTPStatus.CREATED.value,
    "responses": errors(Conflict, *WITH_BODY),
}
# A route that deletes: 204 and no body at all (no content type either).
DELETES: DeleteArgs = {"status_code": HTTPStatus.NO_CONTENT.value, "response_class": Response}
