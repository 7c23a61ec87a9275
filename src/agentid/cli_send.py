"""``agentid send`` and ``agentid outbox``: mail out through the project's relay (or to
addresses hosted here), and what became of it. ``cli.py`` registers them."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Annotated

import typer

from agentid.cli_output import print_answer
from agentid.cli_output import print_page
from agentid.cli_output import to_the_second
from agentid.cli_session import JsonFlag
from agentid.cli_session import MessagesLimit
from agentid.cli_session import ProjectId
from agentid.cli_session import client_for
from agentid.email.outbound.schemas import Attachment
from agentid.email.outbound.schemas import SendRequest

Addresses = Annotated[list[str], typer.Option("--to", help="A recipient (repeat for more).")]


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise typer.BadParameter(f"{what} {path}: {err.strerror}") from None


def send(
    ctx: typer.Context,
    id: ProjectId,
    to: Addresses,
    subject: Annotated[str, typer.Option("--subject", help="The subject.")] = "",
    text: Annotated[str | None, typer.Option("--text", help="The plain-text body.")] = None,
    html_file: Annotated[
        Path | None, typer.Option("--html-file", help="A file with the HTML body.")
    ] = None,
    cc: Annotated[list[str] | None, typer.Option("--cc", help="A Cc recipient.")] = None,
    bcc: Annotated[list[str] | None, typer.Option("--bcc", help="A Bcc recipient.")] = None,
    from_: Annotated[str | None, typer.Option("--from", help="An address of the project.")] = None,
    reply_to: Annotated[str | None, typer.Option("--reply-to", help="Reply-To address.")] = None,
    in_reply_to: Annotated[
        str | None, typer.Option("--in-reply-to", help="Id of a received message this answers.")
    ] = None,
    attach: Annotated[list[Path] | None, typer.Option("--attach", help="A file to attach.")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="Send once per key (24 h).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Queue an email; prints its id (``agentid outbox ID`` shows how it went)."""
    if text is None and html_file is None:
        raise typer.BadParameter("give --text or --html-file (or both)")
    html = _read(html_file, "--html-file").decode("utf-8", "replace") if html_file else None
    files = [
        Attachment(
            filename=path.name,
            content_type=mimetypes.guess_type(path.name)[0] or "application/octet-stream",
            content_base64=base64.b64encode(_read(path, "--attach")).decode(),
        )
        for path in attach or []
    ]
    request = SendRequest.model_validate(
        {
            "from": from_, "to": to, "cc": cc or [], "bcc": bcc or [], "reply_to": reply_to,
            "subject": subject, "text": text, "html": html, "attachments": files,
            "in_reply_to": in_reply_to, "idempotency_key": idempotency_key,
        }
    )  # fmt: skip
    accepted = client_for(ctx).send(id, request)
    print_answer(accepted, as_json, accepted.id)


def outbox(
    ctx: typer.Context,
    id: ProjectId,
    limit: MessagesLimit = None,
    as_json: JsonFlag = False,
) -> None:
    """List sent mail, newest first, with each recipient's status."""
    page = client_for(ctx).outbox(id, limit=limit)
    rows = [
        [
            m.id,
            to_the_second(m.created_at),
            ", ".join(f"{r.address} ({r.status})" for r in m.recipients),
            m.subject,
            m.status,
            m.error or "",
        ]
        for m in page.messages
    ]
    print_page(page, as_json, ["id", "queued", "recipients", "subject", "status", "error"], rows)
