"""``agentid env ID``: a project's identity as environment variables for an agent.

``sh`` prints ``export NAME='value'`` lines, every value quoted with ``shlex.quote`` so the
output is safe to ``eval`` whatever a value holds; ``dotenv`` prints ``NAME="value"`` with
``\\``, ``"``, ``$`` and newlines escaped; ``json`` one object.
"""

from __future__ import annotations

import json
import shlex
from enum import StrEnum
from typing import Annotated

import typer

from agentid.cli_session import ProjectId
from agentid.cli_session import Session
from agentid.cli_session import client_for


class Format(StrEnum):
    sh = "sh"
    dotenv = "dotenv"
    json = "json"


def render(values: dict[str, str], form: Format) -> str:
    if form is Format.json:
        return json.dumps(values, indent=2, ensure_ascii=False)
    if form is Format.sh:
        return "\n".join(f"export {name}={shlex.quote(value)}" for name, value in values.items())
    return "\n".join(f'{name}="{_dotenv_escape(value)}"' for name, value in values.items())


def _dotenv_escape(value: str) -> str:
    for plain, escaped in (("\\", "\\\\"), ('"', '\\"'), ("$", "\\$"), ("\n", "\\n")):
        value = value.replace(plain, escaped)
    return value


def env(
    ctx: typer.Context,
    id: ProjectId,
    form: Annotated[Format, typer.Option("--format", help="sh, dotenv or json.")] = Format.sh,
    no_token: Annotated[
        bool, typer.Option("--no-token", help="Leave AGENTID_TOKEN out (no token is made).")
    ] = False,
) -> None:
    """Print AGENT_EMAIL, AGENT_PHONE, AGENTID_URL, AGENTID_PROJECT and a new project-scoped
    AGENTID_TOKEN, e.g. ``eval "$(agentid env acme)"``."""
    client = client_for(ctx)
    found = client.identity(id)
    session = ctx.obj if isinstance(ctx.obj, Session) else Session()
    values = {
        "AGENT_EMAIL": found.email or "",
        "AGENT_PHONE": found.phone or "",
        "AGENTID_URL": session.url,
        "AGENTID_PROJECT": found.project,
    }
    if not no_token:
        values["AGENTID_TOKEN"] = client.create_token(id, name="agentid env").token
    typer.echo(render(values, form))
