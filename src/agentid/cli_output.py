"""How the CLI prints: rich tables for people, JSON for programs.

``--json`` prints a model the way the API sent it: field names by alias (``from``), values in
their JSON form, and only the fields the answer held (``exclude_unset``), so what the API
returned comes out again, no field dropped and none added.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from pydantic import BaseModel

    from agentid.email.schemas import MessageOut

Answer = TypeVar("Answer", bound="BaseModel")


def console() -> Console:
    return Console(highlight=False)


def json_of(model: BaseModel) -> Any:
    """A model as the API sent it (see the module docstring)."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def print_model(model: BaseModel) -> None:
    print_json(json_of(model))


def print_answer(
    answer: BaseModel, as_json: bool, line: str | None, note: str | None = None
) -> None:
    """What a command answers: its JSON, or ``line`` on stdout (what a script reads: an
    id, a secret) and ``note`` on stderr (what a person reads)."""
    if as_json:
        print_model(answer)
        return
    if line is not None:
        typer.echo(line)
    if note is not None:
        typer.echo(note, err=True)


def print_shown(answer: Answer, as_json: bool, show: Callable[[Answer], object]) -> None:
    """What a command answers: its JSON, or what ``show`` prints of it for a person."""
    if as_json:
        print_model(answer)
    else:
        show(answer)


def print_code(value: str, detail: str) -> None:
    """A code: just ``value`` when stdout is not a terminal (what a script reads), else the
    value in bold and ``detail`` (where it came from, how long it holds) beside it."""
    if not sys.stdout.isatty():
        typer.echo(value)
    else:
        console().print(f"[bold green]{escape(value)}[/]  [dim]{escape(detail)}[/]")


def print_page(
    page: BaseModel,
    as_json: bool,
    columns: list[str],
    rows: list[list[Any]],
    empty: str | None = None,
) -> None:
    """A list: its JSON, or its rows as a table (or, when there are none, ``empty`` on
    stderr if given)."""
    if as_json:
        print_model(page)
    elif not rows and empty is not None:
        typer.echo(empty, err=True)
    else:
        table(None, columns, rows)


def when(value: datetime | None) -> str:
    """A time as the API writes it (``2025-01-01T09:30:00Z``); empty when there is none."""
    return "" if value is None else value.isoformat().replace("+00:00", "Z")


def to_the_second(value: datetime | None) -> str:
    """A time as a table shows it: ``2025-01-01 09:30:00`` (UTC); empty when there is none."""
    return when(value)[:19].replace("T", " ")


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


def _field(item: object, name: str) -> str:
    """``item[name]`` of a JSON object, ``item.name`` of a model, else the item itself."""
    if isinstance(item, dict):
        return str(item.get(name))
    return str(getattr(item, name, item))


def code_values(codes: Iterable[object]) -> str:
    """Code values from a message's ``codes`` (objects with ``value``, or plain strings)."""
    return ", ".join(_field(found, "value") for found in codes)


def link_urls(links: Iterable[object]) -> str:
    return ", ".join(_field(link, "url") for link in links)


def print_message(message: MessageOut) -> None:
    out = console()
    for name, value in (
        ("From", message.from_),
        ("To", ", ".join(message.to)),
        ("Subject", message.subject),
        ("Received", when(message.received_at)),
        ("Codes", code_values(message.codes)),
        ("Links", link_urls(message.links)),
    ):
        if value:
            out.print(f"[bold]{name}:[/] {escape(str(value))}", soft_wrap=True)
    if message.attachments:
        rows = [[a.index, a.filename, a.content_type, a.size] for a in message.attachments]
        table("attachments", ["#", "filename", "type", "size"], rows)
    out.print()
    out.print(message.text or "(no text part)", markup=False, soft_wrap=True)
