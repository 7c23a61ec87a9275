"""Security headers on every /ui answer (pure ASGI).

The pages load nothing but their own static files: no inline script or style, no other
origin (``default-src 'self'``), never framed by another page (``frame-ancestors 'none'``,
``X-Frame-Options: DENY``), no referrer sent anywhere, nothing cached. A route that sets
its own ``Content-Security-Policy`` keeps it (a message's HTML has a stricter one,
agentid.web.message_html). Where the page is reached over HTTPS (agentid.web.cookies),
``Strict-Transport-Security`` tells the browser never to ask for it over plain http, where
the session cookie could be read on the way.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from agentid.web import cookies

PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
UNLESS_SET = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
HSTS = "max-age=31536000"  # a year; no includeSubDomains: other names are not ours to say


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in ALWAYS.items():
                    headers[name] = value
                for name, value in UNLESS_SET.items():
                    if name not in headers:
                        headers[name] = value
                if cookies.secure(scope):
                    headers["Strict-Transport-Security"] = HSTS
            await send(message)

        await self.app(scope, receive, with_headers)
