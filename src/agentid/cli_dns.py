"""``agentid dns plan|apply|verify ID``: a project's DNS records, from a shell.

``plan --zone`` prints only the BIND zone fragment on stdout, to redirect into a zone
file; every other form prints a table (or ``--json``, the API's JSON).
"""

from __future__ import annotations

from typing import Annotated

import typer

from agentid.cli_output import console
from agentid.cli_output import print_shown
from agentid.cli_output import table
from agentid.cli_output import when
from agentid.cli_session import JsonFlag
from agentid.cli_session import ProjectId
from agentid.cli_session import client_for
from agentid.dns.schemas import DnsApplyOut
from agentid.dns.schemas import DnsCheckOut
from agentid.dns.schemas import DnsPlanOut
from agentid.dns.schemas import DnsRecordOut
from agentid.dns.schemas import DnsVerifyOut

dns_app = typer.Typer(help="Plan, apply and verify a project's DNS records.", no_args_is_help=True)


def _records(title: str, records: list[DnsRecordOut]) -> None:
    rows = [[r.type, r.name, r.priority, r.value, r.status, r.error] for r in records]
    table(title, ["type", "name", "priority", "value", "status", "error"], rows)


def _checks(title: str, checks: list[DnsCheckOut]) -> None:
    rows = [[c.type, c.name, c.status, c.expected, " | ".join(c.found), c.reason] for c in checks]
    table(title, ["type", "name", "status", "expected", "found", "reason"], rows)


@dns_app.command("plan")
def dns_plan(
    ctx: typer.Context,
    id: ProjectId,
    zone: Annotated[bool, typer.Option("--zone", help="Only the zone fragment.")] = False,
    as_json: JsonFlag = False,
) -> None:
    """The records the project's domain needs, as planned and last applied."""
    planned = client_for(ctx).dns_plan(id)
    if zone:
        typer.echo(planned.zone, nl=False)
    else:
        print_shown(planned, as_json, _planned)


def _planned(planned: DnsPlanOut) -> None:
    console().print(f"{planned.domain}: {planned.status}, applied {when(planned.applied_at)}")
    _records("DNS records", planned.records)
    for check in planned.ptr:
        console().print(
            f"PTR {check.name} should name {check.expected}: set it at the address's provider"
        )
    if planned.verification is not None:
        _checks(
            f"last verified {when(planned.verification.checked_at)}", planned.verification.records
        )


@dns_app.command("apply")
def dns_apply(
    ctx: typer.Context,
    id: ProjectId,
    force: Annotated[
        bool, typer.Option("--force", help="Replace records agentid did not create.")
    ] = False,
    as_json: JsonFlag = False,
) -> None:
    """Write the records through the project's DNS provider."""
    print_shown(client_for(ctx).apply_dns(id, force=force), as_json, _applied)


def _applied(applied: DnsApplyOut) -> None:
    console().print(
        f"{applied.domain} via {applied.provider} (zone {applied.zone}): {applied.status}"
    )
    _records("DNS records", applied.records)


@dns_app.command("verify")
def dns_verify(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """Resolve every record again and say what is there."""
    print_shown(client_for(ctx).verify_dns(id), as_json, _verified)


def _verified(checked: DnsVerifyOut) -> None:
    _checks(f"{checked.status} at {when(checked.checked_at)}", checked.records)
