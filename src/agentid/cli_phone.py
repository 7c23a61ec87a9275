"""``agentid phone ...``: a project's number and the SMS it receives. ``cli.py`` registers
the group; the commands read the models ``agentid.client`` returns."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from agentid.cli_output import code_values
from agentid.cli_output import console
from agentid.cli_output import print_answer
from agentid.cli_output import print_page
from agentid.cli_output import print_shown
from agentid.cli_output import to_the_second
from agentid.cli_session import JsonFlag
from agentid.cli_session import MessagesLimit
from agentid.cli_session import ProjectId
from agentid.cli_session import SinceOpt
from agentid.cli_session import WaitOpt
from agentid.cli_session import all_projects
from agentid.cli_session import client_for
from agentid.phone.schemas import GcResult
from agentid.phone.schemas import PhoneNumberOut

phone_app = typer.Typer(help="A project's phone number and its SMS.", no_args_is_help=True)


class LineKind(StrEnum):
    local = "local"
    mobile = "mobile"
    tollfree = "tollfree"


def _number(number: PhoneNumberOut) -> None:
    pinned = ", kept" if number.keep else ""
    line = f"[bold]{escape(number.number)}[/] ({number.provider} {escape(number.sid)}, "
    console().print(line + f"{number.status}{pinned})")
    if number.warning:
        typer.echo(f"warning: {number.warning}", err=True)


@phone_app.command("provision")
def phone_provision(
    ctx: typer.Context,
    id: ProjectId,
    country: Annotated[str, typer.Option("--country", help="ISO country code.")] = "US",
    area_code: Annotated[str | None, typer.Option("--area-code", help="Area code.")] = None,
    kind: Annotated[
        LineKind | None, typer.Option("--type", help="local, mobile, tollfree.")
    ] = None,
    keep: Annotated[bool, typer.Option("--keep", help="Pin it against the collector.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Buy the project's number (the sandbox's fictional ones unless a provider is set)."""
    client = client_for(ctx)
    number = client.provision_phone(id, country=country, area_code=area_code, type=kind)
    if keep:
        number = client.keep_phone(id, True)
    print_shown(number, as_json, _number)


@phone_app.command("show")
def phone_show(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """Show the project's number."""
    print_shown(client_for(ctx).phone(id), as_json, _number)


@phone_app.command("keep")
def phone_keep(
    ctx: typer.Context,
    id: ProjectId,
    off: Annotated[bool, typer.Option("--off", help="Unpin it.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Pin the number so the inactivity collector leaves it (--off unpins)."""
    print_shown(client_for(ctx).keep_phone(id, not off), as_json, _number)


@phone_app.command("release")
def phone_release(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """Release the number at the provider (its SMS are kept)."""
    number = client_for(ctx).release_phone(id)
    print_answer(number, as_json, None, f"released {number.number}")


@phone_app.command("messages")
def phone_messages(
    ctx: typer.Context,
    id: ProjectId,
    from_: Annotated[str | None, typer.Option("--from", help="Sender contains.")] = None,
    contains: Annotated[str | None, typer.Option("--contains", help="Body contains.")] = None,
    since: SinceOpt = None,
    limit: MessagesLimit = None,
    wait: WaitOpt = None,
    as_json: JsonFlag = False,
) -> None:
    """List received SMS, newest first."""
    page = client_for(ctx).sms(
        id, from_=from_, contains=contains, since=since, limit=limit, wait=wait
    )
    rows = [
        [m.id, to_the_second(m.received_at), m.from_, m.body, code_values(m.codes)]
        for m in page.messages
    ]
    print_page(page, as_json, ["id", "received", "from", "body", "codes"], rows, "no messages")


@phone_app.command("inject")
def phone_inject(
    ctx: typer.Context,
    id: ProjectId,
    from_: Annotated[str, typer.Option("--from", help="The sender.")],
    body: Annotated[str, typer.Option("--body", help="The text.")],
    as_json: JsonFlag = False,
) -> None:
    """Deliver an SMS to the project's sandbox number, as a provider would."""
    client = client_for(ctx)
    sms = client.inject_sms(client.phone(id).number, from_, body)
    print_answer(sms, as_json, sms.id)


@phone_app.command("gc")
def phone_gc(
    ctx: typer.Context,
    inactive_days: Annotated[
        int, typer.Option("--inactive-days", min=1, help="No SMS for this many days.")
    ],
    ids: Annotated[
        list[str] | None, typer.Argument(metavar="[ID...]", help="Projects (default: all).")
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say which.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """Release unpinned numbers with no inbound SMS for N days."""
    client = client_for(ctx)
    if not ids:
        ids = [p.id for p in all_projects(client).projects]
    found = GcResult(dry_run=dry_run, numbers=[])
    for project_id in ids:
        found.numbers += client.collect_phone(project_id, inactive_days, dry_run).numbers
    print_shown(found, as_json, _collected)


def _collected(found: GcResult) -> None:
    verb = "would release" if found.dry_run else "released"
    for number in found.numbers:
        typer.echo(f"{verb} {number.number} ({number.provider} {number.sid})")
    if not found.numbers:
        typer.echo("no inactive numbers", err=True)
