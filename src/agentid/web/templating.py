"""Rendering the web page: Jinja2 templates (autoescaped), the context every page gets,
and the filters they share."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from pathlib import Path
from typing import Any
from typing import TypedDict
from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import HTMLResponse
from starlette.templating import Jinja2Templates

from agentid.auth import Principal

HERE = Path(__file__).parent
TEMPLATES = Jinja2Templates(directory=HERE / "templates")
SIGNED_KEY = "agentid.web.signed"  # where the gate leaves the request's session


def when(value: datetime | None) -> str:
    """A time as the page shows it: UTC, to the second."""
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def size(value: int | None) -> str:
    if value is None:
        return ""
    if value < 1024:
        return f"{value} B"
    if value < 1024 * 1024:
        return f"{value / 1024:.1f} KiB"
    return f"{value / (1024 * 1024):.1f} MiB"


def iso(value: datetime | None) -> str:
    return "" if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


TEMPLATES.env.filters.update(when=when, size=size, iso=iso)


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """``templates/<name>`` for this request: who is signed in, the CSRF token its forms
    post, and ``context``."""
    signed = request.scope.get(SIGNED_KEY)
    who: Principal | None = getattr(signed, "principal", None)
    values = {"who": who, "csrf": getattr(signed, "csrf", ""), **context}
    return TEMPLATES.TemplateResponse(request, name, values, status_code=status_code)


class Filtered(TypedDict):
    """A live, paged list's links for the filters in force: ``query`` for the older page's
    link, ``rows_url`` for the rows the live update fetches."""

    query: str
    rows_url: str


def filtered(path: str, kept: dict[str, str]) -> Filtered:
    """The links of the list at ``path`` with the filters in force (``kept``)."""
    return {"query": urlencode(kept), "rows_url": f"{path}?" + urlencode({**kept, "part": "rows"})}


def error_page(
    status_code: int, message: str, headers: dict[str, str] | None = None
) -> HTMLResponse:
    """A page saying what went wrong, rendered without a request (the gate's answers)."""
    html = TEMPLATES.get_template("error.html").render(
        status=status_code, message=message, who=None, csrf=""
    )
    return HTMLResponse(html, status_code=status_code, headers=headers)
