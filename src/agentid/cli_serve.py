"""``agentid serve``, and the ``agentid`` script's entry point (``main``).

The script hands ``serve`` to the command's own one-command app here, before importing
the rest of the command line: the client, rich and the other commands stay out of the
service (their pages were about 8 MB of its idle memory). Any other command goes to
``agentid.cli``, where ``serve`` is registered too (``agentid --help`` lists it).
"""

from __future__ import annotations

import sys
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

        start_fork_server()  # before the server's modules and threads: see its docstring
        from agentid.server import run

        run(settings)
    except AgentIDError as err:  # a bad setting: one line, whichever app ran the command
        typer.echo(err.exit_line(), err=True)
        raise typer.Exit(1) from None


def main() -> None:
    """Entry point of the ``agentid`` script."""
    if sys.argv[1:2] == ["serve"]:
        app = typer.Typer(add_completion=False, pretty_exceptions_show_locals=False)
        app.command()(serve)
        app(args=sys.argv[2:], prog_name="agentid serve")
    else:
        from agentid.cli import main as command_line

        command_line()
