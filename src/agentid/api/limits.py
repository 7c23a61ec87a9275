"""BodyLimit: a request body over its route's cap gets 413 before it is buffered.

A body whose Content-Length is over the cap is refused before a byte of it is read; one
sent chunked is counted as the route reads it and refused at the cap, so no more than the
cap (and one read) is ever held. The caps, by path pattern, first match wins:

    /projects/{project_id}/email/send   AGENTID_MAX_MAIL_BODY_BYTES (10 MiB): mail content
    /webhooks/{path:path}               64 KiB: provider webhooks
    any other path                      AGENTID_MAX_JSON_BODY_BYTES (1 MiB): JSON
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.routing import compile_path
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from agentid.api.responses import error_response
from agentid.config import Settings
from agentid.errors import PayloadTooLarge

MAIL_SEND = "/projects/{project_id}/email/send"
WEBHOOKS = "/webhooks/{path:path}"
WEBHOOK_BODY_BYTES = 64 * 1024


class BodyCaps:
    """The largest body each path takes: the first pattern (Starlette's syntax) that
    matches, else ``default``."""

    def __init__(self, routes: Mapping[str, int], default: int) -> None:
        self.routes = [(compile_path(pattern)[0], cap) for pattern, cap in routes.items()]
        self.default = default

    def cap(self, path: str) -> int:
        for regex, cap in self.routes:
            if regex.match(path):
                return cap
        return self.default


def body_caps(settings: Settings) -> BodyCaps:
    return BodyCaps(
        {MAIL_SEND: settings.max_mail_body_bytes, WEBHOOKS: WEBHOOK_BODY_BYTES},
        default=settings.max_json_body_bytes,
    )


def _message(cap: int) -> str:
    return f"request body over this route's limit of {cap} bytes"


def _declared(scope: Scope) -> int | None:
    """The Content-Length the client sent (the server has checked it is a number)."""
    try:
        return int(Headers(scope=scope)["content-length"])
    except (KeyError, ValueError):
        return None


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` at the cap. An HTTPException, so a route reading its body
    re-raises it as it is and the app's handler answers 413 in the JSON envelope."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, _message(cap))


class BodyLimit:
    """Pure ASGI: 413 (the JSON envelope) for a body over its path's cap."""

    def __init__(self, app: ASGIApp, *, caps: BodyCaps) -> None:
        self.app = app
        self.caps = caps

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.caps.cap(scope["path"])
        declared = _declared(scope)
        if declared is not None and declared > cap:
            await error_response(PayloadTooLarge(_message(cap)))(scope, receive, send)
            return

        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise BodyTooLarge(cap)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await error_response(PayloadTooLarge(_message(cap)))(scope, receive, send)
