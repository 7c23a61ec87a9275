"""``/mcp``: the MCP server over streamable HTTP, behind the project token.

The token gate has already checked the token (and left the principal in the scope). A
project token works on its own project; the operator's token must name one, in the path
(``/mcp/{project}``) or with the ``X-Agentid-Project`` header (else 400; both, and they
differ: 400). The ``mcp`` SDK is imported, and its session
manager started, on the first request to /mcp, not when the service starts: a service whose
agents never use MCP keeps neither in memory (``AGENTID_MCP_HTTP=false`` leaves /mcp out).
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from agentid.api.responses import error_response
from agentid.auth import PRINCIPAL_KEY
from agentid.auth import Principal
from agentid.errors import AgentIDError
from agentid.errors import BadRequest
from agentid.errors import NotFound
from agentid.errors import Unauthorized
from agentid.names import SLUG

PROJECT_HEADER = b"x-agentid-project"
PROJECT_KEY = "agentid.mcp.project"  # the ASGI scope key the project is left in for the tools


class McpMount:
    """An ASGI app for /mcp that starts the SDK's session manager when first called."""

    def __init__(self) -> None:
        self._manager: Any = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            scope[PROJECT_KEY] = _project(scope)
        except AgentIDError as err:
            await error_response(err)(scope, receive, send)
            return
        manager = await self._started()
        await manager.handle_request(scope, receive, send)

    async def _started(self) -> Any:
        async with self._lock:
            if self._manager is None:
                from agentid.mcp_server import http_server

                manager = http_server()
                ready = asyncio.Event()

                async def run() -> None:
                    async with manager.run():
                        ready.set()
                        await self._stop.wait()

                self._runner = asyncio.create_task(run(), name="mcp-session-manager")
                await ready.wait()
                self._manager = manager
        return self._manager

    async def aclose(self) -> None:
        """Stop the session manager, if it was started (the app's lifespan calls this)."""
        self._stop.set()
        if self._runner is not None:
            await self._runner


def _project(scope: Scope) -> str:
    who = scope.get(PRINCIPAL_KEY)
    if not isinstance(who, Principal):
        raise Unauthorized("missing bearer token (Authorization: Bearer <token>)")
    headers: dict[bytes, bytes] = dict(scope.get("headers") or [])
    in_header = headers.get(PROJECT_HEADER, b"").decode("latin-1")
    in_path = str((scope.get("path_params") or {}).get("project", ""))
    if in_header and in_path and in_header != in_path:
        raise BadRequest("the project in the path and in X-Agentid-Project differ")
    named = in_path or in_header
    if not who.is_admin:
        if named and named != who.project_id:
            raise NotFound(f"project {named[:63]!r} not found")
        assert who.project_id is not None
        return who.project_id
    if not named:
        raise BadRequest(
            "with the operator's token, name the project: /mcp/<id> or X-Agentid-Project: <id>"
        )
    if not SLUG.fullmatch(named):
        raise NotFound(f"project {named[:63]!r} not found")
    return named
