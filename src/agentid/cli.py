"""The ``agentid`` command: run the service, and talk to it from a shell.

The server is found at ``--url`` / ``AGENTID_URL``; the token is ``--token`` / ``AGENTID_TOKEN``,
else ``AGENTID_ADMIN_TOKEN``, else the ``admin-token`` file ``agentid serve`` wrote in the data
dir. Every reading or creating command takes ``--json`` (the API's JSON on stdout). Any
``AgentIDError`` becomes one ``error: <message>`` line on stderr and exit status 1, in
``_Group.invoke`` (and ``serve``'s own). Heavy modules (the server, the extractor) are
imported inside commands.

Here: the root, projects, email set-up, tokens, ``extract``. ``cli_serve.py`` holds ``serve``
(which ``agentid.__main__``, the script's entry point, runs without importing this module);
``cli_inbox.py`` holds
aliases, ``inbox``, ``show`` and ``code``; ``cli_send.py`` ``send`` and ``outbox``;
``cli_phone.py`` ``phone ...``; ``cli_dns.py`` ``dns plan|apply|verify``; ``cli_codes.py``
``totp ...`` and ``escalations ...``;
``cli_webhooks.py`` ``webhooks add|list|delete|deliveries|replay``;
``cli_env.py`` ``env``; ``cli_postfix.py`` ``postfix-config``; ``cli_session.py`` finds the
server and the token;
``cli_output.py`` prints. Commands read the models ``agentid.client`` returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Annotated
from typing import Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from agentid.cli_codes import escalations_app
from agentid.cli_codes import totp_app
from agentid.cli_dns import dns_app
from agentid.cli_env import env
from agentid.cli_inbox import alias_app
from agentid.cli_inbox import code
from agentid.cli_inbox import inbox
from agentid.cli_inbox import show
from agentid.cli_output import console
from agentid.cli_output import print_answer
from agentid.cli_output import print_page
from agentid.cli_output import print_shown
from agentid.cli_output import table
from agentid.cli_output import when
from agentid.cli_phone import phone_app
from agentid.cli_postfix import postfix_config
from agentid.cli_send import outbox
from agentid.cli_send import send
from agentid.cli_serve import serve
from agentid.cli_session import DEFAULT_URL
from agentid.cli_session import JsonFlag
from agentid.cli_session import ProjectId
from agentid.cli_session import Session
from agentid.cli_session import all_projects
from agentid.cli_session import client_for
from agentid.cli_session import fallback_token
from agentid.cli_session import load_settings
from agentid.cli_session import whole_list
from agentid.cli_webhooks import webhooks_app
from agentid.errors import AgentIDError
from agentid.secrets_cli import secrets_app

if TYPE_CHECKING:
    from agentid.email.schemas import ProvisionOut
    from agentid.projects.schemas import ProjectOut
    from agentid.projects.schemas import TokenList

_settings = load_settings  # the name agentid.secrets_cli imports it by


class _Group(TyperGroup):
    """The root group: the one place an AgentIDError turns into an exit line."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            return super().invoke(ctx)
        except AgentIDError as err:
            typer.echo(err.exit_line(), err=True)
            raise typer.Exit(1) from None


app = typer.Typer(
    cls=_Group,
    help="agentid: email and phone identities for AI agents, and the codes they receive.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
project_app = typer.Typer(help="Create and list projects.", no_args_is_help=True)
email_app = typer.Typer(help="Set up a project's email domain.", no_args_is_help=True)
token_app = typer.Typer(help="Project tokens.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(email_app, name="email")
app.add_typer(dns_app, name="dns")
app.add_typer(alias_app, name="alias")
app.add_typer(token_app, name="token")
app.add_typer(secrets_app, name="secrets")
app.add_typer(phone_app, name="phone")
app.add_typer(totp_app, name="totp")
app.add_typer(escalations_app, name="escalations")
app.add_typer(webhooks_app, name="webhooks")


@app.callback()
def _root(
    ctx: typer.Context,
    url: Annotated[
        str, typer.Option("--url", envvar="AGENTID_URL", help="The agentid server.")
    ] = DEFAULT_URL,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="AGENTID_TOKEN", help="API token (default: admin token)."),
    ] = None,
) -> None:
    session = ctx.obj if isinstance(ctx.obj, Session) else Session()
    session.url, session.token = url, token
    ctx.obj = session


@app.command("mcp")
def mcp_stdio(
    ctx: typer.Context,
    project: Annotated[
        str | None,
        typer.Option(
            "--project", envvar="AGENTID_PROJECT", help="Project (default: the token's own)."
        ),
    ] = None,
) -> None:
    """Serve the MCP tools over stdio for a local agent (AGENTID_URL, AGENTID_TOKEN)."""
    import anyio

    from agentid.mcp_server import run_stdio

    session = ctx.obj if isinstance(ctx.obj, Session) else Session()
    anyio.run(run_stdio, session.url, session.token or fallback_token(), project)


app.command("postfix-config")(postfix_config)  # cli_postfix.py
app.command()(serve)  # cli_serve.py

for command in (inbox, show, code, send, outbox, env):  # cli_inbox.py and cli_send.py
    app.command()(command)


@project_app.command("create")
def project_create(
    ctx: typer.Context,
    id: ProjectId,
    domain: Annotated[str | None, typer.Option("--domain", help="The project's domain.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a project."""
    print_shown(client_for(ctx).create_project(id, domain=domain), as_json, _created)


def _created(project: ProjectOut) -> None:
    name, domain = escape(project.id), escape(str(project.domain))
    console().print(f"created project [bold]{name}[/] (domain {domain})")


@project_app.command("list")
def project_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List projects."""
    listed = all_projects(client_for(ctx))
    rows = [[p.id, p.domain, p.primary_address, when(p.created_at)] for p in listed.projects]
    print_page(listed, as_json, ["id", "domain", "address", "created"], rows)


@email_app.command("provision")
def email_provision(
    ctx: typer.Context,
    id: ProjectId,
    address: Annotated[str | None, typer.Option("--address", help="Primary address.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Host the project's domain for email and show the DNS records to set."""
    print_shown(client_for(ctx).provision_email(id, address=address), as_json, _provisioned)


def _provisioned(provisioned: ProvisionOut) -> None:
    address, domain = escape(provisioned.address), escape(provisioned.domain)
    console().print(f"address [bold]{address}[/] on domain {domain}")
    rows = [[r.type, r.name, r.value, r.priority] for r in provisioned.dns_records]
    table("DNS records to set", ["type", "name", "value", "priority"], rows)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    id: ProjectId,
    scope: Annotated[
        list[str] | None,
        typer.Option("--scope", help="read, write or send (repeatable; default all three)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a project token (shown once)."""
    created = client_for(ctx).create_token(id, scopes=scope)
    scopes = ", ".join(created.scopes)
    note = f"token for {created.project_id} ({scopes}); it is not shown again"
    print_answer(created, as_json, created.token, note)


@token_app.command("list")
def token_list(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """List a project's tokens (never their secrets)."""
    client = client_for(ctx)
    listed = whole_list(lambda before: client.list_tokens(id, before=before), "tokens")
    print_shown(listed, as_json, _token_lines)


def _token_lines(listed: TokenList) -> None:
    for token in listed.tokens:
        scopes = ",".join(token.scopes)
        typer.echo(f"{token.id}  {scopes:<16} {when(token.created_at)}  {token.name or ''}")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, id: ProjectId, token_id: str) -> None:
    """Revoke a project token: it stops working at once."""
    client_for(ctx).revoke_token(id, token_id)
    typer.echo(f"token {token_id} revoked", err=True)


@app.command()
def extract(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help=".eml or SMS text")],
) -> None:
    """Find codes and links in files, offline: *.eml is an email, anything else an SMS body."""
    from agentid.extract import extract_eml
    from agentid.extract import extract_sms

    failed = False
    for name in files:
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            typer.echo(f"error: cannot read {name}: {exc.strerror or exc}", err=True)
            failed = True
            continue
        if name.lower().endswith(".eml"):
            found = extract_eml(data).as_dict()
        else:
            found = extract_sms(data.decode("utf-8", errors="replace")).as_dict()
        line = {"file": name, "codes": found["codes"], "links": found["links"]}
        typer.echo(json.dumps(line, ensure_ascii=False))
    if failed:
        raise typer.Exit(1)


def main() -> None:
    """The command line, from ``agentid.__main__`` (the ``agentid`` script) for every
    command but ``serve``."""
    app()
