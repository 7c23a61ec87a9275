"""How an ``agentid`` command reaches the server: the URL, the token, the client, and the
options every command that talks to it shares.

The token is ``--token`` / ``AGENTID_TOKEN``, else ``AGENTID_ADMIN_TOKEN``, else the
``admin-token`` file ``agentid serve`` wrote in the data dir. The client (and the pydantic
models it returns) is imported only when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any
from typing import TypeVar

import typer

from agentid.errors import BadRequest
from agentid.errors import Unauthorized

if TYPE_CHECKING:
    import httpx
    from pydantic import BaseModel

    from agentid.client import Client
    from agentid.config import Settings
    from agentid.projects.schemas import ProjectList

DEFAULT_URL = "http://127.0.0.1:8400"
Page = TypeVar("Page", bound="BaseModel")

ProjectId = Annotated[str, typer.Argument(metavar="ID", help="Project id.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")]
WaitOpt = Annotated[
    float | None, typer.Option("--wait", help="Wait up to S seconds for something to arrive.")
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only newer than T (ISO time).")]
MessagesLimit = Annotated[int | None, typer.Option("--limit", help="At most N messages.")]


@dataclass
class Session:
    """Where the server is and how to authenticate; tests pass one with a transport as ``obj``."""

    url: str = DEFAULT_URL
    token: str | None = None
    transport: httpx.BaseTransport | None = None

    def client(self) -> Client:
        from agentid.client import Client

        return Client(self.url, self.token or fallback_token(), transport=self.transport)


def load_settings(**given: Any) -> Settings:
    """Settings from the environment, overridden by ``given``; a bad value is one error line."""
    from pydantic import ValidationError

    from agentid.config import Settings

    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise BadRequest(f"invalid setting {where}: {first['msg']}") from None


def fallback_token() -> str:
    from agentid.config import admin_token_path

    settings = load_settings()
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    path = admin_token_path(settings)
    try:
        token = path.read_text().strip()
    except OSError:
        token = ""
    if not token:
        raise Unauthorized(
            f"no token: set AGENTID_TOKEN (or --token), or run `agentid serve` so it writes {path}"
        )
    return token


def client_for(ctx: typer.Context) -> Client:
    session = ctx.obj if isinstance(ctx.obj, Session) else Session()
    return session.client()


def whole_list(fetch: Callable[[str | None], Page], field: str) -> Page:
    """A list read page by page (``fetch(before)``, following ``next`` to the end), as one
    page: the items of all of them under ``field``; ``next`` is None and, not being among
    the fields set, left out of ``--json``."""
    pages = [fetch(None)]
    while before := getattr(pages[-1], "next", None):  # every list model has `next`
        pages.append(fetch(before))
    items = [item for page in pages for item in getattr(page, field)]
    return pages[0].model_construct({field}, **{field: items, "next": None})


def all_projects(client: Client) -> ProjectList:
    """Every project the token sees, as one page (``agentid project list``, ``phone gc``)."""
    return whole_list(lambda before: client.list_projects(before=before), "projects")
