"""Errors as HTTP answers: the one JSON envelope, ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from agentid.errors import AgentIDError


def error_response(err: AgentIDError) -> JSONResponse:
    return JSONResponse(err.as_body(), status_code=err.status, headers=err.headers())
