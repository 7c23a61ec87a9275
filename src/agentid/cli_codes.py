"""``agentid totp ...`` (a project's authenticators and their codes) and ``agentid
escalations ...`` (what agents asked the operator, and the answers). ``cli.py`` registers
both groups; the commands read the models ``agentid.client`` returns.

A secret given as ``-`` (``--uri -``, ``--secret -``) is read from stdin, so it stays out
of the shell's history and the process list.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from agentid.cli_output import print_answer
from agentid.cli_output import print_code
from agentid.cli_output import print_page
from agentid.cli_output import print_shown
from agentid.cli_output import when
from agentid.cli_session import JsonFlag
from agentid.cli_session import ProjectId
from agentid.cli_session import client_for
from agentid.cli_session import whole_list
from agentid.codes.schemas import EscalationList

totp_app = typer.Typer(
    help="A project's authenticator (TOTP) secrets and their codes.", no_args_is_help=True
)
escalations_app = typer.Typer(
    help="What agents asked the operator: the open ones of every project, or answer one.",
    invoke_without_command=True,
)
Label = Annotated[str, typer.Argument(metavar="LABEL", help="The authenticator's label.")]
EscalationId = Annotated[str, typer.Argument(metavar="EID", help="Escalation id.")]


class Algorithm(StrEnum):
    SHA1 = "SHA1"
    SHA256 = "SHA256"
    SHA512 = "SHA512"


class EscalationKind(StrEnum):
    code = "code"
    link = "link"
    other = "other"


def _given(value: str | None) -> str | None:
    """A secret as given, or read from stdin when it is ``-``."""
    return sys.stdin.readline().strip() if value == "-" else value


@totp_app.command("add")
def totp_add(
    ctx: typer.Context,
    id: ProjectId,
    label: Label,
    uri: Annotated[
        str | None, typer.Option("--uri", help="The otpauth://totp/ URI (- reads stdin).")
    ] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="The base32 secret (- reads stdin).")
    ] = None,
    digits: Annotated[int | None, typer.Option("--digits", help="6 (default) to 8.")] = None,
    period: Annotated[int | None, typer.Option("--period", help="Seconds (30).")] = None,
    algorithm: Annotated[
        Algorithm | None, typer.Option("--algorithm", help="SHA1 (default), SHA256, SHA512.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Store an authenticator secret (sealed; it is never shown again)."""
    if (uri is None) == (secret is None):
        raise typer.BadParameter("give --uri or --secret")
    added = client_for(ctx).add_totp(
        label,
        _given(uri),
        secret=_given(secret),
        digits=digits,
        period=period,
        algorithm=algorithm,
        project=id,
    )
    named = ", ".join(n for n in (added.issuer, added.account) if n)
    print_answer(added, as_json, None, f"added {added.label}" + (f" ({named})" if named else ""))


@totp_app.command("list")
def totp_list(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """List a project's authenticators (never their secrets)."""
    listed = client_for(ctx).list_totp(id)
    rows = [
        [t.label, t.issuer, t.account, t.algorithm, t.digits, t.period, when(t.created_at)]
        for t in listed.totp
    ]
    columns = ["label", "issuer", "account", "algorithm", "digits", "period", "added"]
    print_page(listed, as_json, columns, rows)


@totp_app.command("code")
def totp_code(ctx: typer.Context, id: ProjectId, label: Label, as_json: JsonFlag = False) -> None:
    """Print the authenticator's current code (just the code when stdout is not a terminal)."""
    found = client_for(ctx).totp_code(label, project=id)
    print_shown(found, as_json, lambda t: print_code(t.code, f"valid {t.valid_for_seconds}s more"))


@totp_app.command("delete")
def totp_delete(ctx: typer.Context, id: ProjectId, label: Label) -> None:
    """Delete an authenticator and its secret."""
    client_for(ctx).delete_totp(label, project=id)
    typer.echo(f"deleted {label}", err=True)


def _print_escalations(listed: EscalationList, as_json: bool) -> None:
    rows = [
        [e.id, e.project_id, e.status, e.kind, e.service, e.reason, when(e.expires_at)]
        for e in listed.escalations
    ]
    columns = ["id", "project", "status", "kind", "service", "reason", "expires"]
    print_page(listed, as_json, columns, rows, "no escalations")


@escalations_app.callback()
def escalations_open(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """Every project's open escalations, newest first (the operator's token)."""
    if ctx.invoked_subcommand is not None:
        return
    client = client_for(ctx)
    listed = whole_list(lambda before: client.open_escalations(before=before), "escalations")
    _print_escalations(listed, as_json)


@escalations_app.command("list")
def escalations_list(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """A project's escalations, newest first, whatever their status."""
    client = client_for(ctx)
    listed = whole_list(lambda before: client.escalations(id, before=before), "escalations")
    _print_escalations(listed, as_json)


@escalations_app.command("open")
def escalations_ask(
    ctx: typer.Context,
    id: ProjectId,
    kind: Annotated[EscalationKind, typer.Option("--kind", help="code, link or other.")],
    reason: Annotated[str, typer.Option("--reason", help="What is needed, and why.")],
    service: Annotated[
        str | None, typer.Option("--service", help="The site, e.g. notion.so.")
    ] = None,
    expires_in: Annotated[
        int | None, typer.Option("--expires-in", help="Seconds it stays open (3600).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Ask the operator for a code, a link or other help; prints the escalation's id."""
    asked = client_for(ctx).escalate(kind, reason, service, expires_in, project=id)
    print_answer(asked, as_json, asked.id)


@escalations_app.command("answer")
def escalations_answer(
    ctx: typer.Context,
    id: ProjectId,
    eid: EscalationId,
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The code, link or answer.")],
    as_json: JsonFlag = False,
) -> None:
    """Answer an escalation (the operator's token): a code or link reaches the agent's wait."""
    answered = client_for(ctx).answer_escalation(id, eid, value)
    became = f" (code {answered.code_id})" if answered.code_id else ""
    print_answer(answered, as_json, None, f"answered {answered.id}{became}")
