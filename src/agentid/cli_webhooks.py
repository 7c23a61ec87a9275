"""``agentid webhooks ...``: a project's signed outbound webhooks and their deliveries.
``cli.py`` registers the group; the commands read the models ``agentid.client`` returns."""

from __future__ import annotations

from typing import Annotated
from typing import get_args

import typer

from agentid.cli_output import print_answer
from agentid.cli_output import print_page
from agentid.cli_output import when
from agentid.cli_session import JsonFlag
from agentid.cli_session import ProjectId
from agentid.cli_session import client_for
from agentid.webhooks.schemas import WebhookEvent

webhooks_app = typer.Typer(
    help="Signed outbound webhooks (Standard Webhooks) and their deliveries.",
    no_args_is_help=True,
)
WebhookId = Annotated[str, typer.Argument(metavar="WID", help="Webhook id.")]
KINDS = ", ".join(get_args(WebhookEvent))


@webhooks_app.command("add")
def webhooks_add(
    ctx: typer.Context,
    id: ProjectId,
    url: Annotated[str, typer.Option("--url", help="Where to post: an http(s) URL.")],
    event: Annotated[
        list[str], typer.Option("--event", help=f"An event kind (repeatable): {KINDS}.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Register a webhook; prints its signing secret (shown once)."""
    made = client_for(ctx).create_webhook(id, url, event)
    note = f"webhook {made.id} for {id}; the secret is not shown again"
    print_answer(made, as_json, made.secret, note)


@webhooks_app.command("list")
def webhooks_list(ctx: typer.Context, id: ProjectId, as_json: JsonFlag = False) -> None:
    """List a project's webhooks (never their secrets)."""
    listed = client_for(ctx).list_webhooks(id)
    rows = [
        [w.id, "yes" if w.enabled else f"no: {w.disabled_reason}", ",".join(w.events), w.url]
        for w in listed.webhooks
    ]
    print_page(listed, as_json, ["id", "enabled", "events", "url"], rows)


@webhooks_app.command("delete")
def webhooks_delete(ctx: typer.Context, id: ProjectId, webhook_id: WebhookId) -> None:
    """Remove a webhook and its deliveries."""
    client_for(ctx).delete_webhook(id, webhook_id)
    typer.echo(f"webhook {webhook_id} deleted", err=True)


@webhooks_app.command("deliveries")
def webhooks_deliveries(
    ctx: typer.Context,
    id: ProjectId,
    webhook_id: WebhookId,
    limit: Annotated[int | None, typer.Option("--limit", help="At most N deliveries.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """A webhook's deliveries, newest first: status, attempts, the last answer."""
    page = client_for(ctx).webhook_deliveries(id, webhook_id, limit=limit)
    rows = [
        [d.id, d.event_type, d.status, d.attempts, d.status_code, when(d.next_attempt_at),
         d.error]
        for d in page.deliveries
    ]  # fmt: skip
    columns = ["id", "event", "status", "attempts", "last", "next attempt", "error"]
    print_page(page, as_json, columns, rows)


@webhooks_app.command("replay")
def webhooks_replay(
    ctx: typer.Context,
    id: ProjectId,
    webhook_id: WebhookId,
    delivery_id: Annotated[str, typer.Argument(metavar="DID", help="Delivery id.")],
    as_json: JsonFlag = False,
) -> None:
    """Send a delivery's event again now; prints the new delivery's id."""
    again = client_for(ctx).replay_delivery(id, webhook_id, delivery_id)
    print_answer(again, as_json, again.id)
