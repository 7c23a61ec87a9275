"""``python -m agentid`` and the ``agentid`` script.

``agentid serve`` forks the helpers' fork server first thing, before the command line or
the service imports anything but the helpers' modules (``email/inbound/processes.py``):
what the helpers share with the service is then little else. It then runs ``serve`` as a
command of its own (``cli_serve.py``), without the rest of the command line. Any other
command goes to ``agentid.cli``.
"""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:2] == ["serve"]:
        from agentid.email.inbound.processes import start_fork_server

        start_fork_server()
        from agentid.cli_serve import serve_alone

        serve_alone(sys.argv[2:])
    else:
        from agentid.cli import main as command_line

        command_line()


if __name__ == "__main__":
    main()
