"""The ``agentid`` commands an agent uses day to day: its addresses (``alias new|list|delete``)
and what arrives at them (``inbox``, ``show``, ``code``). ``cli.py`` registers them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from agentid.cli_output import code_values
from agentid.cli_output import print_answer
from agentid.cli_output import print_code
from agentid.cli_output import print_message
from agentid.cli_output import print_page
from agentid.cli_output import print_shown
from agentid.cli_output import to_the_second
from agentid.cli_output import when
from agentid.cli_session import JsonFlag
from agentid.cli_session import MessagesLimit
from agentid.cli_session import ProjectId
from agentid.cli_session import SinceOpt
from agentid.cli_session import WaitOpt
from agentid.cli_session import client_for
from agentid.cli_session import whole_list

alias_app = typer.Typer(help="Addresses on a project's domain.", no_args_is_help=True)


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
    alias = client_for(ctx).new_alias(id, label=label, local_part=local_part, expires_at=expires_at)
    print_answer(alias, as_json, alias.address)


@alias_app.command("list")
def alias_list(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """List a project's aliases."""
    client = client_for(ctx)
    listed = whole_list(lambda before: client.list_aliases(id, before=before), "aliases")
    rows = [[a.address, a.label, a.enabled, when(a.expires_at)] for a in listed.aliases]
    print_page(listed, as_json, ["address", "label", "enabled", "expires"], rows)


@alias_app.command("delete")
def alias_delete(ctx: typer.Context, id: ProjectId, address: str) -> None:
    """Delete an alias (mail to it is refused from then on)."""
    client_for(ctx).delete_alias(id, address)
    typer.echo(f"deleted {address}", err=True)


def inbox(
    ctx: typer.Context,
    id: ProjectId,
    to: Annotated[str | None, typer.Option("--to", help="Only mail to this address.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="Only mail from this.")] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Subject contains.")] = None,
    unread: Annotated[bool, typer.Option("--unread", help="Only unread messages.")] = False,
    since: SinceOpt = None,
    limit: MessagesLimit = None,
    wait: WaitOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """List received email, newest first."""
    page = client_for(ctx).inbox(
        id,
        to=to,
        from_=from_,
        subject=subject,
        unread=True if unread else None,
        since=since,
        limit=limit,
        wait=wait,
    )
    rows = [
        [
            m.id,
            to_the_second(m.received_at),
            m.from_,
            ", ".join(m.to),
            ("* " if m.unread else "") + (m.subject or ""),
            code_values(m.codes),
        ]
        for m in page.messages
    ]
    columns = ["id", "received", "from", "to", "subject", "codes"]
    print_page(page, as_json, columns, rows, "no messages")


def show(
    ctx: typer.Context,
    id: ProjectId,
    mid: Annotated[str, typer.Argument(metavar="MID", help="Message id.")],
    raw: Annotated[bool, typer.Option("--raw", help="Write the .eml bytes to stdout.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Show one message."""
    client = client_for(ctx)
    if raw:
        stream = typer.get_binary_stream("stdout")
        stream.write(client.raw(id, mid))
        stream.flush()
        return
    print_shown(client.message(id, mid), as_json, print_message)


class Channel(StrEnum):
    email = "email"
    sms = "sms"
    escalation = "escalation"  # the operator's answer


class Kind(StrEnum):
    code = "code"
    link = "link"


def code(
    ctx: typer.Context,
    id: ProjectId,
    wait: WaitOpt = None,
    since: SinceOpt = None,
    channel: Annotated[
        Channel | None, typer.Option("--channel", help="email, sms or escalation.")
    ] = None,
    kind: Annotated[
        Kind | None, typer.Option("--kind", help="code or link (default: either, codes first).")
    ] = None,
    site: Annotated[
        list[str] | None,
        typer.Option("--site", help="Only from this site, e.g. notion.so (repeatable)."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Print the newest unused verification code (or magic link) and mark it used."""
    page = client_for(ctx).codes(  # a StrEnum is its value: "email", "code"
        id,
        unused=True,
        consume=True,
        limit=1,
        wait=wait,
        since=since,
        channel=channel,
        kind=kind,
        site=site or None,
    )
    if not page.codes:
        within = f" within {wait:g}s" if wait else ""
        typer.echo(f"error: no unused code arrived{within}", err=True)
        for left in page.skipped:
            typer.echo(f"skipped {left.message_id} from {left.from_}: {left.reason}", err=True)
        raise typer.Exit(1)
    print_shown(
        page.codes[0],
        as_json,
        lambda c: print_code(c.value, f"{c.channel} from {c.from_}, {when(c.received_at)}"),
    )
