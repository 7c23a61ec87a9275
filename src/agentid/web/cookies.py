"""The web page's cookies: what they are named and how they are set.

Both are ``HttpOnly`` (no script reads them), ``SameSite=Strict`` (no other site's page
sends them) and ``Secure`` when the browser reached us over HTTPS: the request came over it
(directly, or through a proxy whose ``X-Forwarded-Proto`` the server trusts), or
``AGENTID_PUBLIC_URL`` is https (a proxy elsewhere, whose header it does not trust: the
cookie must not lose ``Secure`` because of where the proxy runs). ``agentid_session``
names a server-side session (agentid.web.sessions) and is scoped to ``/ui``: the API never
reads a cookie.
``agentid_signin`` carries the sign-in form's CSRF token, double-submitted with the form.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import Scope

SESSION = "agentid_session"
SIGN_IN = "agentid_signin"
PATH = "/ui"
SIGN_IN_SECONDS = 3600


def secure(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    public_url = scope["app"].state.runtime.settings.public_url
    return isinstance(public_url, str) and public_url.lower().startswith("https://")


def read(scope: Scope, name: str) -> str | None:
    """The value of cookie ``name`` the request carries (None: none, or unparseable)."""
    header = Headers(scope=scope).get("cookie")
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except Exception:  # a malformed Cookie header names no session
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None else None


def put(response: Response, scope: Scope, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path=PATH, secure=secure(scope), httponly=True,
        samesite="strict",
    )  # fmt: skip


def drop(response: Response, scope: Scope, name: str) -> None:
    response.delete_cookie(name, path=PATH, secure=secure(scope), httponly=True, samesite="strict")
