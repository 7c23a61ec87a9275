"""How the CLI prints: rich tables for people, JSON for programs."""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text


def console() -> Console:
    return Console(highlight=False)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """A rich table; the first column (an id or address to copy) is never cut short."""
    cells = [[Text("" if cell is None else str(cell)) for cell in row] for row in rows]
    out = Table(title=title, title_justify="left")
    for i, column in enumerate(columns):
        widest = max((len(row[i]) for row in cells), default=0) if i == 0 else None
        out.add_column(column, no_wrap=i == 0, min_width=widest)
    for row in cells:
        out.add_row(*row)
    console().print(out)


def code_values(codes: Any) -> str:
    """Code values from a message's ``codes`` (objects with ``value``, or plain strings)."""
    items = codes if isinstance(codes, list) else []
    return ", ".join(str(c.get("value")) if isinstance(c, dict) else str(c) for c in items)


def link_urls(links: Any) -> str:
    items = links if isinstance(links, list) else []
    return ", ".join(
        str(link.get("url")) if isinstance(link, dict) else str(link) for link in items
    )


def print_message(message: dict[str, Any]) -> None:
    out = console()
    to = message.get("to")
    for name, value in (
        ("From", message.get("from")),
        ("To", ", ".join(to) if isinstance(to, list) else to),
        ("Subject", message.get("subject")),
        ("Received", message.get("received_at")),
        ("Codes", code_values(message.get("codes"))),
        ("Links", link_urls(message.get("links"))),
    ):
        if value:
            out.print(f"[bold]{name}:[/] {escape(str(value))}", soft_wrap=True)
    attachments = message.get("attachments") or []
    if attachments:
        rows = [
            [a.get("index"), a.get("filename"), a.get("content_type"), a.get("size")]
            for a in attachments
        ]
        table("attachments", ["#", "filename", "type", "size"], rows)
    out.print()
    out.print(message.get("text") or "(no text part)", markup=False, soft_wrap=True)
