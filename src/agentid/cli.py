"""The ``agentid`` command: run the service, and talk to it from a shell.

The server is found at ``--url`` / ``AGENTID_URL``; the token is ``--token`` / ``AGENTID_TOKEN``,
else ``AGENTID_ADMIN_TOKEN``, else the ``admin-token`` file ``agentid serve`` wrote in the data
dir. Every reading or creating command takes ``--json`` (the API's JSON on stdout). Any
``AgentIDError`` becomes one ``error: <message>`` line on stderr and exit status 1, in
``_Group.invoke`` only. Heavy modules (the server, the extractor) are imported inside commands.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from typer.core import TyperGroup

from agentid.cli_output import code_values, console, print_json, print_message, table
from agentid.errors import AgentIDError, BadRequest, Unauthorized

if TYPE_CHECKING:
    import httpx

    from agentid.client import Client
    from agentid.config import Settings

DEFAULT_URL = "http://127.0.0.1:8400"


class _Group(TyperGroup):
    """The root group: the one place an AgentIDError turns into an exit line."""

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click.Context
        try:
            return super().invoke(ctx)
        except AgentIDError as err:
            typer.echo(err.exit_line(), err=True)
            raise typer.Exit(1) from None


@dataclass
class Session:
    """Where the server is and how to authenticate; tests pass one with a transport as ``obj``."""

    url: str = DEFAULT_URL
    token: str | None = None
    transport: httpx.BaseTransport | None = None

    def client(self) -> Client:
        from agentid.client import Client

        return Client(self.url, self.token or _fallback_token(), transport=self.transport)


def _settings(**given: Any) -> Settings:
    """Settings from the environment, overridden by ``given``; a bad value is one error line."""
    from pydantic import ValidationError

    from agentid.config import Settings

    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "settings"
        raise BadRequest(f"invalid setting {where}: {first['msg']}") from None


def _fallback_token() -> str:
    from agentid.config import admin_token_path

    settings = _settings()
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


def _client(ctx: typer.Context) -> Client:
    session = ctx.obj if isinstance(ctx.obj, Session) else Session()
    return session.client()


ProjectId = Annotated[str, typer.Argument(metavar="ID", help="Project id.")]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the API's JSON instead.")]
WaitOpt = Annotated[
    float | None, typer.Option("--wait", help="Wait up to S seconds for something to arrive.")
]
SinceOpt = Annotated[str | None, typer.Option("--since", help="Only newer than T (ISO time).")]

app = typer.Typer(
    cls=_Group,
    help="agentid: email (and soon phone) identities for AI agents, and the codes they receive.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
project_app = typer.Typer(help="Create and list projects.", no_args_is_help=True)
email_app = typer.Typer(help="Set up a project's email domain.", no_args_is_help=True)
alias_app = typer.Typer(help="Addresses on a project's domain.", no_args_is_help=True)
token_app = typer.Typer(help="Project tokens.", no_args_is_help=True)
app.add_typer(project_app, name="project")
app.add_typer(email_app, name="email")
app.add_typer(alias_app, name="alias")
app.add_typer(token_app, name="token")


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


@app.command()
def serve(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where state lives.")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    http_port: Annotated[int | None, typer.Option("--http-port", help="HTTP API port.")] = None,
    smtp_port: Annotated[int | None, typer.Option("--smtp-port", help="SMTP port.")] = None,
) -> None:
    """Run the HTTP API and the SMTP listener (flags override AGENTID_* variables)."""
    given = {"data_dir": data_dir, "host": host, "http_port": http_port, "smtp_port": smtp_port}
    settings = _settings(**{name: value for name, value in given.items() if value is not None})
    from agentid.server import run

    run(settings)


@project_app.command("create")
def project_create(
    ctx: typer.Context,
    id: ProjectId,
    domain: Annotated[str | None, typer.Option("--domain", help="The project's domain.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Create a project."""
    project = _client(ctx).create_project(id, domain=domain)
    if as_json:
        print_json(project)
        return
    name, domain = escape(str(project["id"])), escape(str(project.get("domain")))
    console().print(f"created project [bold]{name}[/] (domain {domain})")


@project_app.command("list")
def project_list(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List projects."""
    body = _client(ctx).list_projects()
    if as_json:
        print_json(body)
        return
    rows = [
        [p.get("id"), p.get("domain"), p.get("primary_address"), p.get("created_at")]
        for p in body.get("projects", [])
    ]
    table(None, ["id", "domain", "address", "created"], rows)


@email_app.command("provision")
def email_provision(
    ctx: typer.Context,
    id: ProjectId,
    address: Annotated[str | None, typer.Option("--address", help="Primary address.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Host the project's domain for email and show the DNS records to set."""
    body = _client(ctx).provision_email(id, address=address)
    if as_json:
        print_json(body)
        return
    address, domain = escape(str(body.get("address"))), escape(str(body.get("domain")))
    console().print(f"address [bold]{address}[/] on domain {domain}")
    rows = [
        [r.get("type"), r.get("name"), r.get("value"), r.get("priority")]
        for r in body.get("dns_records", [])
    ]
    table("DNS records to set", ["type", "name", "value", "priority"], rows)


@alias_app.command("new")
def alias_new(
    ctx: typer.Context,
    id: ProjectId,
    label: Annotated[str | None, typer.Option("--label", help="Label + random suffix.")] = None,
    local_part: Annotated[
        str | None, typer.Option("--local-part", help="Exact local part.")
    ] = None,
    expires_at: Annotated[
        str | None, typer.Option("--expires-at", help="ISO time it stops receiving.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Make a new address; prints it (so ADDR=$(agentid alias new ...) works)."""
    if label is not None and local_part is not None:
        raise typer.BadParameter("give --label or --local-part, not both")
    alias = _client(ctx).new_alias(id, label=label, local_part=local_part, expires_at=expires_at)
    if as_json:
        print_json(alias)
        return
    typer.echo(alias["address"])


@alias_app.command("list")
def alias_list(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """List a project's aliases."""
    body = _client(ctx).list_aliases(id)
    if as_json:
        print_json(body)
        return
    rows = [
        [a.get("address"), a.get("label"), a.get("enabled"), a.get("expires_at")]
        for a in body.get("aliases", [])
    ]
    table(None, ["address", "label", "enabled", "expires"], rows)


@alias_app.command("delete")
def alias_delete(ctx: typer.Context, id: ProjectId, address: str) -> None:
    """Delete an alias (mail to it is refused from then on)."""
    _client(ctx).delete_alias(id, address)
    typer.echo(f"deleted {address}", err=True)


@app.command()
def inbox(
    ctx: typer.Context,
    id: ProjectId,
    to: Annotated[str | None, typer.Option("--to", help="Only mail to this address.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Only mail from this.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Subject contains.")] = None,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread messages.")] = False,
    since: SinceOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most N messages.")] = None,
    wait: WaitOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """List received email, newest first."""
    body = _client(ctx).inbox(
        id,
        to=to,
        from_=from_,
        subject=subject,
        unread=True if unread else None,
        since=since,
        limit=limit,
        wait=wait,
    )
    if as_json:
        print_json(body)
        return
    messages = body.get("messages", [])
    if not messages:
        typer.echo("no messages", err=True)
        return
    rows = [
        [
            m.get("id"),
            str(m.get("received_at") or "")[:19].replace("T", " "),
            m.get("from"),
            ", ".join(m["to"]) if isinstance(m.get("to"), list) else m.get("to"),
            ("* " if m.get("unread") else "") + str(m.get("subject") or ""),
            code_values(m.get("codes")),
        ]
        for m in messages
    ]
    table(None, ["id", "received", "from", "to", "subject", "codes"], rows)


@app.command()
def show(
    ctx: typer.Context,
    id: ProjectId,
    mid: Annotated[str, typer.Argument(metavar="MID", help="Message id.")],
    raw: Annotated[bool, typer.Option("--raw", help="Write the .eml bytes to stdout.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show one message."""
    client = _client(ctx)
    if raw:
        stream = typer.get_binary_stream("stdout")
        stream.write(client.raw(id, mid))
        stream.flush()
        return
    message = client.message(id, mid)
    if as_json:
        print_json(message)
        return
    print_message(message)


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
    body = _client(ctx).create_token(id, scopes=scope)
    if as_json:
        print_json(body)
        return
    typer.echo(body["token"])
    scopes = ", ".join(body.get("scopes") or [])
    typer.echo(f"token for {body.get('project_id')} ({scopes}); it is not shown again", err=True)


@token_app.command("list")
def token_list(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """List a project's tokens (never their secrets)."""
    client = _client(ctx)
    tokens: list[dict[str, Any]] = []
    before: str | None = None
    while True:
        page = client.list_tokens(id, before=before)
        tokens.extend(page.get("tokens") or [])
        before = page.get("next")
        if not before:
            break
    if as_json:
        print_json({"tokens": tokens})
        return
    for token in tokens:
        scopes = ",".join(token.get("scopes") or [])
        name = token.get("name") or ""
        typer.echo(f"{token.get('id')}  {scopes:<16} {token.get('created_at')}  {name}")


@token_app.command("revoke")
def token_revoke(ctx: typer.Context, id: ProjectId, token_id: str) -> None:
    """Revoke a project token: it stops working at once."""
    _client(ctx).revoke_token(id, token_id)
    typer.echo(f"token {token_id} revoked", err=True)


class Channel(StrEnum):
    email = "email"
    sms = "sms"


class Kind(StrEnum):
    code = "code"
    link = "link"


@app.command()
def code(
    ctx: typer.Context,
    id: ProjectId,
    wait: WaitOpt = None,
    since: SinceOpt = None,
    channel: Annotated[Channel | None, typer.Option("--channel", help="email or sms.")] = None,
    kind: Annotated[
        Kind | None, typer.Option("--kind", help="code or link (default: either, codes first).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print the newest unused verification code (or magic link) and mark it used."""
    body = _client(ctx).codes(
        id,
        unused=True,
        consume=True,
        limit=1,
        wait=wait,
        since=since,
        channel=channel.value if channel else None,
        kind=kind.value if kind else None,
    )
    codes = body.get("codes") or []
    if not codes:
        within = f" within {wait:g}s" if wait else ""
        typer.echo(f"error: no unused code arrived{within}", err=True)
        raise typer.Exit(1)
    found = codes[0]
    if as_json:
        print_json(found)
        return
    if not sys.stdout.isatty():
        typer.echo(found["value"])
        return
    where = f"{found.get('channel')} from {found.get('from')}, {found.get('received_at')}"
    console().print(f"[bold green]{escape(str(found['value']))}[/]  [dim]{escape(where)}[/]")


@app.command()
def extract(
    files: Annotated[list[str], typer.Argument(metavar="FILE...", help=".eml or SMS text")],
) -> None:
    """Find codes and links in files, offline: *.eml is an email, anything else an SMS body."""
    from agentid.extract import extract_eml, extract_sms

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
    """Entry point of the ``agentid`` script."""
    app()
