"""``agentid serve``: run by itself (``serve_alone``, from ``agentid.__main__``), so that
the rest of the command line (the client, rich, the other commands: about 8 MB) stays
out of the service; registered in ``agentid.cli`` too (``agentid --help`` lists it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agentid.cli_session import load_settings
from agentid.errors import AgentIDError


def serve(
    data_dir: Annotated[Path | None, typer.Option("--data-dir", help="Where state lives.")] = None,
    host: Annotated[str | None, typer.Option("--host", help="Address to listen on.")] = None,
    http_port: Annotated[int | None, typer.Option("--http-port", help="HTTP API port.")] = None,
    smtp_port: Annotated[int | None, typer.Option("--smtp-port", help="SMTP port.")] = None,
) -> None:
    """Run the HTTP API and the SMTP listener (flags override AGENTID_* variables)."""
    given = {"data_dir": data_dir, "host": host, "http_port": http_port, "smtp_port": smtp_port}
    try:
        settings = load_settings(**{k: value for k, value in given.items() if value is not None})
        from agentid.email.inbound.processes import start_fork_server

        start_fork_server()  # done already when agentid.__main__ ran this (then a no-op)
        from agentid.server import run

        run(settings)
    except AgentIDError as err:  # a bad setting: one line, whichever app ran the command
        typer.echo(err.exit_line(), err=True)
        raise typer.Exit(1) from None


def serve_alone(args: list[str]) -> None:
    """``agentid serve ARGS`` as a one-command app."""
    app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
    app.command()(serve)
    app(args=args, prog_name="agentid serve")
