"""CookieGate: who may reach a /ui page, and which form posts are taken.

Pure ASGI, in front of every /ui route (static files aside):

- a request must carry the cookie of a live session (agentid.web.sessions), checked
  against the tokens as they are now; without one a page read is sent to the sign-in form
  (303) and anything else (a form post, the event stream) gets 401: a signed-out browser
  reads nothing;
- every POST is a form (``application/x-www-form-urlencoded``, at most 64 KiB) whose
  ``csrf`` field equals the session's CSRF token (constant-time compare), else 403 before
  any route runs; the sign-in form's is compared with its own cookie (double submit);
- the session's principal is left where ``agentid.auth.principal`` finds it, so the routes
  use the API's own dependencies: a project token sees its own project only, and another
  project's page is the 404 a missing one is.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from sqlalchemy.exc import SQLAlchemyError
from starlette.datastructures import Headers
from starlette.responses import RedirectResponse
from starlette.responses import Response
from starlette.types import ASGIApp
from starlette.types import Message
from starlette.types import Receive
from starlette.types import Scope
from starlette.types import Send

from agentid.api.store_errors import unavailable
from agentid.auth import PRINCIPAL_KEY
from agentid.runtime import Runtime
from agentid.web import cookies
from agentid.web.sessions import SignedIn
from agentid.web.sessions import csrf_matches
from agentid.web.sessions import resume
from agentid.web.templating import SIGNED_KEY
from agentid.web.templating import error_page

SIGN_IN_PATH = "/ui/login"
STATIC = "/ui/static/"
FORM_BYTES = 64 * 1024
FORM_TYPE = "application/x-www-form-urlencoded"
READS = ("GET", "HEAD")


class FormTooLarge(Exception):
    pass


async def _body(receive: Receive) -> bytes:
    """The whole request body, at most FORM_BYTES of it."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > FORM_BYTES:
            raise FormTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _csrf_of(scope: Scope, body: bytes) -> str | None:
    kind = Headers(scope=scope).get("content-type", "").split(";")[0].strip().lower()
    if kind != FORM_TYPE:
        return None
    try:
        fields = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=200)
    except (UnicodeDecodeError, ValueError):
        return None
    return next((value for name, value in fields if name == "csrf"), None)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class CookieGate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(STATIC):
            await self.app(scope, receive, send)
            return
        response = await self._checked(scope, receive)
        if isinstance(response, Response):
            await response(scope, receive, send)
            return
        await self.app(scope, response, send)

    async def _checked(self, scope: Scope, receive: Receive) -> Response | Receive:
        """The answer that stops the request here, or the ``receive`` to go on with."""
        reading = scope["method"] in READS
        given: str | None = None
        if not reading:
            try:
                body = await _body(receive)
            except FormTooLarge:
                return error_page(413, "This form is larger than any form of this page.")
            given = _csrf_of(scope, body)
            receive = _replay(body, receive)
        if scope["path"] == SIGN_IN_PATH:
            if not reading and not csrf_matches(cookies.read(scope, cookies.SIGN_IN) or "", given):
                return error_page(403, "The sign-in form expired: load it again.")
            return receive
        rt: Runtime = scope["app"].state.runtime
        try:
            signed = await _resume(rt, scope)
        except SQLAlchemyError as exc:
            if (busy := unavailable(exc)) is None:
                raise
            return error_page(503, busy.message)
        if signed is None:
            if reading and not _stream(scope):
                return RedirectResponse(SIGN_IN_PATH, status_code=303)
            return error_page(401, "Signed out: sign in again.")
        if not reading and not csrf_matches(signed.csrf, given):
            return error_page(403, "This form is not from this page (its CSRF token is wrong).")
        scope[PRINCIPAL_KEY] = signed.principal
        scope[SIGNED_KEY] = signed
        return receive


def _stream(scope: Scope) -> bool:
    """An event stream (EventSource), which a redirect to a page would not help."""
    accept = Headers(scope=scope).get("accept", "")
    return scope["path"].endswith("/events") or "text/event-stream" in accept


async def _resume(rt: Runtime, scope: Scope) -> SignedIn | None:
    session_id = cookies.read(scope, cookies.SESSION)
    if session_id is None:
        return None
    async with rt.sessions() as session:
        return await resume(rt, session, session_id)
