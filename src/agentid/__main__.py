"""``python -m agentid`` runs the ``agentid`` command."""

from agentid.cli_serve import main

main()
